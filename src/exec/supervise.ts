/**
 * Runs the child and watches it: spawn, signal forwarding, --timeout, escalation, and the exit code.
 *
 * Process groups (documented in the README):
 *   - stdin is a TTY ("terminal mode"): the child shares the launcher's process group, so it stays
 *     in the terminal's foreground group (it can read the TTY, open /dev/tty, use job control).
 *     Terminal-generated signals (Ctrl-C SIGINT, Ctrl-\ SIGQUIT, SIGWINCH) reach the child
 *     directly from the terminal; the launcher does NOT forward those (that would deliver them
 *     twice). SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 sent to the launcher pid are forwarded to the child
 *     pid once.
 *   - otherwise ("group mode": CI, pipes, tests): the child is spawned detached, leading its own
 *     process group (and session). Every forwarded signal goes to the whole group (-pid), and when
 *     the launcher was told to stop (signal, timeout, broker failure, internal error) the group is
 *     SIGKILLed once the child has exited, so no grandchild survives.
 * A second SIGINT/SIGTERM escalates to SIGKILL after the grace period; --timeout sends SIGTERM,
 * then SIGKILL after the grace period, and the exit code is 124.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { exitCodeOf, EXIT_LAUNCHER, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, EXIT_TIMEOUT } from './exit-code.js';
import { sendSignal } from './kill.js';
import { SandboxStatus } from '../sandbox/status.js';
import { findNsChild } from '../sandbox/pids.js';
import { STATUS_FD, SECCOMP_FD } from '../sandbox/bwrap-args.js';

/** Signals forwarded to the child (when the platform has them). */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
/** Signals a terminal sends to its whole foreground process group; not forwarded in terminal mode. */
export const TERMINAL_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGQUIT', 'SIGWINCH']);
/** Signals that mean "stop": the run is ending, leftover group members get SIGKILL. */
const STOP_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']);
const INTERRUPTS: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGTERM']);

export const DEFAULT_GRACE_MS = 3000;

export interface SuperviseSpec {
  /** Resolved executable path. */
  file: string;
  /** argv[0] as the user wrote it. */
  argv0: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** true: detached child leading its own process group (group mode). */
  ownGroup: boolean;
  timeoutMs?: number;
  graceMs?: number;
  /** Launcher notices (stderr unless --quiet). */
  say?: (line: string) => void;
  /** Launcher errors (always on stderr). */
  error?: (line: string) => void;
  /**
   * --sandbox: spawn this (bubblewrap, see src/sandbox/bwrap-args.ts) instead of `file`; the
   * command runs inside. `setupFailure` is the line printed (exit 125) when the sandbox fails
   * before the command started.
   */
  sandbox?: { file: string; args: string[]; seccomp?: Buffer; setupFailure: string };
}

export type EndReason = 'exit' | 'timeout' | 'aborted' | 'spawn-error';

export interface ChildOutcome {
  /** What the launcher should exit with. */
  exitCode: number;
  /** Raw child status. */
  code: number | null;
  signal: NodeJS.Signals | null;
  reason: EndReason;
}

export class Supervisor {
  readonly spec: SuperviseSpec;
  private child: ChildProcess | undefined;
  private exited = false;
  private stopRequested = false;
  private interrupts = 0;
  private timedOut = false;
  private abortCode: number | undefined;
  private timers: NodeJS.Timeout[] = [];
  private handlers = new Map<NodeJS.Signals, () => void>();
  private grace: number;
  private status: SandboxStatus | undefined;

  constructor(spec: SuperviseSpec) {
    this.spec = spec;
    this.grace = spec.graceMs ?? DEFAULT_GRACE_MS;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child?.pid !== undefined && !this.exited;
  }

