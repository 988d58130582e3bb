/**
 * The last lines a container wrote, kept while its output streams through sdocker (the attach
 * stream, or GET /logs): a small ring, so a foreground `--rm` run can be diagnosed after the
 * engine has removed the container and its logs.
 */
import { FrameParser } from '../api/demux.js';

/** Longest partial line kept (a container writing without newlines must not grow the buffer). */
const MAX_LINE = 4096;

export class OutputTail {
  private readonly lines: string[] = [];
  private readonly partial: Record<1 | 2, string> = { 1: '', 2: '' };
  private readonly parser: FrameParser | undefined;

  /** `multiplexed`: the stream carries docker's 8-byte frame headers (no TTY). */
  constructor(multiplexed: boolean, private readonly max = 50) {
    this.parser = multiplexed ? new FrameParser((s, d) => this.text(s, d)) : undefined;
  }

  feed(chunk: Buffer): void {
    try {
      if (this.parser) this.parser.push(chunk);
      else this.text(1, chunk);
    } catch {
      // a malformed frame: the tail is best effort, the output itself is demuxed elsewhere
    }
  }

  private text(stream: 1 | 2, data: Buffer): void {
    const parts = (this.partial[stream] + data.toString('utf8')).split(/\r?\n|\r/);
    this.partial[stream] = (parts.pop() ?? '').slice(-MAX_LINE);
    for (const p of parts) this.push(p);
  }

  private push(line: string): void {
    this.lines.push(line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }

  /** The kept lines, with each stream's unterminated last line. */
  get(): string[] {
    const out = [...this.lines];
    for (const s of [1, 2] as const) if (this.partial[s]) out.push(this.partial[s]);
    return out.slice(-this.max);
  }
}
