/** `aivault invoke` end to end: real CLI, real vault in a temp AIVAULT_DIR, fake provider. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { useCliLab } from '../helpers/cli-lab.js';
import { reply } from '../helpers/fake-provider.js';

const KEY = 'sk-SENTINEL-invoke-0123456789';
const lab = useCliLab({ OPENAI_API_KEY: KEY });

test('invoke: default method/path, body to stdout, status to stderr, exit 0', async () => {
  lab.provider.reset();
  lab.provider.on('POST', '/v1/chat/completions', reply.sse([{ n: 1 }, { n: 2 }], { delayMs: 20 }));
  const r = await runCli(['invoke', 'openai/chat-completions', '--body', '{"model":"x","stream":true}', '--header', 'content-type: application/json'], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
  assert.match(r.stderr, /^HTTP 200/m);
  const q = lab.provider.requests[0]!;
  assert.equal(q.method, 'POST');
  assert.equal(q.path, '/v1/chat/completions');
  assert.equal(q.headers.authorization, `Bearer ${KEY}`);
  assert.equal(q.headers['content-type'], 'application/json');
  assert.equal(q.body.toString(), '{"model":"x","stream":true}');
  assert.equal((r.stdout + r.stderr).includes(KEY), false);
});

test('invoke: non-2xx upstream → exit 1; body still printed and redacted', async () => {
  lab.provider.reset();
  lab.provider.on('GET', '/v1/models', reply.json(401, { error: `bad key ${KEY}` }));
  const r = await runCli(['invoke', 'openai/models', '--method', 'GET', '--path', '/v1/models'], { env: lab.env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /HTTP 401/);
  assert.match(r.stdout, /\[REDACTED\]/);
  assert.equal(r.stdout.includes(KEY), false);
});

test('invoke: broker refusal is one line, exit 1, nothing sent', async () => {
  lab.provider.reset();
  const r = await runCli(['invoke', 'openai/chat-completions', '--path', '/v1/files'], { env: lab.env });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /path_not_allowed/);
  const r2 = await runCli(['invoke', 'openai/chat-completions', '--header', 'authorization: Bearer mine'], { env: lab.env });
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /auth_header_rejected/);
  assert.equal(lab.provider.requests.length, 0);
});

test('invoke: --body-file, unknown capability, usage errors', async () => {
  lab.provider.reset();
  const f = path.join(lab.dir, 'body.json');
  fs.writeFileSync(f, '{"input":"hello"}');
  const ok = await runCli(['invoke', 'openai/embeddings', '--body-file', f], { env: lab.env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(lab.provider.requests[0]!.body.toString(), '{"input":"hello"}');
  const unknown = await runCli(['invoke', 'nope/nothing'], { env: lab.env });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown capability/);
  const both = await runCli(['invoke', 'openai/embeddings', '--body', 'a', '--body-file', f], { env: lab.env });
  assert.equal(both.code, 2);
});

test('invoke: audit has run.started, one request line, run.ended — no secret', () => {
  const auditDir = path.join(lab.dir, 'audit');
  const text = fs.readdirSync(auditDir).map((n) => fs.readFileSync(path.join(auditDir, n), 'utf8')).join('');
  assert.equal(text.includes(KEY), false);
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const requests = lines.filter((l) => l.event === 'request');
  assert.ok(requests.length >= 4);
  assert.ok(lines.some((l) => l.event === 'run.ended' && l.requests === 1));
});
