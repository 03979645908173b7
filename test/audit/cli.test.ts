import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempVaultDir } from '../helpers/cli.js';

function seed(): string {
  const dir = tempVaultDir();
  fs.mkdirSync(path.join(dir, 'audit'), { mode: 0o700 });
  const lines = [
    { ts: '2025-03-01T10:00:00.000Z', event: 'run.started', runId: 'run-a', command: 'node', capabilities: ['openai/chat-completions'] },
    { ts: '2025-03-01T10:00:01.000Z', event: 'request', runId: 'run-a', capability: 'openai/chat-completions', credential: 'openai', method: 'POST', host: 'api.openai.com', path: '/v1/chat/completions', status: 200, decision: 'allow', code: null, durationMs: 12 },
    { ts: '2025-03-01T10:00:02.000Z', event: 'request', runId: 'run-a', capability: 'openai/chat-completions', credential: 'openai', method: 'GET', host: 'api.openai.com', path: '/v1/files\u001b[2J', status: 403, decision: 'deny', code: 'path_not_allowed', durationMs: 1 },
    { ts: '2025-03-01T10:00:03.000Z', event: 'run.ended', runId: 'run-a', exitCode: 0, signal: null, durationMs: 3000, requests: 2, denied: 1 },
    { ts: '2025-03-02T08:00:00.000Z', event: 'secret.created', name: 'OPENAI_API_KEY', pinnedProvider: 'openai' },
  ];
  fs.writeFileSync(path.join(dir, 'audit', '2025-03-01.jsonl'), lines.slice(0, 4).map((l) => JSON.stringify(l)).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'audit', '2025-03-02.jsonl'), JSON.stringify(lines[4]) + '\n{"ts":"2025-03-02T09:00');
  return dir;
}

test('aivault audit: table on stdout, newest first, truncated line noted on stderr', async () => {
  const dir = seed();
  const r = await runCli(['audit'], { env: { AIVAULT_DIR: dir } });
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trimEnd().split('\n');
  assert.match(rows[0]!, /^TIME\s+EVENT\s+RUN\s+DETAIL$/);
  assert.equal(rows.length, 6);
  assert.match(rows[1]!, /secret\.created\s+-\s+name=OPENAI_API_KEY pinnedProvider=openai/);
  assert.match(rows[2]!, /run\.ended\s+run-a\s+exitCode=0 requests=2 denied=1 durationMs=3000/);
  assert.match(rows[3]!, /request\s+run-a\s+decision=deny status=403 method=GET host=api\.openai\.com path=\/v1\/files\\x1b\[2J capability=openai\/chat-completions credential=openai code=path_not_allowed/);
  assert.match(rows[5]!, /run\.started\s+run-a\s+command=node capabilities=openai\/chat-completions/);
  assert.equal(r.stdout.includes('\u001b'), false, 'control characters escaped');
  assert.match(r.stderr, /skipped 1 unreadable audit line/);
});

test('aivault audit --json: a JSON array, newest first', async () => {
  const dir = seed();
  const r = await runCli(['audit', '--json'], { env: { AIVAULT_DIR: dir } });
  assert.equal(r.code, 0);
  const arr = JSON.parse(r.stdout) as Array<{ event: string; ts: string }>;
  assert.ok(Array.isArray(arr));
  assert.deepEqual(arr.map((e) => e.event), ['secret.created', 'run.ended', 'request', 'request', 'run.started']);
});

test('aivault audit --limit N --run ID', async () => {
  const dir = seed();
  const r1 = await runCli(['audit', '--json', '--limit', '2'], { env: { AIVAULT_DIR: dir } });
  assert.deepEqual((JSON.parse(r1.stdout) as Array<{ event: string }>).map((e) => e.event), ['secret.created', 'run.ended']);
  const r2 = await runCli(['audit', '--json', '--run', 'run-a', '--limit', '3'], { env: { AIVAULT_DIR: dir } });
  const evs = JSON.parse(r2.stdout) as Array<{ event: string; runId: string }>;
  assert.deepEqual(evs.map((e) => e.event), ['run.ended', 'request', 'request']);
  assert.ok(evs.every((e) => e.runId === 'run-a'));
  const r3 = await runCli(['audit', '--run', 'nope'], { env: { AIVAULT_DIR: dir } });
  assert.equal(r3.code, 0);
  assert.equal(r3.stdout, '');
  assert.match(r3.stderr, /no audit events for run nope/);
});

test('aivault audit: bad --limit / unknown flag / positional → exit 2, one line', async () => {
  const dir = seed();
  for (const args of [['--limit', '0'], ['--limit', '-3'], ['--limit', 'ten'], ['--limit', '1.5'], ['--limit'], ['--bogus'], ['extra'], ['--run', '']]) {
    const r = await runCli(['audit', ...args], { env: { AIVAULT_DIR: dir } });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, args.join(' '));
    assert.equal(r.stdout, '');
  }
});

test('aivault audit: empty vault → message on stderr, nothing on stdout, exit 0; --json → []', async () => {
  const dir = tempVaultDir();
  const r = await runCli(['audit'], { env: { AIVAULT_DIR: dir } });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /no audit events/);
  const j = await runCli(['audit', '--json'], { env: { AIVAULT_DIR: dir } });
  assert.deepEqual(JSON.parse(j.stdout), []);
});
