/**
 * Issue 11 item 5: a denial whose path another capability of the same provider would cover names
 * it ("add --allow openai/responses"); an unknown capability id at exec/invoke gets "did you mean".
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setup, call, type Env } from './setup.js';
import { runCli, tempVaultDir } from '../helpers/cli.js';

let env: Env;
let token: string;
before(async () => {
  env = await setup();
  token = env.broker.mintToken({ runId: 'hint-run', capabilities: ['openai/chat-completions', 'telegram/get-me'] });
});
after(async () => env.close());

const msg = (r: { body: string }) => (JSON.parse(r.body) as { error: { message: string } }).error.message;
const auth = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

test('passthrough: the AI SDK default /v1/responses under --allow openai/chat-completions names openai/responses', async () => {
  const r = await call(env.broker, 'POST', '/v/openai/v1/responses', { headers: auth(), body: '{}' });
  assert.equal(r.headers['x-aivault-error'], 'capability_not_granted');
  assert.match(msg(r), /no granted capability covers \/v1\/responses; add --allow openai\/responses$/);
  const e = await call(env.broker, 'POST', '/v/openai/v1/embeddings', { headers: auth(), body: '{}' });
  assert.match(msg(e), /add --allow openai\/embeddings$/);
});

test('passthrough: no hint when no capability of the provider covers the path', async () => {
  const r = await call(env.broker, 'POST', '/v/openai/v1/nothing-here', { headers: auth(), body: '{}' });
  assert.equal(r.headers['x-aivault-error'], 'capability_not_granted');
  assert.doesNotMatch(msg(r), /--allow/);
});

test('passthrough: a provider with nothing granted still gets the hint', async () => {
  const r = await call(env.broker, 'POST', '/v/anthropic/v1/messages', { headers: auth(), body: '{}' });
  assert.equal(r.headers['x-aivault-error'], 'capability_not_granted');
  assert.match(msg(r), /grants no capability of provider 'anthropic'; add --allow anthropic\/messages$/);
});

test('passthrough: method_not_allowed names a capability that allows the method, and only such', async () => {
  const r = await call(env.broker, 'GET', '/v/openai/v1/chat/completions', { headers: auth() });
  assert.equal(r.headers['x-aivault-error'], 'method_not_allowed');
  assert.doesNotMatch(msg(r), /--allow/);
  const t = await call(env.broker, 'POST', '/v/telegram/getMe', { headers: auth(), body: '{}' });
  assert.equal(t.headers['x-aivault-error'], 'method_not_allowed');
  assert.doesNotMatch(msg(t), /--allow/);
});

test('envelope: a known but ungranted capability names the flag', async () => {
  const r = await call(env.broker, 'POST', '/aivault/proxy', { headers: auth(), body: JSON.stringify({ capability: 'openai/responses', request: { method: 'POST', path: '/v1/responses' } }) });
  assert.equal(r.headers['x-aivault-error'], 'capability_not_granted');
  assert.match(msg(r), /add --allow openai\/responses$/);
});

test('exec and invoke: an unknown capability id gets "did you mean"', async () => {
  const dir = tempVaultDir();
  try {
    const e = await runCli(['exec', '--allow', 'openai/chat-completion', '--', 'true'], { env: { AIVAULT_DIR: dir } });
    assert.equal(e.code, 125, e.stderr);
    assert.match(e.stderr, /--allow openai\/chat-completion: unknown capability; did you mean openai\/chat-completions\?/);
    const p = await runCli(['exec', '--allow', 'opena/*', '--', 'true'], { env: { AIVAULT_DIR: dir } });
    assert.equal(p.code, 125, p.stderr);
    assert.match(p.stderr, /unknown provider 'opena'; did you mean openai\/\*/);
    const i = await runCli(['invoke', 'openai/respones'], { env: { AIVAULT_DIR: dir } });
    assert.notEqual(i.code, 0);
    assert.match(i.stderr, /unknown capability 'openai\/respones'; did you mean openai\/responses\?/);
    const none = await runCli(['invoke', 'zzzz/qqqq'], { env: { AIVAULT_DIR: dir } });
    assert.doesNotMatch(none.stderr, /did you mean/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
