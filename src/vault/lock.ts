import fs from 'node:fs';
import { AivaultError } from '../errors/aivault-error.js';
import { randomHex } from '../crypto/random.js';
import { ioError } from './fs-atomic.js';

/** A lock older than this is broken even if its pid seems alive (pid reuse after a crash). */
const STALE_AGE_MS = 10 * 60_000;
const DEFAULT_TIMEOUT_MS = 30_000;

interface LockInfo {
  pid: number;
  nonce: string;
  time: number;
}

function parseLock(text: string): LockInfo | undefined {
  const [pid, nonce, time] = text.split('\n');
  const p = Number(pid);
  const t = Number(time);
  if (!Number.isInteger(p) || p <= 0 || !nonce || !Number.isFinite(t)) return undefined;
  return { pid: p, nonce, time: t };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(lockFile: string, nonce: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(lockFile, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw ioError('create lock file', lockFile, e);
  }
  try {
    fs.writeSync(fd, `${process.pid}\n${nonce}\n${Date.now()}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Breaks the lock if its holder is dead. Rename first (atomic: one breaker wins), then check the
 * renamed file is the one judged stale; if a fresh lock was grabbed instead, put it back.
 */
function breakIfStale(lockFile: string): void {
  let text: string;
  let mtime: number;
  try {
    text = fs.readFileSync(lockFile, 'utf8');
    mtime = fs.statSync(lockFile).mtimeMs;
  } catch {
    return; // vanished: retry creating
  }
  const info = parseLock(text);
  const age = Date.now() - (info?.time ?? mtime);
  // A lock file with unparseable content is being written right now, or was left half-written by a crash.
  const stale = info ? !pidAlive(info.pid) || age > STALE_AGE_MS : Date.now() - mtime > 2_000;
  if (!stale) return;
  const aside = `${lockFile}.stale.${process.pid}.${randomHex(4)}`;
  try {
    fs.renameSync(lockFile, aside);
  } catch {
    return;
  }
  let moved = '';
  try {
    moved = fs.readFileSync(aside, 'utf8');
  } catch {
    /* ignore */
  }
  if (moved !== text) {
    // We moved someone's fresh lock: restore it unless a new one already exists.
    try {
      fs.linkSync(aside, lockFile);
    } catch {
      /* ignore */
    }
  }
  try {
    fs.unlinkSync(aside);
  } catch {
    /* ignore */
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` holding the vault's inter-process lock (O_EXCL lock file with pid + nonce; dead holders
 * are detected and their lock broken). Retries with jittered backoff up to `timeoutMs`.
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T> | T, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  const nonce = randomHex(8);
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    if (tryCreate(lockFile, nonce)) break;
    breakIfStale(lockFile);
    if (tryCreate(lockFile, nonce)) break;
    if (Date.now() > deadline) {
      let holder = '';
      try {
        const info = parseLock(fs.readFileSync(lockFile, 'utf8'));
        if (info) holder = ` (held by pid ${info.pid})`;
      } catch {
        /* ignore */
      }
      throw new AivaultError('vault_io', `vault is busy: could not take the lock ${lockFile}${holder}`, { file: lockFile });
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn();
  } finally {
    release(lockFile, nonce);
  }
}

function release(lockFile: string, nonce: string): void {
  try {
    const info = parseLock(fs.readFileSync(lockFile, 'utf8'));
    if (info && info.nonce === nonce) fs.unlinkSync(lockFile);
  } catch {
    /* already gone */
  }
}
