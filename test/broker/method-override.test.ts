/**
 * Issue 11 item 1, through the broker: a method override naming a method the capability does not
 * allow is `method_not_allowed` in passthrough and envelope mode, and the upstream sees nothing;
 * an override naming an allowed method is forwarded unchanged.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, call, leaks, type Env } from './setup.js';

let env: Env;
let token: string;
before(async () => {
  env = await setup();
  token = env.broker.mintToken({ runId: 'override-run', capabilities: ['openai/chat-completions', 'openai/responses'] });
});
after(async () => env.close());

const auth = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

async function refused(r: { status: number; headers: Record<string, unknown>; body: string }): Promise<void> {
  assert.equal(r.headers['x-aivault-error'], 'method_not_allowed', r.body);
  assert.equal(r.status, 403);
  assert.equal(env.provider.requests.length, 0, 'the upstream must see nothing');
  assert.equal(r.body.includes(token), false);
  assert.deepEqual(leaks(r.body), []);
}

const SPELLINGS = ['X-HTTP-Method-Override', 'x-http-method-override', 'X-HTTP-METHOD-OVERRIDE', 'X-HTTP-Method', 'x-method-override', 'X_HTTP_METHOD_OVERRIDE'];

test('passthrough: every override header spelling naming DELETE on a POST-only capability is refused', async () => {
  for (const h of SPELLINGS) {
    env.provider.reset();
    await refused(await call(env.broker, 'POST', '/v/openai/v1/chat/completions', { headers: { ...auth(), [h]: 'DELETE' }, body: '{}' }));
  }
  const n = env.audit.events.filter((e) => e.event === 'request' && e.code === 'method_not_allowed').length;
  assert.ok(n >= SPELLINGS.length);
});

test('passthrough: duplicate override headers and comma lists are all checked', async () => {
  env.provider.reset();
  await refused(await call(env.broker, 'POST', '/v/openai/v1/chat/completions', { headers: { ...auth(), 'x-http-method-override': ['POST', 'DELETE'] }, body: '{}' }));
  await refused(await call(env.broker, 'POST', '/v/openai/v1/chat/completions', { headers: { ...auth(), 'x-http-method-override': 'POST, PUT' }, body: '{}' }));
});

test('passthrough: _method query parameter in any disguise is refused', async () => {
  for (const q of ['_method=DELETE', '_METHOD=delete', '%5Fmethod=PUT', 'a=1;_method[]=PATCH']) {
    env.provider.reset();
    await refused(await call(env.broker, 'POST', `/v/openai/v1/chat/completions?${q}`, { headers: auth(), body: '{}' }));
  }
});

test('envelope: override in request.headers or _method in the path is refused', async () => {
  env.provider.reset();
  const send = (request: unknown) => call(env.broker, 'POST', '/aivault/proxy', { headers: auth(), body: JSON.stringify({ capability: 'openai/chat-completions', request }) });
  await refused(await send({ method: 'POST', path: '/v1/chat/completions', headers: { 'X-HTTP-Method-Override': 'DELETE' } }));
  await refused(await send({ method: 'POST', path: '/v1/chat/completions', headers: { 'x-method-override': 'GET' } }));
  await refused(await send({ method: 'POST', path: '/v1/chat/completions?_method=DELETE' }));
});

test('an override whose value is the run token is refused without echoing it', async () => {
  env.provider.reset();
  const r = await call(env.broker, 'POST', '/v/openai/v1/chat/completions', { headers: { ...auth(), 'x-http-method-override': token }, body: '{}' });
  await refused(r);
  assert.equal(JSON.stringify(env.audit.events).includes(token), false);
});

test('an override naming an allowed method is forwarded unchanged', async () => {
  env.provider.reset();
  const r = await call(env.broker, 'POST', '/v/openai/v1/responses?_method=GET', { headers: { ...auth(), 'X-HTTP-Method-Override': 'get' }, body: '{}' });
  assert.equal(r.status, 200, r.body);
  assert.equal(env.provider.requests.length, 1);
  const seen = env.provider.requests[0]!;
  assert.equal(seen.method, 'POST');
  assert.equal(seen.headers['x-http-method-override'], 'get');
  assert.equal(seen.query, '_method=GET');
});
