/** Helpers for exec's end-to-end tests: the real CLI as a child process we can signal. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, FIXTURES, ROOT, runCli, tempVaultDir } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

export { ROOT, BIN, runCli, tempVaultDir };
export const FX = path.join(FIXTURES, 'exec');
export const NODE = process.execPath;
export const fx = (name: string) => path.join(FX, name);

export interface Launched {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }>;
}

/** Starts `aivault exec ARGS` with pipes on all three fds (so: group mode). */
export function launch(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; input?: string | Buffer; keepStdinOpen?: boolean } = {},
): Launched {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir() };
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v;
  const child = spawn(NODE, [BIN, 'exec', ...args], { env, cwd: opts.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() });
    });
  });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else if (!opts.keepStdinOpen) child.stdin!.end();
  return { child, done };
}

export async function waitForFile(file: string, timeoutMs = 15_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const s = fs.readFileSync(file, 'utf8');
      if (s.length > 0) return s;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${file}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** True while `pid` is a live (non-zombie) process. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return process.platform !== 'linux';
  }
}

export async function waitGone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !alive(pid);
}

export function tmpDir(prefix = 'aivault-exec-'): string {
  return tempDir(prefix);
}

/** A vault holding the given secrets (stored through the real CLI). */
export async function vaultWith(secrets: Record<string, string>): Promise<string> {
  const dir = tempVaultDir();
  for (const [name, value] of Object.entries(secrets)) {
    const r = await runCli(['secrets', 'create', '--name', name, '--value-stdin'], { env: { AIVAULT_DIR: dir }, input: value });
    if (r.code !== 0) throw new Error(`secrets create ${name} failed: ${r.stderr}`);
  }
  return dir;
}

/** Exec modes the process-contract tests run in: plain, and under --sandbox when it can run here. */
export interface ExecMode {
  name: string;
  /** extra exec options */
  flags: string[];
  sandboxed: boolean;
  /** skip reason when this mode cannot run on this machine */
  skip: string | false;
}

let sandboxSkip: string | false | undefined;
/** Why sandbox tests cannot run here (printed as the skip reason), or false when they can. */
export function sandboxUnavailable(): string | false {
  if (sandboxSkip !== undefined) return sandboxSkip;
  if (process.platform !== 'linux') return (sandboxSkip = `--sandbox is Linux-only (${process.platform})`);
  const r = spawnSync('bwrap', ['--unshare-user', '--unshare-pid', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', 'true'], { encoding: 'utf8' });
  if (r.error) return (sandboxSkip = 'bubblewrap (bwrap) is not installed');
  if (r.status !== 0) return (sandboxSkip = `bubblewrap cannot create namespaces here: ${(r.stderr || '').trim().split('\n')[0]}`);
  return (sandboxSkip = false);
}

export function execModes(): ExecMode[] {
  const why = sandboxUnavailable();
  if (why) console.log(`# sandbox modes skipped: ${why}`);
  return [
    { name: 'plain', flags: [], sandboxed: false, skip: false },
    { name: '--sandbox', flags: ['--sandbox'], sandboxed: true, skip: why },
    { name: '--sandbox-net=broker', flags: ['--sandbox-net=broker'], sandboxed: true, skip: why },
  ];
}

function statusOf(pid: number | string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A pid a fixture wrote (its own view) as a host pid. Inside a sandbox a fixture sees its PID
 * namespace's numbers; this finds the host process with that innermost pid that descends from
 * `launcherPid`. Call it while the launcher runs.
 */
export function hostPid(pid: number, launcherPid: number, sandboxed: boolean): number {
  if (!sandboxed) return pid;
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    const st = statusOf(n);
    const ns = st && /^NSpid:\s+([\d\s]+)$/m.exec(st)?.[1]?.trim().split(/\s+/);
    if (!ns || ns.length < 2 || Number(ns[ns.length - 1]) !== pid) continue;
    // ancestry up to the launcher
    let cur = Number(n);
    for (let i = 0; i < 64 && cur > 1; i++) {
      if (cur === launcherPid) return Number(n);
      const s = statusOf(cur);
      cur = Number(s && /^PPid:\s+(\d+)$/m.exec(s)?.[1]);
    }
  }
  throw new Error(`no sandboxed process with pid ${pid} under launcher ${launcherPid}`);
}
