/**
 * SPEC §7 with the real launcher: request lines are on disk during the run (a SIGKILLed launcher
 * loses none of the requests that completed a second earlier), and an audit log that becomes
 * unwritable mid-run fails closed: 503 audit_unavailable, nothing more reaches the upstream, the
 * failure is reported on stderr, and a child that exits 0 makes the run exit 125.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { alive, fx, launch, NODE, tmpDir, vaultWith, waitForFile, waitGone } from './launch.js';

const SECRET = 'sk-SENTINEL-durable-5f1c';
let fake: FakeProvider;
let vault = '';
before(async () => {
  fake = await startFakeProvider();
  vault = await vaultWith({ OPENAI_API_KEY: SECRET });
});
after(async () => {
  await fake.close();
  fs.rmSync(vault, { recursive: true, force: true });
});

function auditEvents(dir: string): Array<Record<string, unknown>> {
  const a = path.join(dir, 'audit');
  return fs
    .readdirSync(a)
    .sort()
    .flatMap((f) => fs.readFileSync(path.join(a, f), 'utf8').split('\n'))
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('SIGKILL 1 s after N requests complete: all N request lines are on disk', async (t) => {
  const state = tmpDir();
  t.after(() => fs.rmSync(state, { recursive: true, force: true }));
  const N = 300;
  fake.reset();
  const l = launch(['--allow', 'openai/models', '--', NODE, fx('audit-client.mjs'), state, `req:${N}`, 'mark:done', 'hang'], {
    env: { AIVAULT_DIR: vault, ...fake.devEnv() },
  });
  const childPid = Number(await waitForFile(path.join(state, 'done'), 30_000));
  await new Promise((r) => setTimeout(r, 1000));
  l.child.kill('SIGKILL');
  const r = await l.done;
  assert.equal(r.signal, 'SIGKILL');
  if (!(await waitGone(childPid, 5000))) process.kill(childPid, 'SIGKILL');
  assert.equal(fs.readFileSync(path.join(state, 'results'), 'utf8').trim().split('\n').length, N);
  const events = auditEvents(vault);
  const started = events.filter((e) => e.event === 'run.started').pop()!;
  const runId = started.runId;
  const lines = events.filter((e) => e.event === 'request' && e.runId === runId);
  assert.equal(lines.length, N, 'every completed request has its line on disk');
  assert.ok(lines.every((e) => e.status === 200 && e.capability === 'openai/models'));
  assert.equal(events.filter((e) => e.event === 'run.ended' && e.runId === runId).length, 0, 'the launcher really died');
  assert.ok(!fs.readdirSync(path.join(vault, 'audit')).some((f) => fs.readFileSync(path.join(vault, 'audit', f), 'utf8').includes(SECRET)));
});

test('audit log unwritable mid-run: audit_unavailable, no unaudited upstream request, exit 125', { skip: process.platform !== 'linux' && 'needs /dev/full' }, async (t) => {
  const state = tmpDir();
  const dir = await vaultWith({ OPENAI_API_KEY: SECRET });
  t.after(() => {
    fs.rmSync(state, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  fake.reset();
  const l = launch(
    ['--allow', 'openai/models', '--', NODE, fx('audit-client.mjs'), state, 'req:2', 'mark:phase1', 'wait:go', 'req:1', 'sleep:400', 'req:3'],
    { env: { AIVAULT_DIR: dir, ...fake.devEnv() } },
  );
  await waitForFile(path.join(state, 'phase1'), 30_000);
  await new Promise((r) => setTimeout(r, 300)); // the first group is on disk
  // The day file becomes unwritable: every further write fails with ENOSPC.
  const auditDir = path.join(dir, 'audit');
  const day = fs.readdirSync(auditDir).find((f) => f.endsWith('.jsonl'))!;
  const before = auditEvents(dir).filter((e) => e.event === 'request').length;
  assert.equal(before, 2);
  fs.rmSync(path.join(auditDir, day));
  fs.symlinkSync('/dev/full', path.join(auditDir, day));
  const upstreamBefore = fake.requests.length;
  fs.writeFileSync(path.join(state, 'go'), '');
  const r = await l.done;
  const results = fs.readFileSync(path.join(state, 'results'), 'utf8').trim().split('\n');
  assert.deepEqual(results, ['200 -', '200 -', '200 -', '503 audit_unavailable', '503 audit_unavailable', '503 audit_unavailable']);
  assert.equal(fake.requests.length, upstreamBefore + 1, 'only the request whose line failed reached the upstream; nothing after the failure');
  assert.match(r.stderr, /cannot write audit log .*ENOSPC.*audit_unavailable/);
  assert.equal(r.code, 125, r.stderr);
  assert.ok(!alive(Number(fs.readFileSync(path.join(state, 'phase1'), 'utf8'))));
});
