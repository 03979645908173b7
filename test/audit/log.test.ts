import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditDirFromEnv, diskLogsDisabled, openAuditLog } from '../../src/audit/log.js';
import { readAudit } from '../../src/audit/read.js';
import { AivaultError } from '../../src/errors/aivault-error.js';
import { tempDir } from '../helpers/tmp.js';

const SENTINEL = 'sk-SENTINEL-audit-0123456789';

function tmp(): string {
  return tempDir('aivault-audit-');
}

function auditFiles(dir: string): string[] {
  try {
    return fs.readdirSync(path.join(dir, 'audit')).sort();
  } catch {
    return [];
  }
}

function rawLines(dir: string): string[] {
  return auditFiles(dir).flatMap((f) => fs.readFileSync(path.join(dir, 'audit', f), 'utf8').split('\n').filter(Boolean));
}

test('append + flush writes one JSON line per event, ts first, in order, UTC-dated file', async () => {
  const dir = tmp();
  const log = openAuditLog({ dir });
  const before = new Date().toISOString();
  log.append({ event: 'run.started', runId: 'r1', command: 'node', capabilities: ['openai/chat-completions'] });
  log.append({ event: 'request', runId: 'r1', capability: 'openai/chat-completions', method: 'POST', status: 200 });
  log.append({ event: 'run.ended', runId: 'r1', exitCode: 0, signal: null, durationMs: 5, requests: 1, denied: 0 });
  assert.equal(log.pending, 3);
  assert.deepEqual(auditFiles(dir), [], 'nothing written before flush');
  await log.flush();
  assert.equal(log.pending, 0);
  const files = auditFiles(dir);
  assert.equal(files.length, 1);
  assert.match(files[0]!, /^\d{4}-\d{2}-\d{2}\.jsonl$/);
  assert.ok(files[0]! >= before.slice(0, 10) + '.jsonl');
  const lines = rawLines(dir);
  assert.equal(lines.length, 3);
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(parsed.map((e) => e.event), ['run.started', 'request', 'run.ended']);
  for (const [i, l] of lines.entries()) {
    assert.ok(l.startsWith('{"ts":"'), 'ts is the first field');
    assert.equal(Object.keys(parsed[i]!)[1], 'event');
    assert.match(parsed[i]!.ts as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.equal(files[0], `${(parsed[i]!.ts as string).slice(0, 10)}.jsonl`);
  }
  assert.deepEqual(parsed[2], { ts: parsed[2]!.ts, event: 'run.ended', runId: 'r1', exitCode: 0, signal: null, durationMs: 5, requests: 1, denied: 0 });
});

test('permissions: audit dir 0700, file 0600', { skip: process.platform === 'win32' }, async () => {
  const dir = tmp();
  const log = openAuditLog({ dir });
  log.append({ event: 'x' });
  await log.flush();
  assert.equal(fs.statSync(path.join(dir, 'audit')).mode & 0o777, 0o700);
  assert.equal(fs.statSync(path.join(dir, 'audit', auditFiles(dir)[0]!)).mode & 0o777, 0o600);
});

test('append-only: a second writer appends, never truncates', async () => {
  const dir = tmp();
  const a = openAuditLog({ dir });
  a.append({ event: 'one' });
  await a.flush();
  const b = openAuditLog({ dir });
  b.append({ event: 'two' });
  await b.flush();
  a.append({ event: 'three' });
  await a.flush();
  assert.deepEqual(rawLines(dir).map((l) => (JSON.parse(l) as { event: string }).event), ['one', 'two', 'three']);
});

test('overlapping flushes keep append order', async () => {
  const dir = tmp();
  const log = openAuditLog({ dir });
  const flushes: Promise<void>[] = [];
  for (let i = 0; i < 50; i++) {
    log.append({ event: 'n', i });
    if (i % 7 === 0) flushes.push(log.flush());
  }
  flushes.push(log.flush());
  await Promise.all(flushes);
  assert.deepEqual(rawLines(dir).map((l) => (JSON.parse(l) as { i: number }).i), Array.from({ length: 50 }, (_, i) => i));
});

test('secret-named fields are dropped at any depth; path/url lose their query string', async () => {
  const dir = tmp();
  const log = openAuditLog({ dir });
  log.append({
    event: 'request',
    runId: 'r',
    value: SENTINEL,
    secret: SENTINEL,
    token: SENTINEL,
    Authorization: `Bearer ${SENTINEL}`,
    password: SENTINEL,
    path: `/v1/models?key=${SENTINEL}`,
    nested: { headers: { authorization: SENTINEL, 'x-api-key': SENTINEL, accept: 'json' }, url: `https://h.example.com/p?token=${SENTINEL}#frag` },
    list: [{ token: SENTINEL, ok: 1 }],
    ts: 'caller-supplied-ts-is-ignored',
  });
  await log.flush();
  const text = rawLines(dir).join('\n');
  assert.equal(text.includes('SENTINEL'), false, text);
  const ev = JSON.parse(text) as Record<string, any>;
  assert.equal(ev.path, '/v1/models');
  assert.deepEqual(ev.nested, { headers: { accept: 'json' }, url: 'https://h.example.com/p' });
  assert.deepEqual(ev.list, [{ ok: 1 }]);
  assert.notEqual(ev.ts, 'caller-supplied-ts-is-ignored');
  for (const k of ['value', 'secret', 'token', 'Authorization', 'password']) assert.equal(k in ev, false, k);
});

test('a Telegram-style path-auth token in a path field is redacted', async () => {
  const dir = tmp();
  const log = openAuditLog({ dir });
  log.append({ event: 'request', path: '/bot123456:AAH-SENTINEL_token/sendMessage?x=1' });
  await log.flush();
  const text = rawLines(dir).join('\n');
  assert.equal(text.includes('SENTINEL'), false);
  assert.equal((JSON.parse(text) as { path: string }).path, '/bot[REDACTED]/sendMessage');
});

test('append never throws on odd input (circular, bigint, functions)', async () => {
  const dir = tmp();
  const log = openAuditLog({ dir });
  const circ: Record<string, unknown> = { event: 'weird' };
  circ.self = circ;
  log.append(circ as never);
  log.append({ event: 'big', n: 10n, f: () => 1 } as never);
  await log.flush();
  const lines = rawLines(dir).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.event, 'weird');
  assert.deepEqual({ n: lines[1]!.n, f: lines[1]!.f }, { n: '10', f: undefined });
});

