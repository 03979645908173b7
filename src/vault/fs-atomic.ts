import fs from 'node:fs';
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import { randomHex } from '../crypto/random.js';

/** Test hook: when set, writes whose target path contains this string fail like a full disk. */
const FAIL_HOOK = 'AIVAULT_TEST_FAIL_WRITE';

function ioMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string') {
    if (err.code === 'ENOSPC') return 'no space left on device';
    if (err.code === 'EACCES' || err.code === 'EPERM') return 'permission denied';
    if (err.code === 'EROFS') return 'read-only file system';
    return err.code;
  }
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

export function ioError(action: string, file: string, e: unknown): AivaultError {
  if (e instanceof AivaultError) return e;
  return new AivaultError('vault_io', `could not ${action} ${file}: ${ioMessage(e)}`, { file, cause: e });
}

/** mkdir -p with 0700 (and tighten an existing dir we own). */
export function ensureDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError('create directory', dir, e);
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // some platforms/filesystems do not support fsync on directories; the rename is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Atomic replace: write a temp file beside the target (0600), fsync it, rename over the target,
 * fsync the directory. On any failure the target is untouched and the temp file removed.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomHex(4)}.tmp`);
  let fd: number | undefined;
  try {
    const hook = process.env[FAIL_HOOK];
    if (hook && file.includes(hook)) {
      const err: NodeJS.ErrnoException = new Error('ENOSPC: no space left on device');
      err.code = 'ENOSPC';
      throw err;
    }
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* ignore */
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* ignore */
    }
    throw ioError('write', file, e);
  }
  fsyncDir(dir);
}

/** Removes a file durably; a missing file is fine. */
export function removeFile(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError('remove', file, e);
  }
  fsyncDir(path.dirname(file));
}

/** Reads a file, or undefined when it does not exist. Other errors become vault_io. */
export function readFileIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('read', file, e);
  }
}

/** Parses a JSON file; a file that is not JSON is `vault_corrupt` naming it. */
export function readJsonIfExists(file: string): unknown {
  const buf = readFileIfExists(file);
  if (buf === undefined) return undefined;
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw new AivaultError('vault_corrupt', `vault file ${file} is corrupt (not valid JSON); restore it or remove it`, { file });
  }
}
