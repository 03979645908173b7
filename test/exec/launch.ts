/** Helpers for exec's end-to-end tests: the real CLI as a child process we can signal. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, FIXTURES, ROOT, runCli, tempVaultDir } from '../helpers/cli.js';

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
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
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