test('disabled: append/flush write nothing, not even the audit dir', async () => {
  const dir = tmp();
  const log = openAuditLog({ dir, disabled: true });
  log.append({ event: 'run.started', runId: 'r' });
  await log.flush();
  log.flushSync();
  assert.equal(fs.existsSync(path.join(dir, 'audit')), false);
  assert.equal(log.disabled, true);
});

test('diskLogsDisabled reads AIVAULT_DISABLE_DISK_LOGS', () => {
  assert.equal(diskLogsDisabled({ AIVAULT_DISABLE_DISK_LOGS: '1' }), true);
  assert.equal(diskLogsDisabled({ AIVAULT_DISABLE_DISK_LOGS: 'true' }), true);
  assert.equal(diskLogsDisabled({ AIVAULT_DISABLE_DISK_LOGS: '0' }), false);
  assert.equal(diskLogsDisabled({}), false);
});

test('a write failure rejects with vault_io, keeps the lines, and a later flush writes them', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'audit'), 'not a directory');
  const log = openAuditLog({ dir });
  log.append({ event: 'a' });
  log.append({ event: 'b' });
  await assert.rejects(log.flush(), (e: unknown) => e instanceof AivaultError && e.code === 'vault_io' && /audit/.test(e.message));
  assert.equal(log.pending, 2);
  assert.throws(() => log.flushSync(), (e: unknown) => e instanceof AivaultError && e.code === 'vault_io');
  assert.equal(log.pending, 2);
  fs.rmSync(path.join(dir, 'audit'));
  log.append({ event: 'c' });
  await log.flush();
  assert.deepEqual(rawLines(dir).map((l) => (JSON.parse(l) as { event: string }).event), ['a', 'b', 'c']);
});

test('flushSync writes synchronously', () => {
  const dir = tmp();
  const log = openAuditLog({ dir });
  log.append({ event: 'sync' });
  log.flushSync();
  assert.equal(rawLines(dir).length, 1);
});

test('auditDirFromEnv: $AIVAULT_DIR else ~/.aivault/vault', () => {
  assert.equal(auditDirFromEnv({ AIVAULT_DIR: '/x/y' }), path.resolve('/x/y'));
  assert.equal(auditDirFromEnv({ HOME: '/home/u' }), path.join('/home/u', '.aivault', 'vault'));
  assert.equal(auditDirFromEnv({ AIVAULT_DIR: '', HOME: '/home/u' }), path.join('/home/u', '.aivault', 'vault'));
});

