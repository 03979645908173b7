/**
 * The mount plan of a sandbox (SPEC §9), as data. Pure: what exists on the host is passed in as a
 * `stat` function, so every case is table-tested without mounting anything.
 *
 * Order matters (later mounts cover earlier ones):
 *   1. the host root, writable (default) or read-only (--sandbox-readonly);
 *   2. a fresh /dev (no host ptys: a same-user process could read another terminal's input) and a
 *      /proc of the sandbox's own PID namespace (no launcher, no /proc/<pid>/environ of anything
 *      outside);
 *   3. read-only mode: a private /tmp, then the working directory, --sandbox-write paths and the
 *      run's own files bound writable;
 *   4. hidden paths last, so no bind above can re-expose one: a read-only empty tmpfs over a
 *      directory, a read-only empty file over anything else.
 */
import path from 'node:path';
import { SANDBOX_HIDDEN_MARKER } from '../vault/paths.js';
import type { HiddenEntry } from './hidden.js';
import { isUnder } from './hidden.js';

export type MountOp =
  | { op: 'bind' | 'ro-bind'; src: string; dest: string }
  | { op: 'tmpfs' | 'remount-ro' | 'proc' | 'dev'; dest: string };

export type HostState = 'dir' | 'other' | 'missing' | 'dangling';

export interface PlanInput {
  readonly: boolean;
  cwd: string;
  /** --sandbox-write, absolute */
  write: readonly string[];
  hidden: readonly HiddenEntry[];
  /** run files that must stay reachable inside (broker socket, SDK isolation dir) */
  runPaths: readonly string[];
  /** an empty, read-only regular file (source for file placeholders) */
  emptyFile: string;
  /** what is on the host at a path (symlinks followed; `dangling` for a broken symlink) */
  stat(p: string): HostState;
}

export interface Placeholder {
  path: string;
  shape: 'dir' | 'file';
}

export interface MountPlan {
  ops: MountOp[];
  /** missing hidden paths the launcher creates (empty, private) before the sandbox starts */
  placeholders: Placeholder[];
  /** one-line problems that refuse the run (125) */
  errors: string[];
}

export function planMounts(input: PlanInput): MountPlan {
  const ops: MountOp[] = [];
  const placeholders: Placeholder[] = [];
  const errors: string[] = [];
  ops.push({ op: input.readonly ? 'ro-bind' : 'bind', src: '/', dest: '/' });
  ops.push({ op: 'dev', dest: '/dev' });
  ops.push({ op: 'proc', dest: '/proc' });
  const writable: string[] = [];
  if (input.readonly) {
    ops.push({ op: 'tmpfs', dest: '/tmp' });
    for (const p of [input.cwd, ...input.write, ...input.runPaths]) {
      if (writable.includes(p)) continue;
      const st = input.stat(p);
      if (st === 'missing' || st === 'dangling') {
        if (input.write.includes(p)) errors.push(`--sandbox-write ${p}: no such file or directory`);
        continue;
      }
      writable.push(p);
      ops.push({ op: 'bind', src: p, dest: p });
    }
  }
  // Can the child create `p` on the host? (Read-only mode: only inside the writable binds; a path
  // under the private /tmp never reaches the host.)
  // Can the child create `p` on the host? Read-only mode: only inside the writable binds (the
  // private /tmp never reaches the host).
  const childCanCreate = (p: string): boolean => !input.readonly || writable.some((w) => isUnder(p, w));
  for (const e of input.hidden) {
    if (isUnder(input.cwd, e.path)) {
      errors.push(`the working directory ${input.cwd} is a hidden path in the sandbox (${e.path}); run from another directory`);
      continue;
    }
    let st = input.stat(e.path);
    if (st === 'dangling') continue; // nothing to read; mounting over a broken link is impossible
    if (st === 'missing') {
      if (e.kind === 'socket') continue; // a placeholder would stop the real service from starting
      if (e.kind === 'vault' && e.shape === 'file') continue; // covered by its hidden directory
      if (!childCanCreate(e.path)) continue;
      placeholders.push({ path: e.path, shape: e.shape });
      st = e.shape === 'dir' ? 'dir' : 'other';
    }
    if (st === 'dir') {
      ops.push({ op: 'tmpfs', dest: e.path });
      // the vault's hiding place says so (a nested aivault reports "no vault here")
      if (e.kind === 'vault') ops.push({ op: 'ro-bind', src: input.emptyFile, dest: path.join(e.path, SANDBOX_HIDDEN_MARKER) });
      ops.push({ op: 'remount-ro', dest: e.path });
    } else {
      ops.push({ op: 'ro-bind', src: input.emptyFile, dest: e.path });
    }
  }
  return { ops, placeholders, errors };
}
