/**
 * ssh:// endpoints, as docker's connhelper does it: every connection is an
 * `ssh [-l user] [-p port] -o ConnectTimeout=30 -T -- host docker system dial-stdio` process,
 * whose stdin/stdout carry the HTTP connection. Loaded only for ssh endpoints.
 */
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

class CommandConnection extends Duplex {
  private readonly child;
  private stderrText = '';

  constructor(program: string, args: string[]) {
    super({ allowHalfOpen: true });
    this.child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = this.child.stdout;
    out.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) out.pause();
    });
    out.on('end', () => this.push(null));
    this.child.stderr.on('data', (c: Buffer) => {
      if (this.stderrText.length < 4096) this.stderrText += c.toString('utf8');
    });
    this.child.on('error', (err) => this.destroy(err));
    this.child.on('exit', (code, signal) => {
      if (code !== 0 && code !== null && !this.destroyed && this.readableLength === 0 && !out.readableEnded) {
        this.destroy(new Error(`ssh exited with status ${code}: ${this.stderrText.trim()}`));
      } else if (signal && !this.destroyed) {
        this.push(null);
      }
    });
    this.child.stdin.on('error', () => undefined);
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.child.stdin.write(chunk, (err) => cb(err ?? null));
  }

  override _final(cb: (err?: Error | null) => void): void {
    // Half-close: the remote dial-stdio forwards the EOF to the daemon.
    this.child.stdin.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    cb(err);
  }

  // What node:http and its Agent call on a socket.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  /** The Agent unrefs idle keep-alive sockets: do the same to the process and its pipes so they do not hold the event loop. */
  ref(): this {
    this.child.ref();
    for (const p of [this.child.stdin, this.child.stdout, this.child.stderr]) (p as unknown as { ref?: () => void }).ref?.();
    return this;
  }
  unref(): this {
    this.child.unref();
    for (const p of [this.child.stdin, this.child.stdout, this.child.stderr]) (p as unknown as { unref?: () => void }).unref?.();
    return this;
  }
}

export function sshConnection(args: string[], program = 'ssh'): Duplex {
  return new CommandConnection(program, args);
}
