import type { Readable, Writable } from 'node:stream';

/**
 * Everything of the calling process that the session needs, handed in by the entry point
 * (src/cli/main.ts), the only module that touches `process`. Tests pass their own.
 */
export interface ProcessIO {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** The uid of the user running sdocker: the owner label of the containers it creates. */
  uid?: number;
  /** Subscribe to a signal by name (e.g. 'SIGTERM'); returns the unsubscribe function. */
  onSignal(signal: NodeJS.Signals, handler: () => void): () => void;
  /** Subscribe to terminal resizes of stdout; returns the unsubscribe function. */
  onResize(handler: () => void): () => void;
}
