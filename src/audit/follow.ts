/**
 * Live tail of the audit log (`aivault audit --follow`): the last `backlog` events, oldest first,
 * then every event as its line lands, until `signal` aborts. Polls (fs.watch is unreliable across
 * filesystems); only whole lines are consumed, so a line caught half-written is read once complete. Day files roll over at UTC midnight: the newest two day files
 * are read each round, so a group that straddles midnight is not missed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import type { AuditEvent } from './types.js';

const FILE_NAME = /^\d{4}-\d{2}-\d{2}\.jsonl$/;

export interface FollowOptions {
  /** Events shown from before the start (default 10). */
  backlog?: number;
  runId?: string;
  /** Poll period (default 200 ms). */
  intervalMs?: number;
  signal?: AbortSignal;
  onEvent(ev: AuditEvent): void;
  onSkip?(file: string): void;
}

function dayFiles(auditDir: string): string[] {
  try {
    return fs.readdirSync(auditDir).filter((n) => FILE_NAME.test(n)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new AivaultError('vault_io', `cannot read audit log folder ${auditDir} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { file: auditDir });
  }
}

function parseLine(raw: string): AuditEvent | undefined {
  if (raw.trim() === '') return undefined;
  try {
    const ev = JSON.parse(raw) as unknown;
    if (typeof ev === 'object' && ev !== null && !Array.isArray(ev) && typeof (ev as AuditEvent).event === 'string') return ev as AuditEvent;
  } catch {
    /* skipped below */
  }
  return undefined;
}

function readRange(file: string, from: number, to: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    let off = 0;
    while (off < buf.length) {
      const n = fs.readSync(fd, buf, off, buf.length - off, from + off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    fs.closeSync(fd);
  }
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

export async function followAudit(dir: string, opts: FollowOptions): Promise<void> {
  const auditDir = path.join(dir, 'audit');
  const interval = opts.intervalMs ?? 200;
  const want = (ev: AuditEvent) => opts.runId === undefined || ev.runId === opts.runId;
  /** read position per day file (just after the last whole line read) */
  const pos = new Map<string, number>();

  // Start position: the end of every existing file. Backlog: events before it, newest files first.
  const names = dayFiles(auditDir);
  const backlog: AuditEvent[] = [];
  const wantBack = opts.backlog ?? 10;
  for (let i = names.length - 1; i >= 0 && (backlog.length < wantBack || i === names.length - 1); i--) {
    const n = names[i]!;
    const buf = readRange(path.join(auditDir, n), 0, sizeOf(path.join(auditDir, n)));
    const end = buf.lastIndexOf(0x0a) + 1; // a line caught mid-write is read, complete, by the tail
    pos.set(n, end);
    if (backlog.length >= wantBack) continue;
    const text = buf.subarray(0, end).toString('utf8');
    const evs: AuditEvent[] = [];
    for (const raw of text.split('\n')) {
      const ev = parseLine(raw);
      if (ev && want(ev)) evs.push(ev);
    }
    backlog.unshift(...evs.slice(Math.max(0, evs.length - (wantBack - backlog.length))));
  }
  for (const ev of backlog) opts.onEvent(ev);
  const floor = names[names.length - 1];

  const poll = (): void => {
    const now = dayFiles(auditDir).filter((n) => floor === undefined || n >= floor);
    for (const n of now.slice(-2)) {
      const file = path.join(auditDir, n);
      const size = sizeOf(file);
      let at = pos.get(n) ?? 0;
      if (size < at) at = 0; // replaced or truncated: read it again from the start
      if (size === at) continue;
      // only whole lines: a line caught mid-write is read again, complete, next round
      const buf = readRange(file, at, size);
      const end = buf.lastIndexOf(0x0a);
      if (end < 0) continue;
      pos.set(n, at + end + 1);
      for (const raw of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (raw.trim() === '') continue;
        const ev = parseLine(raw);
        if (!ev) opts.onSkip?.(file);
        else if (want(ev)) opts.onEvent(ev);
      }
    }
  };

  await new Promise<void>((resolve, reject) => {
    if (opts.signal?.aborted) return resolve();
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (timer) clearTimeout(timer);
      resolve();
    };
    opts.signal?.addEventListener('abort', stop, { once: true });
    const tick = (): void => {
      try {
        poll();
      } catch (e) {
        opts.signal?.removeEventListener('abort', stop);
        reject(e);
        return;
      }
      if (!opts.signal?.aborted) timer = setTimeout(tick, interval);
    };
    timer = setTimeout(tick, interval);
  });
}
