/**
 * A `provider/*` grant covers that provider's capabilities and nothing else (SPEC §5 --allow):
 * a token minted for `openai/*` reaches OpenAI's capabilities, and is refused
 * (capability_not_granted) for every other provider, in passthrough and envelope, before anything
 * goes upstream. Found by `npm run test:mutants` (mutant token-grant-any-provider-wildcard).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, call, type Env } from './setup.js';

let env: Env;
before(async () => {
  env = await setup();
});
after(async () => {
  await env.close();
});

const code = (r: { headers: Record<string, unknown> }) => String(r.headers['x-aivault-error'] ?? '');

test("an 'openai/*' token reaches OpenAI's capabilities and no other provider's", async () => {
  env.provider.reset();
  const token = env.broker.mintToken({ runId: 'grant-wild', capabilities: ['openai/*'] });
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const ok = await call(env.broker, 'GET', '/v/openai/v1/models', { headers: auth });
  assert.equal(ok.status, 200, ok.body);
  const ok2 = await call(env.broker, 'POST', '/v/openai/v1/chat/completions', { headers: auth, body: '{}' });
  assert.equal(ok2.status, 200, ok2.body);
  const refused: Array<[string, string, string | undefined]> = [
    ['POST', '/v/anthropic/v1/messages', '{}'],
    ['GET', '/v/gemini/v1beta/models', undefined],
    ['GET', '/v/github/repos/a/b', undefined],
    ['POST', '/v/telegram/sendMessage', '{}'],
  ];
  for (const [method, path, body] of refused) {
    const r = await call(env.broker, method, path, { headers: auth, ...(body !== undefined ? { body } : {}) });
    assert.equal(r.status, 403, `${method} ${path}: ${r.status} ${r.body}`);
    assert.equal(code(r), 'capability_not_granted', `${method} ${path}`);
  }
  for (const capability of ['anthropic/messages', 'gemini/models', 'github/repos']) {
    const r = await call(env.broker, 'POST', '/aivault/proxy', {
      headers: auth,
      body: JSON.stringify({ capability, request: { method: capability === 'anthropic/messages' ? 'POST' : 'GET', path: capability === 'anthropic/messages' ? '/v1/messages' : capability === 'gemini/models' ? '/v1beta/models' : '/repos/a/b' } }),
    });
    assert.equal(code(r), 'capability_not_granted', `envelope ${capability}: ${r.status} ${r.body}`);
  }
  assert.deepEqual(
    env.provider.requests.map((q) => `${q.servername} ${q.path}`),
    ['api.openai.com /v1/models', 'api.openai.com /v1/chat/completions'],
    'only the granted provider was contacted',
  );
});

test("an 'anthropic/*' token is refused for OpenAI", async () => {
  env.provider.reset();
  const token = env.broker.mintToken({ runId: 'grant-wild-2', capabilities: ['anthropic/*'] });
  const r = await call(env.broker, 'GET', '/v/openai/v1/models', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(code(r), 'capability_not_granted', `${r.status} ${r.body}`);
  assert.equal(env.provider.requests.length, 0);
});
