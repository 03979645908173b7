/**
 * SPEC §6: a header or parameter whose value is the run token is the token — consumed, never
 * forwarded. The broker also consumes it when a caller hides it in any other header or query
 * parameter, so the upstream never learns it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { reply } from '../helpers/fake-provider.js';
import { setup, call, type Env } from './setup.js';

let env: Env;
let token: string;
before(async () => {
  env = await setup();
  token = env.broker.mintToken({ runId: 'consume-run', capabilities: ['openai/chat-completions'] });
  env.provider.on('POST', '/v1/chat/completions', reply.json(200, { ok: true }));
});
after(() => env.close());

function upstreamSawNoToken(): void {
  assert.equal(env.provider.requests.length, 1, 'exactly one upstream request');
  const r = env.provider.requests[0]!;
  const seen = [r.url, r.rawHeaders.join('\n'), r.body.toString('latin1')].join('\n');
  assert.equal(seen.includes(token), false, 'the run token reached the upstream');
  assert.equal(seen.includes(encodeURIComponent(token)), false, 'the encoded run token reached the upstream');
}

test('passthrough: token in extra headers and query parameters is stripped, the rest is kept', async () => {
  env.provider.reset();
  const r = await call(env.broker, 'POST', `/v/openai/v1/chat/completions?keep=1&leak=${token}&enc=${encodeURIComponent('x' + token)}`, {
    headers: { authorization: `Bearer ${token}`, 'x-leak': token, 'x-trace': `abc-${token}-def`, 'x-keep': 'yes', 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(r.status, 200, r.body);
  upstreamSawNoToken();
  const up = env.provider.requests[0]!;
  assert.equal(up.query, 'keep=1');
  assert.equal(up.headers['x-keep'], 'yes');
  assert.equal(up.headers['x-leak'], undefined);
  assert.equal(up.headers['x-trace'], undefined);
});

test('envelope: token in inner headers or the inner query string is stripped', async () => {
  env.provider.reset();
  const r = await call(env.broker, 'POST', '/aivault/proxy', {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      capability: 'openai/chat-completions',
      request: { method: 'POST', path: `/v1/chat/completions?keep=2&t=${token}`, headers: { 'x-forward': token, 'x-keep': 'inner' }, body: '{}' },
    }),
  });
  assert.equal(r.status, 200, r.body);
  upstreamSawNoToken();
  const up = env.provider.requests[0]!;
  assert.equal(up.query, 'keep=2');
  assert.equal(up.headers['x-keep'], 'inner');
  assert.equal(up.headers['x-forward'], undefined);
});
