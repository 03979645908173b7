/**
 * The bubblewrap command line (pure; table-tested).
 *
 * Process layout, and why:
 *
 *     launcher ─ env --ignore-signal=S bwrap (monitor) ─ bwrap init (pid 1) ─ env --default-signal=S COMMAND (pid 2)
 *
 * - bubblewrap forwards no signal. Its monitor dies of SIGINT/SIGTERM (default action) and
 *   --die-with-parent then SIGKILLs the whole sandbox, so a Ctrl-C or a forwarded SIGTERM would
 *   kill the command instead of reaching it. The monitor therefore starts with the forwarded
 *   signals ignored (S = INT TERM HUP QUIT USR1 USR2; coreutils `env --ignore-signal`), and the
 *   command gets their default handling back (`env --default-signal`) right before it starts.
 *   Group mode: the launcher signals the whole process group (monitor and init ignore, the command
 *   and its children receive it once). Terminal mode: the terminal does it.
 * - --die-with-parent: the monitor dies with the launcher and the sandbox's pid 1 with the monitor;
 *   a PID namespace dies with its pid 1, so nothing the command started outlives the run.
 * - --json-status-fd: the monitor reports the sandbox's pid 1 and, only once the command was
 *   started, its exit code; an exit without one is a sandbox setup failure (125).
 * - The command is started by PATH lookup inside (same PATH, same files), so argv[0] stays
 *   byte-exact; env(1) exits 127/126 as a shell does.
 */
import type { MountOp } from './plan.js';

export const SANDBOX_SIGNALS = 'INT,TERM,HUP,QUIT,USR1,USR2';
export const STATUS_FD = 3;
export const SECCOMP_FD = 4;

export interface BwrapSpec {
  net: 'host' | 'broker';
  ops: readonly MountOp[];
  cwd: string;
  /** bwrap supports --disable-userns (0.8+) */
  disableUserns: boolean;
  /** a seccomp program is passed on SECCOMP_FD */
  seccomp: boolean;
  /** what bwrap runs inside */
  inner: readonly string[];
}

export function mountArgs(ops: readonly MountOp[]): string[] {
  const out: string[] = [];
  for (const m of ops) {
    if (m.op === 'bind' || m.op === 'ro-bind') out.push(`--${m.op}`, m.src, m.dest);
    else out.push(`--${m.op}`, m.dest);
  }
  return out;
}

export function bwrapArgs(spec: BwrapSpec): string[] {
  return [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    ...(spec.net === 'broker' ? ['--unshare-net'] : []),
    '--die-with-parent',
    ...(spec.disableUserns ? ['--disable-userns'] : []),
    '--cap-drop',
    'ALL',
    ...mountArgs(spec.ops),
    '--chdir',
    spec.cwd,
    '--json-status-fd',
    String(STATUS_FD),
    ...(spec.seccomp ? ['--seccomp', String(SECCOMP_FD)] : []),
    '--',
    ...spec.inner,
  ];
}

/** The outer command: the monitor with the forwarded signals ignored. */
export function outerCommand(envPath: string, bwrapPath: string, spec: BwrapSpec): { file: string; args: string[] } {
  return { file: envPath, args: [`--ignore-signal=${SANDBOX_SIGNALS}`, bwrapPath, ...bwrapArgs(spec)] };
}

/**
 * What runs inside for the command: default signal handling back, PWD as exec set it, then the
 * command by PATH lookup.
 * A first word with '=' would be read by env(1) as an assignment; sh runs it instead.
 */
export function commandInner(envPath: string, shPath: string, argv: readonly string[], pwd?: string): string[] {
  // bubblewrap sets PWD; the child's environment is exec's alone (SPEC §5): unset it, or restore
  // the value the run's environment gave it
  const head = [envPath, ...(pwd === undefined ? ['-u', 'PWD'] : []), `--default-signal=${SANDBOX_SIGNALS}`, '--', ...(pwd === undefined ? [] : [`PWD=${pwd}`])];
  if (argv[0]!.includes('=')) return [...head, shPath, '-c', 'exec "$0" "$@"', ...argv];
  return [...head, ...argv];
}
