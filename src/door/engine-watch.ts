/**
 * What the door knows of changes to the engine, from the engine's own event stream (GET /events,
 * container creates and daemon events): the ground on which a remembered GET /info may stand in
 * for the engine's answer.
 *
 * GET /info costs the engine 15-30 ms of work on every create (measured on dockerd 20.10 on two
 * cores: a create with it, overlapped or not, takes that much longer than one without). Its answer
 * changes only when the daemon restarts (the stream breaks) or reloads its configuration (a
 * `daemon reload` event). So a /info answer asked for while the stream was open, with no daemon
 * event and no break since, is still the engine's answer ("epoch": a count of such changes).
 *
 * A create decided on a remembered answer is confirmed in the engine's own order of events: its
 * `container create` event must arrive with the epoch unchanged. A reload that took effect before
 * the create has its event before the create's, so it is seen; a break, a daemon event, or no
 * create event within the time limit answer "not confirmed", and the door decides again on a
 * fresh /info (the container made on the remembered one is removed before the client sees it).
 */
import type { Readable } from 'node:stream';

/** Opens the event stream (GET /events with the filters below); rejects when the engine cannot be reached. */
export type OpenEvents = () => Promise<Readable>;

/** Only what the watch needs: containers created, and the daemon's own events (reload...). */
export const EVENT_FILTERS = JSON.stringify({ type: ['container', 'daemon'], event: ['create', 'reload'] });

/** How long a create waits for its event before it is taken as not confirmed. */
const CONFIRM_MS = 2000;
/** Create events remembered before anyone asked for them (other clients' containers). */
const SEEN_KEPT = 512;
const RETRY_MS = 1000;

interface EngineEvent {
  Type?: string;
  Action?: string;
  id?: string;
  Actor?: { ID?: string };
}

export class EngineWatch {
  /** Changes since the watch began: each break, reconnection and daemon event counts one. */
  epoch = 0;
  connected = false;
  private started = false;
  private stopped = false;
  private readonly seen = new Set<string>();
  private readonly waiters = new Map<string, (ok: boolean) => void>();

  constructor(private readonly open: OpenEvents, private readonly retryMs = RETRY_MS) {}

  /** Begin watching (once; later calls do nothing). */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.change(false);
  }

  /** The engine's answers remembered at `epoch` still hold (nothing changed, the stream open). */
  holds(epoch: number | undefined): boolean {
    return this.connected && epoch === this.epoch;
  }

  /**
   * Whether container `id`, made on an answer remembered at `epoch`, was made with nothing changed
   * since: its create event arrives with the epoch unchanged (false on any change, or in time).
   */
  confirm(id: string, epoch: number): Promise<boolean> {
    if (!this.holds(epoch)) return Promise.resolve(false);
    if (this.seen.delete(id)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, false), CONFIRM_MS);
      timer.unref?.();
      this.waiters.set(id, (ok) => {
        clearTimeout(timer);
        resolve(ok && this.holds(epoch));
      });
    });
  }

  private settle(id: string, ok: boolean): void {
    const w = this.waiters.get(id);
    this.waiters.delete(id);
    w?.(ok);
  }

  /** A change: the epoch moves on, and every create still waiting is not confirmed. */
  private change(connected: boolean): void {
    this.epoch++;
    this.connected = connected;
    for (const id of [...this.waiters.keys()]) this.settle(id, false);
    this.seen.clear();
  }

  private onEvent(e: EngineEvent): void {
    if (e.Type === 'container' && e.Action === 'create') {
      const id = e.Actor?.ID ?? e.id;
      if (!id) return;
      if (this.waiters.has(id)) this.settle(id, true);
      else {
        this.seen.add(id);
        if (this.seen.size > SEEN_KEPT) this.seen.delete(this.seen.values().next().value as string);
      }
      return;
    }
    // Anything the daemon itself says (a reload of its configuration, ...).
    this.change(true);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let stream: Readable;
    try {
      stream = await this.open();
    } catch {
      this.retry();
      return;
    }
    if (this.stopped) {
      stream.destroy();
      return;
    }
    this.change(true);
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        try {
          this.onEvent(JSON.parse(line) as EngineEvent);
        } catch {
          // not an event we can read: whatever it said may have changed the engine
          this.change(true);
        }
      }
    });
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.change(false);
      this.retry();
    };
    stream.on('error', end);
    stream.on('close', end);
    stream.on('end', end);
  }

  private retry(): void {
    if (this.stopped) return;
    const t = setTimeout(() => void this.connect(), this.retryMs);
    t.unref?.();
  }
}
