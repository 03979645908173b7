import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, call, SENTINEL } from './setup.js';

test('passthrough smoke: openai chat completions reaches the fake provider with the real key', async () => {
  const env = await setup();
  try {
    const token = env.broker.mintToken({ runId: 'r1', capabilities: ['openai/chat-completions'] });
    const r = await call(env.broker, 'POST', '/v/openai/v1/chat/completions', {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"model":"x"}',
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(env.provider.requests.length, 1);
    const got = env.provider.requests[0]!;
    assert.equal(got.headers.authorization, `Bearer ${SENTINEL.OPENAI_API_KEY}`);
    assert.equal(got.path, '/v1/chat/completions');
    assert.equal(got.body.toString(), '{"model":"x"}');
    assert.equal(got.servername, 'api.openai.com');
    assert.equal(env.audit.events.length, 1);
  } finally {
    await env.close();
  }
});
