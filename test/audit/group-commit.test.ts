/**
 * Group commit (SPEC §7 "durable during the run"): lines reach the file without any flush() call,
 * within the interval or as soon as a group is full, with one write per group and per day file;
 * memory stays bounded; a failed group fails the log closed (onFailure, no further group writes)
 * and keeps the unwritten lines for a last attempt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openAuditLog, type AuditIo } from '../../src/audit/log.js';
import { AivaultError } from '../../src/errors/aivault-error.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-gc-'));
  return d;
}

function lines(dir: string): Array<Record<string, unknown>> {
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(dir, 'audit')).sort();
  } catch {
    return [];
  }
  return names.flatMap((f) =>
    fs
      .readFileSync(path.join(dir, 'audit', f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
}

/** Real fs calls, counted; `failWrites` makes writeSync fail with ENOSPC. */
function countingIo(): { io: Partial<AuditIo>; writes: number; syncs: number; failWrites: boolean; failSync: boolean } {
  const state = {
    writes: 0,
    syncs: 0,
    failWrites: false,
    failSync: false,
    io: {} as Partial<AuditIo>,
  };
  state.io = {
    writeSync(fd, buf, off, len) {
      if (state.failWrites) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      state.writes++;
      return fs.writeSync(fd, buf, off, len);
    },
    fdatasync(fd, cb) {
      state.syncs++;
      if (state.failSync) setImmediate(() => cb(Object.assign(new Error('io'), { code: 'EIO' })));
      else fs.fdatasync(fd, cb);
    },
  };
  return state;
}

test('group commit: lines reach the file within the interval, without flush(), in one write', async (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const c = countingIo();
  const log = openAuditLog({ dir, io: c.io, groupCommit: { intervalMs: 40, maxLines: 1000 } });
  for (let i = 0; i < 7; i++) log.append({ event: 'request', runId: 'r', i });
  assert.equal(lines(dir).length, 0, 'not written synchronously by append()');
  const t0 = Date.now();
  while (lines(dir).length < 7 && Date.now() - t0 < 2000) await sleep(5);
  const elapsed = Date.now() - t0;
  assert.deepEqual(lines(dir).map((e) => e.i), [0, 1, 2, 3, 4, 5, 6]);
  assert.ok(elapsed < 250, `lines on disk after ${elapsed} ms`);
  assert.equal(c.writes, 1, 'one write for the group');
  assert.equal(log.stats.groups, 1);
  assert.equal(log.pending, 0);
  // fsync policy 'group': the group is fdatasynced off the main thread
  while (log.stats.fsyncs < 1 && Date.now() - t0 < 2000) await sleep(5);
  assert.equal(c.syncs, 1);
  // a later line starts a new group
  log.append({ event: 'request', runId: 'r', i: 7 });
  await sleep(120);
  assert.equal(lines(dir).length, 8);
  assert.equal(c.writes, 2);
});

test('group commit: a full group is written at once (size trigger), one write per group', async (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const c = countingIo();
  const log = openAuditLog({ dir, io: c.io, groupCommit: { intervalMs: 60_000, maxLines: 10 } });
  for (let i = 0; i < 25; i++) log.append({ event: 'request', i });
  assert.equal(lines(dir).length, 20, 'two full groups written synchronously with the append that filled them');
  assert.equal(c.writes, 2);
  assert.equal(log.pending, 5);
  await log.flush();
  assert.deepEqual(lines(dir).map((e) => e.i), Array.from({ length: 25 }, (_, i) => i));
  assert.equal(c.writes, 3);
});

test("fsync policy 'end': groups are written but not synced until flush", async (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const c = countingIo();
  const log = openAuditLog({ dir, io: c.io, groupCommit: { intervalMs: 10, maxLines: 5, fsync: 'end' } });
  for (let i = 0; i < 12; i++) log.append({ event: 'x', i });
  await sleep(60);
  assert.equal(lines(dir).length, 12);
  assert.equal(c.syncs, 0);
  log.flushSync();
  assert.equal(log.stats.fsyncs, 1, 'one fdatasync for the day file at the end');
});

test('memory stays bounded: the queue never holds more than one group', (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = openAuditLog({ dir, groupCommit: { intervalMs: 60_000, maxLines: 64, fsync: 'end' } });
  let maxPending = 0;
  for (let i = 0; i < 20_000; i++) {
    log.append({ event: 'request', runId: 'r', method: 'POST', path: '/v1/chat/completions', status: 200, i });
    maxPending = Math.max(maxPending, log.pending);
  }
  assert.ok(maxPending < 64, `pending peaked at ${maxPending}`);
  log.flushSync();
  assert.equal(lines(dir).length, 20_000);
});

test('a failed group fails closed: onFailure once, no further group writes, lines kept for the last attempt', async (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const c = countingIo();
  const log = openAuditLog({ dir, io: c.io, groupCommit: { intervalMs: 10, maxLines: 3 } });
  const failures: Error[] = [];
  log.onFailure((e) => failures.push(e));
  for (let i = 0; i < 3; i++) log.append({ event: 'x', i });
  assert.equal(lines(dir).length, 3);
  c.failWrites = true;
  for (let i = 3; i < 6; i++) log.append({ event: 'x', i });
  assert.equal(failures.length, 1);
  assert.ok(log.failure instanceof AivaultError && log.failure.code === 'vault_io' && /ENOSPC/.test(log.failure.message), String(log.failure));
  c.failWrites = false;
  for (let i = 6; i < 20; i++) log.append({ event: 'x', i });
  await sleep(50);
  assert.equal(lines(dir).length, 3, 'no group is written after a failure');
  assert.equal(failures.length, 1, 'reported once');
  assert.equal(log.pending, 17);
  // the last attempt (teardown) writes everything kept, in order
  log.flushSync();
  assert.deepEqual(lines(dir).map((e) => e.i), Array.from({ length: 20 }, (_, i) => i));
});

