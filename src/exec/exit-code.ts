/** Exit status conventions of `aivault exec` (SPEC §5), shared with timeout(1)/env(1)/shells. */
import os from 'node:os';

export const EXIT_TIMEOUT = 124;
/** aivault itself failed (setup, broker death, internal error). */
export const EXIT_LAUNCHER = 125;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;

export function signalNumber(signal: NodeJS.Signals): number {
  return (os.constants.signals as Record<string, number | undefined>)[signal] ?? 0;
}

/** The child's exit code, or 128+N when it died of signal N. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) {
    const n = signalNumber(signal);
    return n > 0 ? 128 + n : EXIT_LAUNCHER;
  }
  return code ?? EXIT_LAUNCHER;
}
