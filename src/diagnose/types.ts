/**
 * Why a hardened container died: the input (what the engine said about it, its last log lines, the
 * body sdocker sent and the profile it decided with) and the findings, each naming the hardening
 * that caused it and the profile lines (or flags) that would fix it. `sdocker learn` can feed the
 * same input from a trial run.
 */
import type { CreateBody } from '../api/types.js';
import type { PasswdEntry } from '../policy/user-names.js';
import type { RuleId } from '../policy/rules.js';
import type { TmpfsDefault } from '../policy/types.js';

export interface DiagnosisInput {
  /** The container's exit status (State.ExitCode, or the wait's StatusCode). */
  exitCode: number;
  /** State.OOMKilled; undefined when the container was already removed (--rm). */
  oomKilled?: boolean;
  /** The last lines of its output, stdout and stderr interleaved, oldest first. */
  logLines: string[];
  /** The create body as sent (after the policy). */
  body: CreateBody;
  /** The image's USER ('' or undefined: root). */
  imageUser?: string;
  /** The image's /etc/passwd entries, when read; names the container's user and the owners. */
  passwd?: PasswdEntry[];
  /** Paths named in the logs that exist in the container: owner and whether a directory. */
  owners?: Record<string, PathFact>;
  /** What the effective profile already says, so a fix lists the whole new value. */
  profile: {
    tmpfs: TmpfsDefault[];
    capabilities: string[];
    memory: number;
    pids: number;
    seccomp: string;
  };
}

export interface PathFact {
  uid: number;
  gid: number;
  dir: boolean;
}

export type FindingKind = 'read-only' | 'not-owner' | 'switch-user' | 'capability' | 'syscall' | 'oom' | 'pids' | 'low-port';

/** The profile lines that fix a finding (merged over every finding into one suggestion). */
export interface ProfileFix {
  defaults?: {
    user?: string;
    tmpfs?: TmpfsDefault[];
    capabilities?: string[];
    memory?: string;
    pids?: number;
    seccomp?: string;
  };
  allow?: {
    capabilities?: { name: string; reason: string }[];
    root?: { reason: string };
  };
}

export interface Finding {
  kind: FindingKind;
  /** The hardening that caused it. */
  rule: RuleId;
  /** What happened, in one line. */
  summary: string;
  /** The log line that shows it. */
  evidence?: string;
  path?: string;
  fix: ProfileFix;
  /** The same fix as command-line flags, for one run. */
  flags: string[];
  /** A caveat or alternative. */
  note?: string;
}

export interface Diagnosis {
  exitCode: number;
  oomKilled: boolean;
  /** The container's user as it ran: "uid:gid" and the name when known. */
  user: { uid: number; gid: number; name?: string };
  findings: Finding[];
  /** Every finding's fix merged: the sdocker.yaml lines to add. */
  fix: ProfileFix;
  /** The last log lines (for the text report when nothing was recognised). */
  logTail: string[];
}
