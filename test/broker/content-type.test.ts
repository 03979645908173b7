/**
 * Issue 11 item 8: an envelope (and so `aivault invoke`) whose body is JSON and that names no
 * content-type reaches the upstream as `application/json`; a content-type the caller gave is kept,
 * and a body that is not a JSON object or array gets none added. Passthrough is left alone.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, call, type Env } from './setup.js';
import { runCli, tempVaultDir } from '../helpers/cli.js';

let env: Env;
before(async () => {
  env = await setup();
});
after(async () => {
  await env.close();
});

async function envelope(request: Record<string, unknown>): Promise<Record<string, string | string[] | undefined>> {
  env.provider.reset();
  const token = env.broker.mintToken({ runId: 'ct', capabilities: ['openai/chat-completions'] });
  const r = await call(env.broker, 'POST', '/aivault/proxy', {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ capability: 'openai/chat-completions', request: { method: 'POST', path: '/v1/chat/completions', ...request } }),
  });
  assert.equal(r.status, 200, r.body);
  assert.equal(env.provider.requests.length, 1);
  return env.provider.requests[0]!.headers;
}

test('envelope: JSON body without content-type → application/json upstream', async () => {
  assert.equal((await envelope({ body: '{"model":"x"}' }))['content-type'], 'application/json');
  assert.equal((await envelope({ body: ' \n[1,2]' }))['content-type'], 'application/json');
  const b64 = Buffer.from('{"model":"x"}').toString('base64');
  assert.equal((await envelope({ bodyBase64: b64 }))['content-type'], 'application/json');
});

test('envelope: a caller content-type is kept (any spelling); non-JSON bodies get none', async () => {
  assert.equal((await envelope({ body: '{"a":1}', headers: { 'Content-Type': 'text/plain' } }))['content-type'], 'text/plain');
  assert.equal((await envelope({ body: 'a=1&b=2' }))['content-type'], undefined);
  assert.equal((await envelope({ body: '{"unterminated": ' }))['content-type'], undefined);
  assert.equal((await envelope({ body: '42' }))['content-type'], undefined, 'a bare JSON scalar is not taken for a JSON document');
  assert.equal((await envelope({}))['content-type'], undefined, 'no body, no content-type');
});

test('passthrough: a body without content-type is forwarded as sent', async () => {
  env.provider.reset();
  const token = env.broker.mintToken({ runId: 'ct2', capabilities: ['openai/chat-completions'] });
  const r = await call(env.broker, 'POST', '/v/openai/v1/chat/completions', { headers: { authorization: `Bearer ${token}` }, body: '{"model":"x"}' });
  assert.equal(r.status, 200, r.body);
  assert.equal(env.provider.requests[0]!.headers['content-type'], undefined);
});

test('invoke --body JSON without --header content-type → application/json upstream', async () => {
  const dir = tempVaultDir();
  const cliEnv = { AIVAULT_DIR: dir, ...env.provider.devEnv() };
  const s = await runCli(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], { env: cliEnv, input: 'sk-SENTINEL-ct-0123' });
  assert.equal(s.code, 0, s.stderr);
  env.provider.reset();
  const r = await runCli(['invoke', 'openai/chat-completions', '--body', '{"model":"x","messages":[]}'], { env: cliEnv });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(env.provider.requests[0]!.headers['content-type'], 'application/json');
  const r2 = await runCli(['invoke', 'openai/chat-completions', '--body', '{"model":"x"}', '--header', 'content-type: application/vnd.x+json'], { env: cliEnv });
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(env.provider.requests[1]!.headers['content-type'], 'application/vnd.x+json');
});
