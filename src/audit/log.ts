/**
 * Audit log writer (SPEC §7): `<vault root>/audit/YYYY-MM-DD.jsonl` (UTC date of each event),
 * directory 0700, files 0600, append-only, one JSON object per line with `ts` first.
 *
 * append() only serialises the event into an in-memory queue (cheap, never throws); flush()
 * writes the queue in order with one O_APPEND write per file and fsyncs. A failed flush rejects
 * with AivaultError('vault_io') and keeps the unwritten lines queued, so callers can fail closed
 * or retry. Defence in depth: fields named like secrets are dropped and `path`/`url` fields lose
 * their query string, whatever the caller passes.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import type { AuditEvent, AuditSink } from './types.js';

/** Field names never written, at any depth (compared case-insensitively). */
const DROPPED_FIELDS = new Set([
  'value',
  'secret',
  'secrets',
  'token',
  'authorization',
  'proxy-authorization',
  'password',
  'passphrase',
  'cookie',
  'x-api-key',
  'api-key',
  'apikey',
  'api_key',
  'kek',
]);
/** Fields whose query string (and fragment) is stripped. */
const URLISH_FIELDS = new Set(['path', 'url']);

export interface AuditLog extends AuditSink {
  /** Synchronous flush for last-chance paths (process 'exit' handlers). Throws AivaultError('vault_io'). */
  flushSync(): void;
  /** Lines appended but not yet written. */
  readonly pending: number;
  readonly disabled: boolean;
}

/** The vault root per SPEC §2: $AIVAULT_DIR, else ~/.aivault/vault. */
export function auditDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.AIVAULT_DIR;
  if (dir !== undefined && dir !== '') return path.resolve(dir);
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : os.homedir();
  return path.join(home, '.aivault', 'vault');
}

/** True when AIVAULT_DISABLE_DISK_LOGS asks for no disk logging ('1' or 'true'). */
export function diskLogsDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.AIVAULT_DISABLE_DISK_LOGS;
  return v === '1' || v?.toLowerCase() === 'true';
}

export function auditFileFor(dir: string, ts: string): string {
  return path.join(dir, 'audit', `${ts.slice(0, 10)}.jsonl`);
}

/** Removes secret-named fields (any depth) and query strings from path/url fields. */
export function sanitizeAuditValue(v: unknown, key?: string, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (typeof v === 'string') {
    if (key !== undefined && URLISH_FIELDS.has(key)) return stripQuery(v);
    return v;
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (Array.isArray(v)) return v.map((x) => sanitizeAuditValue(x, undefined, depth + 1));
  if (v instanceof Error) return v.message.split('\n')[0];
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (DROPPED_FIELDS.has(k.toLowerCase())) continue;
      const s = sanitizeAuditValue(x, k, depth + 1);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  return v;
}

function stripQuery(p: string): string {
  const i = p.search(/[?#]/);
  const noQuery = i < 0 ? p : p.slice(0, i);
  // Path-auth secrets (Telegram's /bot<id>:<token>) if an upstream path is ever passed by mistake.
  return noQuery.replace(/\/bot[0-9]+:[A-Za-z0-9_-]+/g, '/bot[REDACTED]');
}

/** One JSON line, `ts` first. Never throws. */
export function formatAuditLine(event: AuditEvent, ts: string): string {
  const clean = sanitizeAuditValue(event) as Record<string, unknown>;
  delete clean.ts;
  try {
    return JSON.stringify({ ts, ...clean }) + '\n';
  } catch {
    return JSON.stringify({ ts, event: typeof event.event === 'string' ? event.event : 'unknown', error: 'unserializable event' }) + '\n';
  }
}

export function openAuditLog(opts: { dir: string; disabled?: boolean }): AuditLog {
  const root = opts.dir;
  const disabled = opts.disabled === true;
  let queue: Array<{ file: string; line: string }> = [];
  let chain: Promise<void> = Promise.resolve();
  let dirReady = false;

  const ensureDir = (): void => {
    if (dirReady) return;
    const auditDir = path.join(root, 'audit');
    fs.mkdirSync(auditDir, { recursive: true, mode: 0o700 });
    dirReady = true;
  };

  const take = (): Map<string, Array<{ file: string; line: string }>> => {
    const batch = queue;
    queue = [];
    const byFile = new Map<string, Array<{ file: string; line: string }>>();
    for (const item of batch) {
      const list = byFile.get(item.file);
      if (list) list.push(item);
      else byFile.set(item.file, [item]);
    }
    return byFile;
  };

  const requeue = (items: Array<{ file: string; line: string }>): void => {
    queue = [...items, ...queue];
  };

  const ioError = (e: unknown, file: string): AivaultError => {
    const code = (e as NodeJS.ErrnoException)?.code ?? 'error';
    return new AivaultError('vault_io', `cannot write audit log ${file} (${code})`, { file, cause: e });
  };

  const writeAsync = async (): Promise<void> => {
    if (queue.length === 0) return;
    const byFile = take();
    const files = [...byFile.keys()];
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      const items = byFile.get(file)!;
      try {
        ensureDir();
        const fh = await fsp.open(file, 'a', 0o600);
        try {
          await fh.writeFile(items.map((x) => x.line).join(''));
          await fh.sync();
        } finally {
          await fh.close();
        }
      } catch (e) {
        // Keep this file's lines and every later file's lines, in order.
        requeue(files.slice(i).flatMap((f) => byFile.get(f)!));
        throw ioError(e, file);
      }
    }
  };

  return {
    disabled,
    get pending() {
      return queue.length;
    },
    append(event: AuditEvent): void {
      if (disabled) return;
      const ts = new Date().toISOString();
      queue.push({ file: auditFileFor(root, ts), line: formatAuditLine(event, ts) });
    },
    flush(): Promise<void> {
      if (disabled) return Promise.resolve();
      // Serialise flushes so lines land in append order even with overlapping calls.
      const run = chain.then(writeAsync, writeAsync);
      chain = run.catch(() => undefined);
      return run;
    },
    flushSync(): void {
      if (disabled || queue.length === 0) return;
      const byFile = take();
      const files = [...byFile.keys()];
      for (let i = 0; i < files.length; i++) {
        const file = files[i]!;
        try {
          ensureDir();
          const fd = fs.openSync(file, 'a', 0o600);
          try {
            fs.writeFileSync(fd, byFile.get(file)!.map((x) => x.line).join(''));
            fs.fsyncSync(fd);
          } finally {
            fs.closeSync(fd);
          }
        } catch (e) {
          requeue(files.slice(i).flatMap((f) => byFile.get(f)!));
          throw ioError(e, file);
        }
      }
    },
  };
}
