/**
 * Signal proxy (--sig-proxy, without a TTY): every signal the client receives is sent to the
 * container by name through the engine's kill (EngineApi.containers.kill), except SIGCHLD, SIGPIPE and
 * SIGURG (docker's exceptions) and those a process cannot catch or node cannot listen to
 * (SIGKILL, SIGSTOP, and the synchronous faults SIGSEGV/SIGBUS/SIGFPE/SIGILL), and SIGPROF,
 * which node's own profiler uses.
 */
import type { ProcessIO } from '../io/process-io.js';
import type { EngineApi } from '../engine/api.js';

export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTRAP', 'SIGABRT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGTERM',
  'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM',
  'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

/** Start forwarding; returns the function that stops it. Errors of the kill calls are ignored, as docker does. */
export function forwardSignals(api: EngineApi, io: ProcessIO, containerId: string): () => void {
  const offs: Array<() => void> = [];
  for (const sig of FORWARDED_SIGNALS) {
    try {
      offs.push(
        io.onSignal(sig, () => {
          api.containers.kill(containerId, sig).catch(() => undefined);
        }),
      );
    } catch {
      // A signal this platform does not know: nothing to forward.
    }
  }
  return () => {
    for (const off of offs.splice(0)) off();
  };
}
