/**
 * The official SDKs work unmodified inside `aivault exec` against a local fake provider (SPEC §8),
 * streaming included, while the real key only ever travels broker → upstream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { openaiChatReply, startFakeProvider, type FakeProvider, type RecordedRequest } from '../helpers/fake-provider.js';
import { fx, launch, NODE, tmpDir, vaultWith } from './launch.js';

const OPENAI_SECRET = 'sk-SENTINEL-sdk-openai-91b2';
const ANTHROPIC_SECRET = 'sk-ant-SENTINEL-sdk-anthropic-44e1';
let fake: FakeProvider;
let vault = '';

function anthropicMessages(req: RecordedRequest, res: http.ServerResponse): void {
  const body = JSON.parse(req.body.toString() || '{}') as { stream?: boolean };
  const message = { id: 'm1', type: 'message', role: 'assistant', model: 'claude-test', content: [] as unknown[], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...message, content: [{ type: 'text', text: 'hello from fake anthropic' }], stop_reason: 'end_turn' }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const ev = (type: string, data: unknown) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...(data as object) })}\n\n`);
  ev('message_start', { message });
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  for (const t of ['stre', 'am', 'ed']) ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: t } });
  ev('content_block_stop', { index: 0 });
  ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } });
  ev('message_stop', {});
  res.end();
}

before(async () => {
  fake = await startFakeProvider();
  vault = await vaultWith({ OPENAI_API_KEY: OPENAI_SECRET, ANTHROPIC_API_KEY: ANTHROPIC_SECRET });
});
after(async () => {
  await fake.close();
  fs.rmSync(vault, { recursive: true, force: true });
});

test('openai SDK: completion + streaming through the broker; an ungranted capability is refused', async () => {
  fake.reset();
  fake.on('POST', '/v1/chat/completions', openaiChatReply);
  const r = await launch(['--allow', 'openai/chat-completions', '--', NODE, fx('sdk-openai.mjs')], {
    env: { AIVAULT_DIR: vault, ...fake.devEnv(), OPENAI_API_KEY: 'sk-SENTINEL-parent-should-not-leak' },
  }).done;
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.toString()) as { content: string; streamed: string; denied: unknown };
  assert.equal(out.content, 'hello from fake openai');
  assert.equal(out.streamed, 'streamed');
  assert.equal(out.denied, 403, 'embeddings were not granted');
  const chats = fake.requests.filter((q) => q.path === '/v1/chat/completions');
  assert.ok(chats.length >= 2);
  for (const q of chats) assert.equal(q.headers.authorization, `Bearer ${OPENAI_SECRET}`, 'the broker injected the vault key');
  assert.equal(fake.requests.filter((q) => q.path.startsWith('/v1/embeddings')).length, 0);
  assert.ok(!r.stdout.toString().includes('SENTINEL') && !r.stderr.includes('SENTINEL'));
  // audit: request lines for the run, counted in run.ended
  const auditDir = path.join(vault, 'audit');
  const lines = fs
    .readdirSync(auditDir)
    .flatMap((f) => fs.readFileSync(path.join(auditDir, f), 'utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const ended = lines.filter((l) => l.event === 'run.ended').pop()!;
  const reqs = lines.filter((l) => l.event === 'request' && l.runId === ended.runId);
  assert.equal(reqs.filter((l) => l.decision === 'allow' && l.capability === 'openai/chat-completions').length, 2);
  assert.ok(reqs.some((l) => l.decision === 'deny'));
  assert.equal(ended.requests, reqs.length);
  assert.equal(ended.denied, reqs.filter((l) => l.decision === 'deny').length);
  assert.equal(ended.exitCode, 0);
});

test('@anthropic-ai/sdk: message + streaming through the broker', async () => {
  fake.reset();
  fake.on('POST', '/v1/messages', anthropicMessages);
  const r = await launch(['--allow', 'anthropic/messages', '--', NODE, fx('sdk-anthropic.mjs')], { env: { AIVAULT_DIR: vault, ...fake.devEnv() } }).done;
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.toString()) as { content: string; streamed: string };
  assert.equal(out.content, 'hello from fake anthropic');
  assert.equal(out.streamed, 'streamed');
  const msgs = fake.requests.filter((q) => q.path === '/v1/messages');
  assert.equal(msgs.length, 2);
  for (const q of msgs) assert.equal(q.headers['x-api-key'], ANTHROPIC_SECRET);
});

test('@anthropic-ai/sdk and the Vercel AI SDK (@ai-sdk/anthropic) both work unmodified in one run (issue 11 item 4)', async () => {
  fake.reset();
  fake.on('POST', '/v1/messages', anthropicMessages);
  const r = await launch(['--allow', 'anthropic/messages', '--', NODE, fx('sdk-both-anthropic.mjs')], { env: { AIVAULT_DIR: vault, ...fake.devEnv() } }).done;
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.toString()) as { official: string; aiSdk: string; aiSdkStreamed: string };
  assert.deepEqual(out, { official: 'hello from fake anthropic', aiSdk: 'hello from fake anthropic', aiSdkStreamed: 'streamed' });
  const msgs = fake.requests.filter((q) => q.method === 'POST');
  assert.equal(msgs.length, 3);
  for (const q of msgs) {
    assert.equal(q.path, '/v1/messages', 'the upstream only ever sees the real API path');
    assert.equal(q.headers['x-api-key'], ANTHROPIC_SECRET);
  }
  assert.ok(!r.stdout.toString().includes('SENTINEL') && !r.stderr.includes('SENTINEL'));
});

test('a local Anthropic profile (~/.config/anthropic) cannot replace the broker; no ANTHROPIC_CONFIG_DIR is set (issue 11 item 6)', async () => {
  fake.reset();
  fake.on('POST', '/v1/messages', anthropicMessages);
  // A HOME with an active profile whose config points elsewhere and whose credentials hold a token.
  const home = tmpDir('aivault-anthropic-home-');
  const dir = path.join(home, '.config', 'anthropic');
  fs.mkdirSync(path.join(dir, 'configs'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'credentials'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'active_config'), 'default\n');
  fs.writeFileSync(path.join(dir, 'configs', 'default.json'), JSON.stringify({ base_url: 'https://profile.invalid', authentication: { type: 'oauth' } }));
  fs.writeFileSync(path.join(dir, 'credentials', 'default.json'), JSON.stringify({ type: 'oauth_token', access_token: 'sk-ant-oat-SENTINEL-profile-token', expires_at: 4102444800 }));
  const out = path.join(home, 'env.json');
  const r = await launch(['--allow', 'anthropic/messages', '--', NODE, '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))`], {
    env: { AIVAULT_DIR: vault, HOME: home, ...fake.devEnv() },
  }).done;
  assert.equal(r.code, 0, r.stderr);
  const env = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, string>;
  assert.equal(env.ANTHROPIC_CONFIG_DIR, undefined, 'nothing that makes the Python SDK warn');
  assert.equal(env.HOME, home);
  const s = await launch(['--allow', 'anthropic/messages', '--', NODE, fx('sdk-anthropic.mjs')], { env: { AIVAULT_DIR: vault, HOME: home, ...fake.devEnv() } }).done;
  assert.equal(s.code, 0, s.stderr);
  const msgs = fake.requests.filter((q) => q.path === '/v1/messages');
  assert.equal(msgs.length, 2, 'both requests went through the broker to the provider');
  for (const q of msgs) {
    assert.equal(q.headers['x-api-key'], ANTHROPIC_SECRET);
    assert.equal(q.headers.authorization, undefined, 'the profile token was not used');
  }
  assert.ok(!JSON.stringify(fake.requests.map((q) => q.headers)).includes('profile-token'));
});
