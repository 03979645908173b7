/**
 * Reads the audit log back (for `aivault audit`): newest first. A line that is not a JSON object
 * (typically a truncated last line after a crash) is skipped, never fatal; `onSkip` hears about it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import type { AuditEvent } from './types.js';

const FILE_NAME = /^\d{4}-\d{2}-\d{2}\.jsonl$/;

export interface ReadAuditOptions {
  /** At most this many events (newest). */
  limit?: number;
  /** Only events with this runId. */
  runId?: string;
  /** Called for each unparseable line (file, 1-based line number). */
  onSkip?: (file: string, line: number) => void;
}

/** `dir` is the vault root (the log lives in `dir/audit/`). Missing log → []. */
export function readAudit(dir: string, opts: ReadAuditOptions = {}): AuditEvent[] {
  const auditDir = path.join(dir, 'audit');
  let names: string[];
  try {
    names = fs.readdirSync(auditDir).filter((n) => FILE_NAME.test(n));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new AivaultError('vault_io', `cannot read audit log folder ${auditDir} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { file: auditDir });
  }
  names.sort().reverse(); // newest day first
  const limit = opts.limit ?? Infinity;
  const out: AuditEvent[] = [];
  for (const name of names) {
    if (out.length >= limit) break;
    const file = path.join(auditDir, name);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new AivaultError('vault_io', `cannot read audit log ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { file });
    }
    const lines = text.split('\n');
    const events: AuditEvent[] = [];
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      if (raw.trim() === '') continue;
      let ev: unknown;
      try {
        ev = JSON.parse(raw);
      } catch {
        ev = undefined;
      }
      if (typeof ev !== 'object' || ev === null || Array.isArray(ev) || typeof (ev as AuditEvent).event !== 'string') {
        opts.onSkip?.(file, i + 1);
        continue;
      }
      if (opts.runId !== undefined && (ev as AuditEvent).runId !== opts.runId) continue;
      events.push(ev as AuditEvent);
    }
    // Within a day: newest first. Lines are in write order; concurrent writers can interleave
    // slightly, so order by `ts` (stable: equal stamps keep reverse write order).
    events.reverse();
    events.sort((a, b) => cmpTs(b, a));
    for (const ev of events) {
      if (out.length >= limit) break;
      out.push(ev);
    }
  }
  return out;
}

function cmpTs(a: AuditEvent, b: AuditEvent): number {
  const x = typeof a.ts === 'string' ? a.ts : '';
  const y = typeof b.ts === 'string' ? b.ts : '';
  return x < y ? -1 : x > y ? 1 : 0;
}
