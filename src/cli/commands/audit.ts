/**
 * `aivault audit [--limit N] [--run RUN_ID] [--json] [--follow]` — newest events first (default 50).
 * Table on stdout (the data this command exists to print); `--json` prints one JSON array.
 * `--follow`: a live tail, oldest first: the last N events (default 10), then each event as it
 * lands (one row, or one JSON object per line with --json), until SIGINT/SIGTERM (exit 0).
 * Notes (e.g. unreadable lines skipped) go to stderr.
 */
import { parse, usage } from '../args.js';
import { data, info, json } from '../output.js';
import { auditDirFromEnv } from '../../audit/log.js';
import { readAudit } from '../../audit/read.js';
import type { AuditEvent } from '../../audit/types.js';

const DEFAULT_LIMIT = 50;
const FOLLOW_BACKLOG = 10;

async function follow(backlog: number, runId: string | undefined, asJson: boolean): Promise<number> {
  const { followAudit } = await import('../../audit/follow.js');
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // a closed pipe (`| head`) ends the tail quietly
  process.stdout.on('error', stop);
  let skipped = 0;
  try {
    await followAudit(auditDirFromEnv(process.env), {
      backlog,
      ...(runId !== undefined ? { runId } : {}),
      signal: ac.signal,
      onEvent: (ev) => {
        if (ac.signal.aborted) return;
        process.stdout.write(asJson ? JSON.stringify(ev) + '\n' : formatRow(ev) + '\n');
      },
      onSkip: () => {
        skipped++;
      },
    });
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
  if (skipped > 0) info(`aivault: skipped ${skipped} unreadable audit line${skipped === 1 ? '' : 's'}`);
  return 0;
}

/** One event as a row of fixed-width columns (the tail cannot know later rows' widths). */
export function formatRow(ev: AuditEvent): string {
  const ts = typeof ev.ts === 'string' ? ev.ts : '-';
  const run = typeof ev.runId === 'string' ? ev.runId : '-';
  return clean(`${ts.padEnd(24)}  ${ev.event.padEnd(14)}  ${run.padEnd(36)}  ${formatDetail(ev)}`).trimEnd();
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    limit: { type: 'string' },
    run: { type: 'string' },
    json: { type: 'boolean' },
    follow: { type: 'boolean', short: 'f' },
  });
  let limit = values.follow ? FOLLOW_BACKLOG : DEFAULT_LIMIT;
  if (values.limit !== undefined) {
    if (!(values.follow ? /^(0|[1-9][0-9]{0,8})$/ : /^[1-9][0-9]{0,8}$/).test(values.limit)) throw usage('--limit must be a positive integer');
    limit = Number(values.limit);
  }
  if (values.run !== undefined && values.run.trim() === '') throw usage('--run needs a run id');
  if (values.follow) return follow(limit, values.run, values.json === true);

  let skipped = 0;
  const events = readAudit(auditDirFromEnv(process.env), {
    limit,
    ...(values.run !== undefined ? { runId: values.run } : {}),
    onSkip: () => {
      skipped++;
    },
  });
  if (skipped > 0) info(`aivault: skipped ${skipped} unreadable audit line${skipped === 1 ? '' : 's'}`);

  if (values.json) {
    json(events);
    return 0;
  }
  if (events.length === 0) {
    info(values.run !== undefined ? `aivault: no audit events for run ${clean(values.run)}` : 'aivault: no audit events');
    return 0;
  }
  data(formatTable(events));
  return 0;
}

/** Terminal-safe text: audited fields (paths, commands) can come from untrusted code. */
function clean(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const DETAIL_ORDER: Record<string, string[]> = {
  request: ['decision', 'status', 'method', 'host', 'path', 'capability', 'credential', 'code', 'durationMs', 'bytes'],
  'run.started': ['command', 'capabilities', 'allowed'],
  'run.ended': ['exitCode', 'signal', 'requests', 'denied', 'durationMs'],
};

function fmtValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(',');
  return JSON.stringify(v) ?? String(v);
}

export function formatDetail(ev: AuditEvent): string {
  const order = DETAIL_ORDER[ev.event] ?? [];
  const keys = [...order.filter((k) => k in ev), ...Object.keys(ev).filter((k) => !order.includes(k))].filter(
    (k) => k !== 'ts' && k !== 'event' && k !== 'runId' && ev[k] !== undefined && ev[k] !== null,
  );
  return keys.map((k) => `${k}=${fmtValue(ev[k])}`).join(' ');
}

export function formatTable(events: AuditEvent[]): string {
  const rows = events.map((ev) => [
    typeof ev.ts === 'string' ? ev.ts : '-',
    ev.event,
    typeof ev.runId === 'string' ? ev.runId : '-',
    formatDetail(ev),
  ].map((c) => clean(String(c))));
  const head = ['TIME', 'EVENT', 'RUN', 'DETAIL'];
  const widths = [0, 1, 2].map((i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => [0, 1, 2].map((i) => r[i]!.padEnd(widths[i]!)).join('  ') + '  ' + r[3];
  return [line(head), ...rows.map(line)].map((l) => l.trimEnd()).join('\n');
}
