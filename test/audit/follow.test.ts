/** `aivault audit --follow` (SPEC §4, §7): a live tail of the log, across the UTC day rollover. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { followAudit } from '../../src/audit/follow.js';
import { openAuditLog } from '../../src/audit/log.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { startFakeProvider } from '../helpers/fake-provider.js';
import { BIN } from '../helpers/cli.js';
import { fx, launch, NODE, vaultWith } from '../exec/launch.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

test('followAudit: backlog oldest first, then new lines, a half-written line once complete, and the next day file', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-follow-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const audit = path.join(dir, 'audit');
  fs.mkdirSync(audit);
  const day1 = path.join(audit, '2030-01-01.jsonl');
  const line = (i: number, runId = 'r1') => JSON.stringify({ ts: `2030-01-01T10:00:${String(i).padStart(2, '0')}.000Z`, event: 'request', runId, i }) + '\n';
  fs.writeFileSync(day1, Array.from({ length: 15 }, (_, i) => line(i, i % 2 ? 'r2' : 'r1')).join('') + '{"ts":"2030-01-01T10:00:15.000Z","ev');
  const got: AuditEvent[] = [];
  const ac = new AbortController();
  const skipped: string[] = [];
  const done = followAudit(dir, { backlog: 4, runId: 'r1', intervalMs: 20, signal: ac.signal, onEvent: (e) => got.push(e), onSkip: (f) => skipped.push(f) });
  assert.deepEqual(got.map((e) => e.i), [8, 10, 12, 14], 'the last 4 of the run, oldest first');
  // the half-written line is completed by its writer
  fs.appendFileSync(day1, 'ent":"request","runId":"r1","i":15}\n');
  await until(() => got.length === 5);
  assert.equal(got[4]!.i, 15);
  fs.appendFileSync(day1, line(16, 'r2') + line(17));
  await until(() => got.length === 6);
  // rollover: the next day's file appears; a late line for the old day still arrives
  fs.writeFileSync(path.join(audit, '2030-01-02.jsonl'), JSON.stringify({ ts: '2030-01-02T00:00:00.100Z', event: 'request', runId: 'r1', i: 18 }) + '\n');
  fs.appendFileSync(day1, line(19));
  await until(() => got.length === 8);
  assert.deepEqual(got.map((e) => e.i).sort((a, b) => (a as number) - (b as number)), [8, 10, 12, 14, 15, 17, 18, 19]);
  assert.deepEqual(skipped, []);
  ac.abort();
  await done;
});

test('followAudit: starts on an empty vault and picks up the first file written by the group commit', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-follow-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const got: AuditEvent[] = [];
  const ac = new AbortController();
  const done = followAudit(dir, { intervalMs: 20, signal: ac.signal, onEvent: (e) => got.push(e) });
  const log = openAuditLog({ dir, groupCommit: { intervalMs: 20 } });
  for (let i = 0; i < 3; i++) log.append({ event: 'request', runId: 'x', i });
  await until(() => got.length === 3);
  assert.deepEqual(got.map((e) => e.i), [0, 1, 2]);
  ac.abort();
  await done;
  log.flushSync();
});

test('aivault audit --follow tails a live exec run and exits 0 on SIGINT', async (t) => {
  const fake = await startFakeProvider();
  const vault = await vaultWith({ OPENAI_API_KEY: 'sk-SENTINEL-follow-77' });
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-follow-state-'));
  t.after(async () => {
    await fake.close();
    fs.rmSync(vault, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
  });
  const tail = spawn(NODE, [BIN, 'audit', '--follow', '--json', '--limit', '0'], { env: { PATH: process.env.PATH ?? '', HOME: vault, AIVAULT_DIR: vault }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  tail.stdout.on('data', (b: Buffer) => (out += b.toString()));
  tail.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => tail.on('close', (code) => r(code)));
  const events = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
  await sleep(300); // the tail is polling before the run starts
  const run = launch(['--allow', 'openai/models', '--', NODE, fx('audit-client.mjs'), state, 'req:3', 'mark:live', 'wait:go'], { env: { AIVAULT_DIR: vault, ...fake.devEnv() } });
  // while the run is still alive (the child waits for `go`), its lines show up in the tail
  await until(() => events().filter((e) => e.event === 'request').length === 3, 15_000);
  assert.ok(fs.existsSync(path.join(state, 'live')) && !fs.existsSync(path.join(state, 'go')));
  const evs = events();
  assert.equal(evs[0]!.event, 'run.started');
  assert.ok(evs.slice(1).every((e) => e.runId === evs[0]!.runId && e.status === 200));
  fs.writeFileSync(path.join(state, 'go'), '');
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  await until(() => events().some((e) => e.event === 'run.ended'));
  assert.ok(!out.includes('sk-SENTINEL'));
  tail.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.equal(err, '');
});
