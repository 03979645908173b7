/**
 * Turns `--sandbox` options into the process to spawn: hidden paths, placeholders for the missing
 * ones, the mount plan and the bubblewrap command line. The only impure part of src/sandbox/ besides
 * the probe: it stats paths and creates placeholders.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hiddenEntries, showRefused, type HiddenInput } from './hidden.js';
import { planMounts, type HostState } from './plan.js';
import { commandInner, outerCommand, type BwrapSpec } from './bwrap-args.js';
import { relayInner } from './relay.js';
import type { SandboxProbe } from './probe.js';

export type SandboxNet = 'host' | 'broker';

export interface SandboxOptions {
  net: SandboxNet;
  /** absolute paths */
  hide: string[];
  show: string[];
  readonly: boolean;
  write: string[];
}

export interface SandboxSpawn {
  file: string;
  args: string[];
  /** seccomp program for bwrap's --seccomp fd, if any */
  seccomp?: Buffer;
}

export interface PrepareInput {
  opts: SandboxOptions;
  probe: Extract<SandboxProbe, { ok: true }>;
  /** the launcher's environment (HOME, XDG_RUNTIME_DIR, SSH_AUTH_SOCK) */
  env: NodeJS.ProcessEnv;
  home: string;
  uid: number;
  vaultRoot: string;
  keyFile: string;
  cwd: string;
  /** argv after `--` */
  command: string[];
  /** the run's private directory (0700); holds the empty placeholder file and the broker socket */
  runDir: string;
  /** run files the child must reach (SDK isolation dir) */
  runPaths: string[];
  /** broker mode: the broker's port and unix socket */
  port?: number;
  socketPath?: string;
  nodePath: string;
  seccomp?: Buffer | undefined;
  /** PWD in the child's environment, if exec put one there */
  childPwd?: string | undefined;
}

/** Throws Error(one line) for a refused configuration; the caller maps it to 125. */
export function checkShow(input: Pick<HiddenInput, 'home' | 'vaultRoot' | 'keyFile'>, show: readonly string[]): string | undefined {
  for (const s of show) {
    if (showRefused(input, s)) return `--sandbox-show ${s}: the vault and its key are always hidden in the sandbox`;
  }
  return undefined;
}

export function hostState(p: string): HostState {
  try {
    return fs.statSync(p).isDirectory() ? 'dir' : 'other';
  } catch {
    try {
      fs.lstatSync(p);
      return 'dangling';
    } catch {
      return 'missing';
    }
  }
}

function createPlaceholder(p: string, shape: 'dir' | 'file'): void {
  try {
    if (shape === 'dir') fs.mkdirSync(p, { recursive: true, mode: 0o700 });
    else {
      fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 });
      fs.closeSync(fs.openSync(p, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600));
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return; // appeared meanwhile: it is hidden all the same (mounted over)
    throw new Error(`cannot create the placeholder for hidden path ${p} (${code ?? 'error'})`);
  }
}

export function prepareSandbox(input: PrepareInput): SandboxSpawn {
  const { opts, probe } = input;
  const runtimeDir = input.env.XDG_RUNTIME_DIR && path.isAbsolute(input.env.XDG_RUNTIME_DIR) ? input.env.XDG_RUNTIME_DIR : undefined;
  const sshAuthSock = input.env.SSH_AUTH_SOCK && path.isAbsolute(input.env.SSH_AUTH_SOCK) ? input.env.SSH_AUTH_SOCK : undefined;
  const hidden = hiddenEntries({
    home: input.home,
    uid: input.uid,
    vaultRoot: input.vaultRoot,
    keyFile: input.keyFile,
    runtimeDir,
    sshAuthSock,
    hide: opts.hide,
    show: opts.show,
  });
  const emptyFile = path.join(input.runDir, 'empty');
  fs.writeFileSync(emptyFile, '', { mode: 0o400 });
  const runPaths = [...input.runPaths];
  if (opts.net === 'broker' && input.socketPath) runPaths.push(input.socketPath);
  const plan = planMounts({
    readonly: opts.readonly,
    cwd: input.cwd,
    write: opts.write,
    hidden,
    runPaths,
    emptyFile,
    stat: hostState,
  });
  if (plan.errors.length) throw new Error(plan.errors[0]);
  for (const p of plan.placeholders) createPlaceholder(p.path, p.shape);
  const command = commandInner(probe.env, probe.sh, input.command, input.childPwd);
  const inner =
    opts.net === 'broker'
      ? relayInner(probe.sh, input.nodePath, input.port!, input.socketPath!, command)
      : command;
  const spec: BwrapSpec = {
    net: opts.net,
    ops: plan.ops,
    cwd: input.cwd,
    disableUserns: probe.disableUserns,
    seccomp: input.seccomp !== undefined,
    inner,
  };
  const outer = outerCommand(probe.env, probe.bwrap, spec);
  return { ...outer, ...(input.seccomp ? { seccomp: input.seccomp } : {}) };
}
