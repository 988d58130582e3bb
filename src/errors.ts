/**
 * Typed errors. Each carries the exit code docker would use for the same failure,
 * so the entry point (the only code touching `process`) can exit with it.
 */
export class SdockerError extends Error {
  /** 125: sdocker's or the daemon's error; 126: command cannot be invoked; 127: command not found. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 125) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
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