// ---- reader

function writeDay(dir: string, day: string, lines: string[], trailingNewline = true): void {
  fs.mkdirSync(path.join(dir, 'audit'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'audit', `${day}.jsonl`), lines.join('\n') + (trailingNewline ? '\n' : ''));
}
const ev = (ts: string, event: string, runId?: string) => JSON.stringify({ ts, event, ...(runId ? { runId } : {}) });

test('readAudit: newest first across days and within a day', () => {
  const dir = tmp();
  writeDay(dir, '2025-01-01', [ev('2025-01-01T10:00:00.000Z', 'a', 'r1'), ev('2025-01-01T11:00:00.000Z', 'b', 'r1')]);
  writeDay(dir, '2025-01-02', [ev('2025-01-02T09:00:00.000Z', 'c', 'r2'), ev('2025-01-02T09:30:00.000Z', 'd', 'r2')]);
  assert.deepEqual(readAudit(dir).map((e) => e.event), ['d', 'c', 'b', 'a']);
});

test('readAudit: equal timestamps keep reverse write order', () => {
  const dir = tmp();
  const t = '2025-01-01T10:00:00.000Z';
  writeDay(dir, '2025-01-01', [ev(t, 'first'), ev(t, 'second'), ev(t, 'third')]);
  assert.deepEqual(readAudit(dir).map((e) => e.event), ['third', 'second', 'first']);
});

test('readAudit: limit and runId filters', () => {
  const dir = tmp();
  writeDay(dir, '2025-01-01', [ev('2025-01-01T10:00:00.000Z', 'a', 'r1'), ev('2025-01-01T11:00:00.000Z', 'b', 'r2')]);
  writeDay(dir, '2025-01-02', [ev('2025-01-02T09:00:00.000Z', 'c', 'r1'), ev('2025-01-02T09:30:00.000Z', 'd', 'r2')]);
  assert.deepEqual(readAudit(dir, { limit: 3 }).map((e) => e.event), ['d', 'c', 'b']);
  assert.deepEqual(readAudit(dir, { runId: 'r1' }).map((e) => e.event), ['c', 'a']);
  assert.deepEqual(readAudit(dir, { runId: 'r1', limit: 1 }).map((e) => e.event), ['c']);
  assert.deepEqual(readAudit(dir, { runId: 'nope' }), []);
});

test('readAudit: a truncated last line is skipped, not fatal', () => {
  const dir = tmp();
  writeDay(dir, '2025-01-01', [ev('2025-01-01T10:00:00.000Z', 'a'), ev('2025-01-01T11:00:00.000Z', 'b'), '{"ts":"2025-01-01T12:00:00.000Z","event":"req'], false);
  const skipped: number[] = [];
  assert.deepEqual(readAudit(dir, { onSkip: (_f, line) => skipped.push(line) }).map((e) => e.event), ['b', 'a']);
  assert.deepEqual(skipped, [3]);
});

test('readAudit: garbage lines and foreign files are ignored', () => {
  const dir = tmp();
  writeDay(dir, '2025-01-01', ['not json', '[1,2]', '{"no":"event"}', ev('2025-01-01T10:00:00.000Z', 'ok')]);
  fs.writeFileSync(path.join(dir, 'audit', 'notes.txt'), 'hello');
  fs.writeFileSync(path.join(dir, 'audit', '2025-01-03.jsonl.tmp'), 'garbage');
  assert.deepEqual(readAudit(dir).map((e) => e.event), ['ok']);
});

test('readAudit: no audit dir → []', () => {
  assert.deepEqual(readAudit(tmp()), []);
});

test('round trip: writer output reads back newest first', async () => {
  const dir = tmp();
  const log = openAuditLog({ dir });
  for (let i = 0; i < 5; i++) log.append({ event: `e${i}`, runId: i % 2 ? 'odd' : 'even' });
  await log.flush();
  assert.deepEqual(readAudit(dir).map((e) => e.event), ['e4', 'e3', 'e2', 'e1', 'e0']);
  assert.deepEqual(readAudit(dir, { runId: 'odd' }).map((e) => e.event), ['e3', 'e1']);
});