  /** Spawns the child; resolves when it has exited (and stragglers are cleaned up). */
  start(): Promise<ChildOutcome> {
    const { spec } = this;
    return new Promise<ChildOutcome>((resolve) => {
      let settled = false;
      const finish = (o: ChildOutcome) => {
        if (settled) return;
        settled = true;
        this.exited = true;
        for (const t of this.timers) clearTimeout(t);
        this.timers = [];
        resolve(o);
      };
      // Installed before the (synchronous) spawn so that no signal event can find the launcher
      // without a handler; events are only dispatched after spawn() returns with a pid.
      this.installSignals();
      let child: ChildProcess;
      const sb = spec.sandbox;
      try {
        child = sb
          ? spawn(sb.file, sb.args, {
              env: spec.env,
              cwd: spec.cwd,
              // fd 3: bubblewrap's status stream; fd 4: the seccomp program
              stdio: ['inherit', 'inherit', 'inherit', 'pipe', ...(sb.seccomp ? (['pipe'] as const) : [])],
              detached: spec.ownGroup,
            })
          : spawn(spec.file, spec.args, {
              argv0: spec.argv0,
              env: spec.env,
              cwd: spec.cwd,
              stdio: 'inherit',
              detached: spec.ownGroup,
              windowsHide: false,
            });
      } catch (e) {
        finish(spawnFailure(e, spec));
        return;
      }
      this.child = child;
      child.once('error', (e) => {
        if (child.pid === undefined) finish(spawnFailure(e, spec));
      });
      if (sb && child.pid !== undefined) {
        const io = child.stdio as unknown as Array<Duplex | null>;
        this.status = new SandboxStatus(io[STATUS_FD]!);
        const seccompPipe = io[SECCOMP_FD];
        if (sb.seccomp && seccompPipe) {
          seccompPipe.on('error', () => undefined);
          seccompPipe.end(sb.seccomp);
        }
      }
      child.once('exit', (code, signal) => {
        if (this.status) {
          // the status stream ends with the monitor; the exit-code line may still be in the pipe
          let t: NodeJS.Timeout | undefined;
          void Promise.race([this.status.ended, new Promise<void>((r) => (t = setTimeout(r, 1000)))]).then(() => {
            clearTimeout(t);
            onExit(code, signal);
          });
          return;
        }
        onExit(code, signal);
      });
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.exited = true;
        // Told to stop: nothing of the run may survive it. (Group mode only: in terminal mode the
        // group is the launcher's own.)
        if ((this.stopRequested || this.timedOut || this.abortCode !== undefined) && spec.ownGroup && child.pid !== undefined) {
          sendSignal(child.pid, 'SIGKILL', true);
        }
        let exitCode = exitCodeOf(code, signal);
        let reason: EndReason = 'exit';
        if (this.status && this.status.exitCode === undefined && signal === null && this.abortCode === undefined && !this.timedOut) {
          // bubblewrap exited without starting the command: the sandbox failed, not the command
          spec.error?.(`aivault: ${sb!.setupFailure}`);
          finish({ exitCode: EXIT_LAUNCHER, code, signal, reason: 'spawn-error' });
          return;
        }
        if (this.abortCode !== undefined) {
          exitCode = this.abortCode;
          reason = 'aborted';
        } else if (this.timedOut) {
          exitCode = EXIT_TIMEOUT;
          reason = 'timeout';
        }
        finish({ exitCode, code, signal, reason });
      };
      if (spec.timeoutMs !== undefined && child.pid !== undefined) {
        this.timers.push(
          setTimeout(() => {
            if (this.exited) return;
            this.timedOut = true;
            spec.say?.(`aivault: timeout after ${spec.timeoutMs} ms, stopping the command`);
            this.signalChild('SIGTERM');
            this.scheduleKill();
          }, spec.timeoutMs),
        );
      }
    });
  }

  /**
   * Ends the run from the launcher side (broker failure, internal error): SIGTERM now, SIGKILL
   * after the grace period; the outcome's exit code becomes `exitCode`.
   */
  abort(exitCode: number = EXIT_LAUNCHER): void {
    if (this.abortCode === undefined) this.abortCode = exitCode;
    if (!this.running) return;
    this.signalChild('SIGTERM');
    this.scheduleKill();
  }

  /** Synchronous last resort (process exit hooks): SIGKILL the child (group) if still running. */
  killNow(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    if (this.spec.ownGroup) sendSignal(pid, 'SIGKILL', true);
    else if (!this.exited) sendSignal(pid, 'SIGKILL', false);
  }

  /** Sends a signal to the child, or to its whole group in group mode. */
  signalChild(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined || this.exited) return;
    // Sandbox, terminal mode: bubblewrap ignores the forwarded signals, so the command (pid 2 of
    // the sandbox) gets them directly; SIGKILL to bubblewrap takes the whole sandbox down.
    if (this.spec.sandbox && !this.spec.ownGroup && signal !== 'SIGKILL') {
      this.signalSandboxed(signal, Date.now() + 2000);
      return;
    }
    sendSignal(pid, signal, this.spec.ownGroup);
  }

  private signalSandboxed(signal: NodeJS.Signals, until: number): void {
    if (this.exited) return;
    const init = this.status?.initPid;
    const target = init !== undefined ? findNsChild(init) : undefined;
    if (target !== undefined) {
      sendSignal(target, signal, false);
      return;
    }
    // the command is not started yet: deliver it as soon as it is
    if (Date.now() < until) this.timers.push(setTimeout(() => this.signalSandboxed(signal, until), 10));
  }

  private scheduleKill(): void {
    const t = setTimeout(() => {
      if (!this.exited) this.signalChild('SIGKILL');
    }, this.grace);
    this.timers.push(t);
  }

  /** What happens when the launcher receives `signal` (exported for the signal-handling tests). */
  onSignal(signal: NodeJS.Signals): void {
    if (STOP_SIGNALS.has(signal)) this.stopRequested = true;
    const terminalDelivered = !this.spec.ownGroup && TERMINAL_SIGNALS.has(signal);
    if (!terminalDelivered) this.signalChild(signal);
    if (INTERRUPTS.has(signal)) {
      this.interrupts += 1;
      if (this.interrupts === 2) {
        this.spec.say?.(`aivault: second interrupt, killing the command in ${this.grace} ms`);
        this.scheduleKill();
      }
    }
  }

  private installSignals(): void {
    if (process.platform === 'win32' || this.handlers.size > 0) return;
    for (const sig of FORWARDED_SIGNALS) {
      const h = () => this.onSignal(sig);
      this.handlers.set(sig, h);
      try {
        process.on(sig, h);
      } catch {
        this.handlers.delete(sig);
      }
    }
  }

  /** Removes the launcher's signal handlers (call only right before exiting). */
  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.uninstallSignals();
  }

  private uninstallSignals(): void {
    for (const [sig, h] of this.handlers) process.removeListener(sig, h);
    this.handlers.clear();
  }
}

function spawnFailure(e: unknown, spec: SuperviseSpec): ChildOutcome {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const exitCode = code === 'ENOENT' ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
  const why = code === 'ENOENT' ? 'command not found' : code === 'EACCES' ? 'permission denied' : code ?? 'cannot execute';
  spec.error?.(`aivault: ${spec.argv0}: ${why}`);
  return { exitCode, code: null, signal: null, reason: 'spawn-error' };
}
