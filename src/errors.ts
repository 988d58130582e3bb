/**
 * Typed errors. Each carries the exit code docker would use for the same failure,
 * so the entry point (the only code touching `process`) can exit with it.
 */

/**
 * The brand of an sdocker error, a registry symbol: the same in every bundle. sdocker's own
 * commands are bundled apart from main.cjs (scripts/bundle.mjs), each with its own copy of these
 * classes, so main.ts cannot tell an error thrown there with `instanceof`; it reads the brand.
 */
const BRAND = Symbol.for('sdocker.error');

/** What the entry point needs of an error to report it, whichever bundle threw it. */
export interface BrandedError {
  message: string;
  exitCode: number;
  /** The engine's refusal (EngineError): printed as docker prints it. */
  fromDaemon: boolean;
}

export class SdockerError extends Error {
  /** 125: sdocker's or the daemon's error; 126: command cannot be invoked; 127: command not found. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 125) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
    // Not enumerable: JSON and util.inspect of an error show what they showed before.
    Object.defineProperty(this, BRAND, { value: { fromDaemon: this instanceof EngineError } });
  }
}

/** An sdocker error from any bundle (by its brand), or undefined for anything else. */
export function sdockerErrorOf(err: unknown): BrandedError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const brand = (err as { [BRAND]?: unknown })[BRAND] as { fromDaemon?: unknown } | undefined;
  const { message, exitCode } = err as { message?: unknown; exitCode?: unknown };
  if (typeof brand !== 'object' || typeof message !== 'string' || typeof exitCode !== 'number') return undefined;
  return { message, exitCode, fromDaemon: brand.fromDaemon === true };
}

/** Bad input on the command line or in a file: the message names the flag, or the file and line. */
export class UsageError extends SdockerError {
  constructor(message: string) {
    super(message, 125);
  }
}

/** The engine answered with an error status. */
export class EngineError extends SdockerError {
  readonly statusCode: number;
  constructor(message: string, statusCode: number, exitCode = 125) {
    super(message, exitCode);
    this.statusCode = statusCode;
  }
}

/** The run was refused by policy; the message lists every rule broken. */
export class PolicyError extends SdockerError {
  constructor(message: string) {
    super(message, 125);
  }
}