test('after a failure the kept backlog is bounded; dropped lines are counted and reported', (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const c = countingIo();
  const log = openAuditLog({ dir, io: c.io, groupCommit: { intervalMs: 10, maxLines: 1, maxRetainedBytes: 2000 } });
  c.failWrites = true;
  for (let i = 0; i < 1000; i++) log.append({ event: 'x', i, pad: 'p'.repeat(50) });
  assert.ok(log.failure);
  assert.ok(log.pending < 40, `kept ${log.pending}`);
  assert.ok(log.stats.dropped > 900);
  c.failWrites = false;
  assert.throws(() => log.flushSync(), (e: unknown) => e instanceof AivaultError && /audit lines? lost/.test(e.message));
  assert.equal(lines(dir).length, 1000 - log.stats.dropped, 'what was kept is written');
});

// A failed fdatasync fails the log closed, whether it followed a group commit or writeSync (the
// launcher's run.started): onFailure once, `failure` set, and writeSync refuses from then on.
const SYNC_TRIGGERS: Array<[string, (log: ReturnType<typeof openAuditLog>) => void]> = [
  ['a failed fdatasync of a group fails the log closed as well', (log) => {
    log.append({ event: 'a' });
    log.append({ event: 'b' });
  }],
  ['writeSync: a failed fsync after it fails the log closed (the broker then refuses requests)', (log) => {
    log.append({ event: 'run.started', runId: 'r' });
    log.writeSync();
  }],
];
for (const [name, trigger] of SYNC_TRIGGERS) {
  test(name, async (t) => {
    const dir = tmp();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const c = countingIo();
    c.failSync = true;
    const log = openAuditLog({ dir, io: c.io, groupCommit: { intervalMs: 10, maxLines: 2 } });
    const failures: Error[] = [];
    log.onFailure((e) => failures.push(e));
    trigger(log);
    const t0 = Date.now();
    while (!log.failure && Date.now() - t0 < 2000) await sleep(5);
    assert.equal(failures.length, 1);
    assert.match(log.failure!.message, /EIO/);
    assert.throws(() => log.writeSync(), (e: unknown) => e instanceof AivaultError);
  });
}

test('a short write is continued, not duplicated', (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let calls = 0;
  const log = openAuditLog({
    dir,
    groupCommit: { maxLines: 4 },
    io: {
      writeSync(fd, buf, off, len) {
        calls++;
        return fs.writeSync(fd, buf, off, Math.min(len, 7));
      },
    },
  });
  for (let i = 0; i < 4; i++) log.append({ event: 'x', i });
  assert.deepEqual(lines(dir).map((e) => e.i), [0, 1, 2, 3]);
  assert.ok(calls > 4);
  log.flushSync();
});

test('lines land in the file of their UTC day (rollover inside one group)', (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const realNow = Date.now;
  const log = openAuditLog({ dir, groupCommit: { intervalMs: 60_000, maxLines: 100 } });
  const RealDate = Date;
  const stamps = ['2030-01-01T23:59:59.900Z', '2030-01-01T23:59:59.990Z', '2030-01-02T00:00:00.010Z'];
  try {
    for (const s of stamps) {
      // formatAuditLine takes the time from new Date()
      globalThis.Date = class extends RealDate {
        constructor(...a: unknown[]) {
          if (a.length) super(...(a as [number]));
          else super(s);
        }
      } as DateConstructor;
      log.append({ event: 'x', s });
    }
  } finally {
    globalThis.Date = RealDate;
    Date.now = realNow;
  }
  log.flushSync();
  assert.deepEqual(fs.readdirSync(path.join(dir, 'audit')).sort(), ['2030-01-01.jsonl', '2030-01-02.jsonl']);
  assert.equal(fs.readFileSync(path.join(dir, 'audit', '2030-01-01.jsonl'), 'utf8').trim().split('\n').length, 2);
});

test('writeSync: the lines are in the file when it returns, their fsync follows off the main thread; a failed write throws and keeps them', async (t) => {
  const dir = tmp();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const c = countingIo();
  const log = openAuditLog({ dir, io: c.io, groupCommit: { intervalMs: 60_000, maxLines: 1000 } });
  log.append({ event: 'run.started', runId: 'r1' });
  log.writeSync();
  assert.deepEqual(lines(dir).map((e) => e.event), ['run.started'], 'written before writeSync returned');
  assert.equal(c.syncs, 1, 'its fdatasync was started');
  assert.equal(log.stats.fsyncs, 0, 'and not waited for');
  const t0 = Date.now();
  while (log.stats.fsyncs < 1 && Date.now() - t0 < 2000) await sleep(5);
  assert.equal(log.stats.fsyncs, 1);
  c.failWrites = true;
  log.append({ event: 'run.started', runId: 'r2' });
  assert.throws(() => log.writeSync(), (e: unknown) => e instanceof AivaultError && /ENOSPC|no space/.test(e.message));
  c.failWrites = false;
  log.flushSync();
  assert.deepEqual(lines(dir).map((e) => e.runId), ['r1', 'r2'], 'the line that failed is written by the next attempt');
});
