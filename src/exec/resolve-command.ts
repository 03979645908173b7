/**
 * PATH lookup as the shell does it (SPEC §5): a name containing '/' is used as given (relative to
 * the cwd); any other name is searched in the child's PATH (an empty PATH entry means the cwd).
 * The first executable regular file wins; if only non-executable matches exist the result is 126
 * ("permission denied", like bash); nothing at all is 127.
 */
import fs from 'node:fs';
import path from 'node:path';

export type ResolvedCommand =
  | { ok: true; file: string }
  | { ok: false; exitCode: 126 | 127; message: string };

function isExecutableFile(p: string): 'exec' | 'noexec' | 'dir' | 'missing' {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return 'missing';
  }
  if (st.isDirectory()) return 'dir';
  if (!st.isFile()) return 'noexec';
  if (process.platform === 'win32') return 'exec';
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return 'exec';
  } catch {
    return 'noexec';
  }
}

export function resolveCommand(
  name: string,
  opts: { pathEnv: string | undefined; cwd: string; platform?: NodeJS.Platform; pathExt?: string },
): ResolvedCommand {
  const platform = opts.platform ?? process.platform;
  if (name === '') return { ok: false, exitCode: 127, message: 'command not found: (empty)' };
  const hasSlash = name.includes('/') || (platform === 'win32' && name.includes('\\'));
  const exts =
    platform === 'win32'
      ? ['', ...(opts.pathExt ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)]
      : [''];
  if (hasSlash) {
    const abs = path.resolve(opts.cwd, name);
    for (const ext of exts) {
      const r = isExecutableFile(abs + ext);
      if (r === 'exec') return { ok: true, file: abs + ext };
      if (r === 'dir') return { ok: false, exitCode: 126, message: `${name}: is a directory` };
      if (r === 'noexec') return { ok: false, exitCode: 126, message: `${name}: permission denied` };
    }
    return { ok: false, exitCode: 127, message: `${name}: no such file or directory` };
  }
  let sawNoExec = false;
  const sep = platform === 'win32' ? ';' : ':';
  for (const dir of (opts.pathEnv ?? '').split(sep)) {
    const base = dir === '' ? opts.cwd : path.resolve(opts.cwd, dir);
    for (const ext of exts) {
      const candidate = path.join(base, name + ext);
      const r = isExecutableFile(candidate);
      if (r === 'exec') return { ok: true, file: candidate };
      if (r === 'noexec') sawNoExec = true;
    }
  }
  if (sawNoExec) return { ok: false, exitCode: 126, message: `${name}: permission denied` };
  return { ok: false, exitCode: 127, message: `${name}: command not found` };
}
