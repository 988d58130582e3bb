/**
 * Pull progress on a terminal, drawn as docker draws it (moby's jsonmessage.DisplayJSONMessagesStream
 * with isTerminal): one line per layer, redrawn in place. A message with an id and a progress
 * (progressDetail present) gets a line of its own the first time its id is seen; later messages
 * for it move the cursor up to that line (ESC[nA), erase it (ESC[2K, CR), write it and move back
 * down (ESC[nB). A message without an id or progress is written below and forgets the lines above
 * (a later layer id starts a new block). A progress line is erased and ends in CR (the cursor stays
 * on it); any other line ends in LF. Progress bars are rendered from progressDetail
 * (current/total) as JSONProgress.String does, at the terminal's width.
 */
import type { Writable } from 'node:stream';
import { EngineError } from '../errors.js';

export interface JsonMessage {
  id?: string;
  status?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number; start?: number; units?: string; hidecounts?: boolean };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

/** clearLine (ESC[2K) and the carriage return Display writes before a progress line. */
const CLEAR_LINE = '\x1b[2K\r';
const up = (n: number) => (n > 0 ? `\x1b[${n}A` : '');
const down = (n: number) => (n > 0 ? `\x1b[${n}B` : '');

/** go-units HumanSize: decimal units, four significant digits (`1.234MB`, `512B`). */
export function humanSize(size: number): string {
  const abbrs = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let i = 0;
  let s = size;
  while (s >= 1000 && i < abbrs.length - 1) {
    s /= 1000;
    i++;
  }
  // Go's %.4g: four significant digits, trailing zeros dropped.
  const g = Number(s.toPrecision(4));
  return `${g}${abbrs[i]}`;
}

/** Go's time.Duration String for whole seconds: 1h2m3s, 4m5s, 6s, 0s. */
function durationString(sec: number): string {
  if (sec <= 0) return '0s';
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

/** JSONProgress.String: `[=====>        ]  1.2MB/3.4MB 5s`; the bar only on terminals wider than 110. */
export function progressString(p: NonNullable<JsonMessage['progressDetail']>, width: number, nowSec: number): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  let pct = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (pct > 50) pct = 50;
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] `;
  let numbers = '';
  if (!p.hidecounts) {
    if (!p.units) numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
    else numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  }
  let left = '';
  if (current > 0 && p.start && p.start > 0 && pct < 50 && width > 50) {
    const per = (nowSec - p.start) / current;
    left = ` ${durationString(Math.trunc((total - current) * per))}`;
  }
  return bar + numbers + left;
}

export class TtyProgressRenderer {
  private ids = new Map<string, number>();
  constructor(
    private readonly out: Writable,
    private readonly width: () => number,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  message(m: JsonMessage): void {
    if (m.errorDetail?.message || m.error) {
      throw new EngineError(m.errorDetail?.message ?? m.error ?? 'pull failed', 500);
    }
    let diff = 0;
    let s = '';
    if (m.id && m.progressDetail !== undefined) {
      let line = this.ids.get(m.id);
      if (line === undefined) {
        line = this.ids.size;
        this.ids.set(m.id, line);
        s += '\n';
      }
      diff = this.ids.size - line;
      s += up(diff);
    } else {
      this.ids = new Map();
    }
    if (m.progressDetail !== undefined) s += CLEAR_LINE;
    if (m.id) s += `${m.id}: `;
    if (m.progressDetail !== undefined) s += `${m.status ?? ''} ${progressString(m.progressDetail, this.width(), this.now())}\r`;
    else s += `${m.status ?? ''}\n`;
    if (m.id) s += down(diff);
    this.out.write(s);
  }
}
