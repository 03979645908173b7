/**
 * Launcher-death watchdog (SPEC §5: "if the broker dies the child is killed"). The broker lives in
 * the launcher, so a launcher killed with SIGKILL takes the broker and every token with it, but
 * nothing in Node can react to its own SIGKILL. A tiny `sh` process, in its own process group,
 * holds the read end of a pipe from the launcher:
 *   - the launcher ends normally → it writes `done` first → the watchdog exits quietly;
 *   - the launcher dies abruptly → the pipe reads EOF → the watchdog SIGKILLs the child's process
 *     group (the child and every grandchild still in it).
 * Only used in group mode (the child leads its own group; in terminal mode the group is the
 * shell's job and may hold other programs of a pipeline). POSIX only.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Watchdog {
  /** The run ended on a path the launcher controlled: do not kill anything. */
  standDown(): void;
}

// `kill -9 -PGID`: the form dash's and bash's builtin kill both read as "the process group"
// (dash rejects `--` and mis-parses `-KILL -PGID`).
const SCRIPT = 'read -r word; [ "$word" = done ] || kill -9 "-$1" 2>/dev/null; exit 0';

export function startWatchdog(childGroup: number): Watchdog | undefined {
  if (process.platform === 'win32') return undefined;
  let dog: ChildProcess;
  try {
    dog = spawn('/bin/sh', ['-c', SCRIPT, 'aivault-watchdog', String(childGroup)], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
      env: { PATH: '/usr/bin:/bin' },
    });
  } catch {
    return undefined; // best effort: the launcher's own teardown still covers every other path
  }
  dog.on('error', () => undefined);
  dog.stdin!.on('error', () => undefined);
  dog.unref();
  // Keep the pipe open without holding the event loop open.
  (dog.stdin as unknown as { unref?: () => void }).unref?.();
  return {
    standDown() {
      try {
        // A small write to an empty pipe goes out synchronously (libuv tries the write at once),
        // so it is in the pipe before the launcher's exit closes it.
        dog.stdin!.write('done\n');
      } catch {
        /* already gone */
      }
    },
  };
}
