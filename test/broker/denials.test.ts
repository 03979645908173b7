/**
 * Every denial code the broker can produce, each from a real request. For each: the status and
 * `x-aivault-error` match, the body is {"error":{code,message}}, the fake provider recorded no
 * request, exactly one audit `request` line was written with decision deny, and nothing secret
 * came back or went to the audit sink.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeProvider, reply, type FakeProvider } from '../helpers/fake-provider.js';
import { untrustedCert } from '../helpers/tls.js';
import { ACME, setup, call, leaks, SENTINEL, type Env, type Resp } from './setup.js';
import { BROKER_ERROR_STATUS, type BrokerErrorCode } from '../../src/errors/codes.js';
import type { Capability, Credential } from '../../src/registry/types.js';

function cap(id: string, extra: Partial<Capability> = {}): Capability {
  return { id, provider: 'acme', methods: ['GET', 'POST'], pathPrefixes: ['/data'], hosts: ['api.example-custom.test'], custom: true, ...extra };
}
const CREDS: Credential[] = [
  { id: 'acme', provider: 'acme', secrets: { secret: 'ACME_KEY' }, auth: ACME.auth, hosts: ['api.example-custom.test'], custom: true },
  // a second credential for openai: envelope calls without a credential become ambiguous
  { id: 'openai-alt', provider: 'openai', secrets: { secret: 'OPENAI_ALT_KEY' }, auth: { strategy: 'header', header: 'authorization', template: 'Bearer {{secret}}' }, hosts: ['api.openai.com'], custom: true },
  // a pinned secret (OPENAI_API_KEY) used by a credential for another provider's host
  { id: 'acme-stolen', provider: 'acme', secrets: { secret: 'OPENAI_API_KEY' }, auth: ACME.auth, hosts: ['api.example-custom.test'], custom: true },
  // a strategy this broker does not implement: fail closed
  { id: 'acme-oauth', provider: 'acme', secrets: { secret: 'ACME_KEY' }, auth: { strategy: 'oauth2', tokenUrl: 'https://api.example-custom.test/token' } as never, hosts: ['api.example-custom.test'], custom: true },
  // wildcard-only host: no concrete host → fail closed
  { id: 'acme-wild', provider: 'acme', secrets: { secret: 'ACME_KEY' }, auth: ACME.auth, hosts: ['*.example-custom.test'], custom: true },
  // a host that "resolves" to a private address (see lookup below)
  { id: 'acme-private', provider: 'acme', secrets: { secret: 'ACME_KEY' }, auth: ACME.auth, hosts: ['internal.example-custom.test'], custom: true },
  // a host whose TLS certificate is not trusted
  { id: 'acme-untrusted', provider: 'acme', secrets: { secret: 'ACME_KEY' }, auth: ACME.auth, hosts: ['other.example-custom.test'], custom: true },
];
const CAPS: Capability[] = [
  cap('acme/data'),
  cap('acme/wild', { pathPrefixes: ['/wild'], hosts: ['*.example-custom.test'] }),
  cap('acme/private', { pathPrefixes: ['/private'], hosts: ['internal.example-custom.test'] }),
  cap('acme/untrusted', { pathPrefixes: ['/untrusted'], hosts: ['other.example-custom.test'] }),
  cap('acme/small', { pathPrefixes: ['/small'], limits: { maxRequestBytes: 16 } }),
  cap('acme/rate', { pathPrefixes: ['/rate'], limits: { ratePerMinute: 1 } }),
  cap('acme/slow', { pathPrefixes: ['/slow'], limits: { timeoutMs: 300 } }),
];
const ALL = ['openai/chat-completions', 'openai/models', 'gemini/models', ...CAPS.map((c) => c.id)];

let env: Env;
let untrusted: FakeProvider;
let token: string;
const lookups: string[] = [];
const secrets = { ...SENTINEL, ACME_KEY: 'acme-SENTINEL-key-42', OPENAI_ALT_KEY: 'sk-SENTINEL-alt-key-77' };

before(async () => {
  untrusted = await startFakeProvider({ cert: untrustedCert() });
  const provider = await startFakeProvider();
  const devEnv = provider.devEnv();
  devEnv.AIVAULT_DEV_RESOLVE += `,other.example-custom.test=127.0.0.1:${untrusted.port}`;
  env = await setup({
    provider,
    env: devEnv,
    secrets,
    providers: [ACME],
    credentials: CREDS,
    capabilities: CAPS,
    lookup: async (host) => {
      lookups.push(host);
      // one public and one private answer: ANY forbidden address refuses the host
      if (host === 'internal.example-custom.test') return [{ address: '93.184.216.34', family: 4 }, { address: '10.1.2.3', family: 4 }];
      throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    },
  });
  token = env.broker.mintToken({ runId: 'deny-run', capabilities: ALL });
});
after(async () => {
  await env.close();
  await env.provider.close();
  await untrusted.close();
});

const auth = () => ({ authorization: `Bearer ${token}` });
const envelope = (o: unknown) => ({ headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(o) });

async function expectDenied(code: BrokerErrorCode, send: () => Promise<Resp>): Promise<Resp> {
  env.provider.reset();
  const before = env.audit.events.length;
  const r = await send();
  assert.equal(r.headers['x-aivault-error'], code, `expected ${code}, got ${r.status} ${r.body}`);
  assert.equal(r.status, BROKER_ERROR_STATUS[code]);
  const j = JSON.parse(r.body) as { error: { code: string; message: string } };
  assert.equal(j.error.code, code);
  assert.equal(typeof j.error.message, 'string');
  assert.equal(env.provider.requests.length, 0, `the upstream must see nothing for ${code}`);
  const lines = env.audit.events.slice(before);
  assert.equal(lines.length, 1, 'exactly one audit line');
  assert.equal(lines[0]!.event, 'request');
  assert.equal(lines[0]!.code, code);
  assert.deepEqual(leaks(JSON.stringify(r) + JSON.stringify(lines)), []);
  assert.equal(JSON.stringify(lines).includes(token), false);
  return r;
}

test('token_missing / token_invalid', async () => {
  await expectDenied('token_missing', () => call(env.broker, 'POST', '/v/openai/v1/chat/completions', { body: '{}' }));
  await expectDenied('token_invalid', () => call(env.broker, 'POST', '/v/openai/v1/chat/completions', { headers: { authorization: 'Bearer nope' }, body: '{}' }));
  await expectDenied('token_invalid', () =>
    call(env.broker, 'POST', '/v/openai/v1/chat/completions', { headers: { authorization: `Bearer ${'A'.repeat(43)}` }, body: '{}' }),
  );
});

test('token_expired: revoked run and past TTL; other runs unaffected', async () => {
  const t = env.broker.mintToken({ runId: 'short', capabilities: ['openai/models'] });
  const ok = await call(env.broker, 'GET', '/v/openai/v1/models', { headers: { authorization: `Bearer ${t}` } });
  assert.equal(ok.status, 200);
  env.broker.revokeRun('short');
  const r = await expectDenied('token_expired', () => call(env.broker, 'GET', '/v/openai/v1/models', { headers: { authorization: `Bearer ${t}` } }));
  assert.equal(r.status, 401);
  const ttl = env.broker.mintToken({ runId: 'ttl', capabilities: ['openai/models'], ttlMs: 1 });
  await new Promise((res) => setTimeout(res, 10));
  await expectDenied('token_expired', () => call(env.broker, 'GET', '/v/openai/v1/models', { headers: { 'x-api-key': ttl } }));
  const still = await call(env.broker, 'GET', '/v/openai/v1/models', { headers: auth() });
  assert.equal(still.status, 200);
});

test('capability_not_granted / capability_not_found', async () => {
  await expectDenied('capability_not_granted', () => call(env.broker, 'POST', '/v/openai/v1/embeddings', { headers: auth(), body: '{}' }));
  await expectDenied('capability_not_granted', () => call(env.broker, 'GET', '/v/anthropic/v1/models', { headers: auth() }));
  await expectDenied('capability_not_granted', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/embeddings', request: { method: 'POST', path: '/v1/embeddings' } })),
  );
  await expectDenied('capability_not_found', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'nope/nothing', request: { method: 'GET', path: '/' } })),
  );
});

test('method_not_allowed / path_not_allowed', async () => {
  await expectDenied('method_not_allowed', () => call(env.broker, 'DELETE', '/v/openai/v1/chat/completions', { headers: auth() }));
  await expectDenied('method_not_allowed', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', credential: 'openai', request: { method: 'POST', path: '/v1/models' } })),
  );
  await expectDenied('path_not_allowed', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', credential: 'openai', request: { method: 'GET', path: '/v1/files' } })),
  );
  // passthrough: a path outside every granted prefix is not granted
  await expectDenied('capability_not_granted', () => call(env.broker, 'POST', '/v/openai/v1/chat/completionsX', { headers: auth(), body: '{}' }));
});

test('path_traversal', async () => {
  for (const p of ['/v1/chat/completions/../../v1/files', '/v1/chat/completions/%2e%2e/x', '/v1/chat/completions%2fx', '/v1/chat/completions/%252e', '/v1/chat/completions/a\\b']) {
    await expectDenied('path_traversal', () => call(env.broker, 'POST', `/v/openai${p}`, { headers: auth(), body: '{}' }));
  }
  await expectDenied('path_traversal', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', credential: 'openai', request: { method: 'GET', path: '/v1/models/../files' } })),
  );
});

test('credential_not_found / credential_ambiguous / policy_violation', async () => {
  await expectDenied('credential_not_found', () => call(env.broker, 'GET', '/v/nobody/v1/models', { headers: auth() }));
  await expectDenied('credential_not_found', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', credential: 'ghost', request: { method: 'GET', path: '/v1/models' } })),
  );
  await expectDenied('credential_ambiguous', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', request: { method: 'GET', path: '/v1/models' } })),
  );
  await expectDenied('policy_violation', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', url: 'https://evil.example/', request: { method: 'GET', path: '/v1/models' } })),
  );
  await expectDenied('policy_violation', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', request: { method: 'GET', path: '/v1/models', url: 'https://evil.example/' } })),
  );
  // a credential of another provider
  await expectDenied('policy_violation', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', credential: 'acme', request: { method: 'GET', path: '/v1/models' } })),
  );
  // unimplemented auth strategy: fail closed
  await expectDenied('policy_violation', () => call(env.broker, 'GET', '/v/acme-oauth/data/x', { headers: auth() }));
  // a token bound to one credential cannot use another
  const bound = env.broker.mintToken({ runId: 'bound', capabilities: ['openai/models'], credential: 'openai' });
  await expectDenied('policy_violation', () => call(env.broker, 'GET', '/v/openai-alt/v1/models', { headers: { authorization: `Bearer ${bound}` } }));
});

test('invalid_request', async () => {
  await expectDenied('invalid_request', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', extra: 1, request: { method: 'GET', path: '/v1/models' } })),
  );
  await expectDenied('invalid_request', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', request: { method: 'GET', path: '/v1/models', host: 'x' } })),
  );
  await expectDenied('invalid_request', () => call(env.broker, 'POST', '/aivault/proxy', { headers: auth(), body: '{not json' }));
  await expectDenied('invalid_request', () => call(env.broker, 'GET', '/somewhere/else', { headers: auth() }));
  await expectDenied('invalid_request', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', credential: 'openai', request: { method: 'GET', path: '/v1/models', headers: { 'x-bad': 'a\u0001b' } } })),
  );
});

test('auth_header_rejected: caller auth headers, cookies and the provider auth param', async () => {
  await expectDenied('auth_header_rejected', () =>
    call(env.broker, 'GET', '/v/openai/v1/models', { headers: { ...auth(), 'x-api-key': 'sk-caller-own-key' } }),
  );
  await expectDenied('auth_header_rejected', () => call(env.broker, 'GET', '/v/openai/v1/models', { headers: { 'x-api-key': token, authorization: 'Bearer sk-x' } }));
  await expectDenied('auth_header_rejected', () => call(env.broker, 'GET', '/v/openai/v1/models', { headers: { ...auth(), cookie: 'session=1' } }));
  await expectDenied('auth_header_rejected', () => call(env.broker, 'GET', '/v/gemini/v1beta/models?key=AIza-own', { headers: auth() }));
  await expectDenied('auth_header_rejected', () => call(env.broker, 'GET', '/v/gemini/v1beta/models?KEY=AIza-own', { headers: auth() }));
  await expectDenied('auth_header_rejected', () => call(env.broker, 'GET', '/v/gemini/v1beta/models', { headers: { ...auth(), 'x-goog-api-key': 'x' } }));
  await expectDenied('auth_header_rejected', () => call(env.broker, 'GET', '/v/acme/data/1', { headers: { ...auth(), 'x-acme-key': 'mine' } }));
  await expectDenied('auth_header_rejected', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'openai/models', credential: 'openai', request: { method: 'GET', path: '/v1/models', headers: { Authorization: 'Bearer sk-x' } } })),
  );
});

test('remote_client_rejected: foreign Host header (DNS rebinding)', async () => {
  await expectDenied('remote_client_rejected', () => call(env.broker, 'GET', '/v/openai/v1/models', { headers: auth(), host: 'evil.example:80' }));
  await expectDenied('remote_client_rejected', () => call(env.broker, 'GET', '/v/openai/v1/models', { headers: auth(), host: `127.0.0.1:${env.broker.port + 1}` }));
  const ok = await call(env.broker, 'GET', '/v/openai/v1/models', { headers: auth(), host: `localhost:${env.broker.port}` });
  assert.equal(ok.status, 200);
});

test('host_not_allowed: pinned secret to a foreign host, wildcard-only host, private DNS answer', async () => {
  await expectDenied('host_not_allowed', () => call(env.broker, 'GET', '/v/acme-stolen/data/1', { headers: auth() }));
  await expectDenied('host_not_allowed', () => call(env.broker, 'GET', '/v/acme-wild/wild/1', { headers: auth() }));
  await expectDenied('host_not_allowed', () => call(env.broker, 'GET', '/v/acme-private/private/1', { headers: auth() }));
  assert.deepEqual(lookups, ['internal.example-custom.test'], 'mapped dev hosts never hit DNS; the private one did');
});

test('body_too_large / rate_limited', async () => {
  await expectDenied('body_too_large', () => call(env.broker, 'POST', '/v/acme/small', { headers: auth(), body: 'x'.repeat(64) }));
  await expectDenied('body_too_large', () =>
    call(env.broker, 'POST', '/aivault/proxy', envelope({ capability: 'acme/small', credential: 'acme', request: { method: 'POST', path: '/small', body: 'y'.repeat(64) } })),
  );
  env.provider.reset();
  const first = await call(env.broker, 'GET', '/v/acme/rate', { headers: auth() });
  assert.equal(first.status, 200);
  await expectDenied('rate_limited', () => call(env.broker, 'GET', '/v/acme/rate', { headers: auth() }));
});

test('vault_locked', async () => {
  const locked = await setup({ secrets: { ...SENTINEL }, locked: true });
  try {
    const t = locked.broker.mintToken({ runId: 'l', capabilities: ['openai/models'] });
    const r = await call(locked.broker, 'GET', '/v/openai/v1/models', { headers: { authorization: `Bearer ${t}` } });
    assert.equal(r.headers['x-aivault-error'], 'vault_locked');
    assert.equal(r.status, 503);
    assert.equal(locked.provider.requests.length, 0);
  } finally {
    await locked.close();
  }
});

test('upstream_error: untrusted TLS certificate — no request delivered', async () => {
  untrusted.reset();
  await expectDenied('upstream_error', () => call(env.broker, 'GET', '/v/acme-untrusted/untrusted/1', { headers: auth() }));
  assert.equal(untrusted.requests.length, 0);
  assert.ok(untrusted.connections >= 1, 'the broker did try to connect');
});

test('audit: denial lines carry decision deny and no query string', () => {
  const lines = env.audit.events.filter((e) => e.event === 'request' && e.code === 'auth_header_rejected');
  assert.ok(lines.length > 0);
  for (const l of lines) {
    assert.equal(l.decision, 'deny');
    assert.equal(String(l.path).includes('?'), false);
    for (const k of ['runId', 'capability', 'credential', 'method', 'host', 'path', 'status', 'decision', 'code', 'durationMs', 'bytes']) assert.ok(k in l, k);
  }
  void reply;
});
