/**
 * SPEC §7a through the broker (issue 11 item 3): the run token is consumed from a path-auth slot;
 * no audit line or error message holds a token (live or dead), a secret or a query string,
 * wherever the caller put it; lines refused before a token was found carry the broker's run id.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, call, leaks, SENTINEL, type Env } from './setup.js';
import { scrubText } from '../../src/broker/scrub.js';

let env: Env;
let token: string;
before(async () => {
  env = await setup({ runId: 'hygiene-run' });
  token = env.broker.mintToken({ runId: 'hygiene-run', capabilities: ['telegram/send-message', 'openai/chat-completions'] });
});
after(async () => env.close());

function clean(text: string): void {
  assert.ok(!text.includes(token), 'the run token leaked');
  assert.ok(!text.includes(token.toUpperCase()), 'the upper-cased run token leaked');
  assert.deepEqual(leaks(text), []);
  assert.ok(!text.includes('qsecret'), 'a query string leaked');
}

test('path token: consumed, the upstream receives /bot<secret>/sendMessage, the audit /sendMessage', async () => {
  env.provider.reset();
  const before = env.audit.events.length;
  const r = await call(env.broker, 'POST', `/v/telegram/bot${token}/sendMessage?chat_id=qsecret`, { headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(r.status, 200, r.body);
  const seen = env.provider.requests[0]!;
  assert.equal(seen.path, `/bot${SENTINEL.TELEGRAM_BOT_TOKEN}/sendMessage`);
  assert.ok(!JSON.stringify(seen).includes(token));
  const line = env.audit.events.slice(before)[0]!;
  assert.equal(line.path, '/sendMessage');
  assert.equal(line.runId, 'hygiene-run');
  assert.equal(line.capability, 'telegram/send-message');
  clean(JSON.stringify(env.audit.events));
});

test('refusals never echo a token, secret or query string, and carry the run id', async () => {
  env.provider.reset();
  const before = env.audit.events.length;
  const sends: Array<[string, string, Record<string, string>, string?]> = [
    ['POST', `/v/telegram/bot${SENTINEL.TELEGRAM_BOT_TOKEN}/sendMessage?x=qsecret`, {}],
    ['POST', `/v/telegram/bot${SENTINEL.TELEGRAM_BOT_TOKEN}/sendMessage`, { authorization: `Bearer ${token}` }],
    ['POST', `/v/telegram/bot${'C'.repeat(43)}/sendMessage`, {}],
    ['POST', `/v/${token}/v1/chat/completions`, { authorization: `Bearer ${token}` }],
    ['POST', `/v/openai/v1/${token}/chat/completions?q=qsecret`, { authorization: `Bearer ${token}` }],
    ['POST', `/v/openai/v1/${encodeURIComponent(token).replace(/A/g, '%41')}/x`, {}],
    ['GET', `/nowhere/${token}?k=qsecret`, {}],
    ['POST', '/aivault/proxy', { authorization: `Bearer ${token}` }, JSON.stringify({ capability: token, request: { method: 'POST', path: `/v1/${token}?a=qsecret` } })],
    ['POST', '/aivault/proxy', { authorization: `Bearer ${token}` }, JSON.stringify({ capability: 'openai/chat-completions', request: { method: 'POST', path: `/v1/${token}?a=qsecret` } })],
    // a method is caller text too (upper-cased, but still recognisable): never recorded or echoed
    ['POST', '/aivault/proxy', { authorization: `Bearer ${token}` }, JSON.stringify({ capability: 'openai/chat-completions', request: { method: token, path: '/v1/chat/completions' } })],
  ];
  for (const [method, path, headers, body] of sends) {
    const r = await call(env.broker, method, path, { headers, ...(method === 'GET' ? {} : { body: body ?? '{}' }) });
    assert.ok(r.status >= 400, `${path}: ${r.status}`);
    clean(r.body);
  }
  assert.equal(env.provider.requests.length, 0);
  const lines = env.audit.events.slice(before);
  assert.equal(lines.length, sends.length);
  for (const l of lines) assert.equal(l.runId, 'hygiene-run', JSON.stringify(l));
  assert.equal(lines[1]!.code, 'auth_header_rejected', 'a key slot holding anything but the token is refused');
  assert.equal(lines[1]!.path, '/bot[REDACTED]/sendMessage');
  clean(JSON.stringify(lines));
  // a dead token is still masked
  env.broker.revokeRun('hygiene-run');
  const r = await call(env.broker, 'POST', `/v/telegram/bot${token}/sendMessage`, { body: '{}' });
  assert.equal(r.headers['x-aivault-error'], 'token_expired');
  clean(r.body + JSON.stringify(env.audit.events));
});

test('scrubText: tokens in any window, encoded, several; secrets raw and encoded', () => {
  const T = 'T'.repeat(42) + 'k';
  const isT = (v: string) => v === T;
  assert.equal(scrubText(`/a/${T}/b`, isT), '/a/[token]/b');
  assert.equal(scrubText(`/bot${T}x/${T}${T}`, isT), '/bot[token]x/[token][token]');
  assert.equal(scrubText(`/a/%54${T.slice(1)}`, isT), '/a/[token]');
  assert.equal(scrubText(`/a/${'T'.repeat(50)}`, isT), `/a/${'T'.repeat(50)}`);
  assert.equal(scrubText('/x/s3cr:et/y/s3cr%3Aet', isT, ['s3cr:et']), '/x/[REDACTED]/y/[REDACTED]');
});
