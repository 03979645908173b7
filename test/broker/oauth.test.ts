/**
 * oauth2 end to end in one broker (SPEC §6): client_credentials and refresh_token grants against a
 * local token endpoint, access token cached, single-flight refresh (20 concurrent requests → one
 * refresh), rotated refresh token written back through Catalog.updateSecret, exactly one forced
 * refresh + retry on an upstream 401 (never a loop), token endpoint host and failures, and no
 * token or secret ever reaching the caller or the audit log.
 */
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeProvider, type FakeProvider, type RecordedRequest } from '../helpers/fake-provider.js';
import { memoryAudit, testCatalog } from '../helpers/catalog.js';
import { ACME, call } from './setup.js';
import { startBroker, type Broker } from '../../src/broker/index.js';
import type { Capability, Catalog, Credential } from '../../src/registry/types.js';
import type http from 'node:http';

const HOST = 'api.example-custom.test';
const TOKEN_URL = `https://${HOST}/oauth/token`;
const secrets: Record<string, string> = {
  CC_ID: 'cid-SENTINEL-client-0001',
  CC_SECRET: 'csecret-SENTINEL-0002',
  PUB_ID: 'pubid-SENTINEL-0003',
  RT: 'rt-SENTINEL-refresh-0',
};
const caps: Capability[] = [
  { id: 'acme/cc', provider: 'acme', methods: ['GET', 'POST'], pathPrefixes: ['/cc'], hosts: [HOST], custom: true },
  { id: 'acme/rt', provider: 'acme', methods: ['GET', 'POST'], pathPrefixes: ['/rt'], hosts: [HOST], custom: true },
  { id: 'acme/bad', provider: 'acme', methods: ['GET'], pathPrefixes: ['/bad'], hosts: [HOST], custom: true },
];
const creds: Credential[] = [
  { id: 'cc', provider: 'acme', secrets: { clientId: 'CC_ID', clientSecret: 'CC_SECRET' }, auth: { strategy: 'oauth2', grant: 'client_credentials', tokenUrl: TOKEN_URL, scopes: ['read', 'write'] }, hosts: [HOST], custom: true },
  { id: 'rt', provider: 'acme', secrets: { clientId: 'PUB_ID', refreshToken: 'RT' }, auth: { strategy: 'oauth2', grant: 'refresh_token', tokenUrl: TOKEN_URL }, hosts: [HOST], custom: true },
  // token endpoint on a host the credential may not reach
  { id: 'bad', provider: 'acme', secrets: { clientId: 'CC_ID', clientSecret: 'CC_SECRET' }, auth: { strategy: 'oauth2', grant: 'client_credentials', tokenUrl: 'https://evil.example.net/token' }, hosts: [HOST], custom: true },
];

let provider: FakeProvider;
let broker: Broker;
let audit: ReturnType<typeof memoryAudit>;
let token: string;
/** token endpoint state */
let issued = 0;
let valid = new Set<string>();
let currentRefresh = secrets.RT!;
const tokenCalls: Array<Record<string, string>> = [];
const allIssued: string[] = [];
let updates = 0;
let tokenDelayMs = 0;
let tokenFails = false;

function parseForm(b: Buffer): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(b.toString()));
}

function tokenEndpoint(req: RecordedRequest, res: http.ServerResponse): void {
  const form = parseForm(req.body);
  tokenCalls.push({ ...form, authorization: String(req.headers.authorization ?? '') });
  setTimeout(() => {
    if (tokenFails) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_grant', error_description: `bad ${form.refresh_token ?? ''} ${secrets.CC_SECRET}` }));
      return;
    }
    if (form.grant_type === 'refresh_token' && form.refresh_token !== currentRefresh) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_grant' }));
      return;
    }
    const access = `at-SENTINEL-access-${++issued}`;
    allIssued.push(access);
    valid.add(access);
    const body: Record<string, unknown> = { access_token: access, token_type: 'Bearer', expires_in: 3600 };
    if (form.grant_type === 'refresh_token') {
      currentRefresh = `rt-SENTINEL-refresh-${issued}`;
      allIssued.push(currentRefresh);
      body.refresh_token = currentRefresh;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }, tokenDelayMs);
}

function api(req: RecordedRequest, res: http.ServerResponse): void {
  const a = String(req.headers.authorization ?? '');
  const ok = a.startsWith('Bearer ') && valid.has(a.slice(7));
  res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
  // reflect the token back: the broker must redact it
  res.end(JSON.stringify({ ok, youSent: a, body: req.body.toString() }));
}

before(async () => {
  provider = await startFakeProvider();
  provider.on('POST', '/oauth/token', tokenEndpoint);
  provider.on('*', '/cc', api);
  provider.on('*', '/rt', api);
  provider.on('*', '/bad', api);
  const base = testCatalog({ secrets, providers: [ACME], credentials: creds, capabilities: caps });
  let chain = Promise.resolve();
  const catalog: Catalog = {
    ...base,
    resolveSecrets: (c) => base.resolveSecrets(c),
    // the vault's contract: serialised, re-read, write what fn returns
    updateSecret(cred, field, fn) {
      const run = chain.then(async () => {
        const name = cred.secrets[field]!;
        const next = await fn(secrets[name]!);
        if (next !== undefined && next !== secrets[name]) {
          secrets[name] = next;
          updates++;
        }
        return secrets[name]!;
      });
      chain = run.then(
        () => undefined,
        () => undefined,
      );
      return run;
    },
  };
  audit = memoryAudit();
  broker = await startBroker({ catalog, audit, env: provider.devEnv() });
  token = broker.mintToken({ runId: 'run-oauth', capabilities: caps.map((c) => c.id) });
});

after(async () => {
  await broker.close();
  await provider.close();
});

beforeEach(() => {
  tokenDelayMs = 0;
  tokenFails = false;
});

const auth = () => ({ authorization: `Bearer ${token}` });

function assertClean(text: string): void {
  for (const v of [...Object.values(secrets), ...allIssued, secrets.RT!]) assert.equal(text.includes(v), false, 'a secret or token leaked');
  assert.equal(text.includes(token), false);
}

test('client_credentials: basic client auth, scopes, the upstream gets the bearer token, the caller sees it redacted', async () => {
  const before = tokenCalls.length;
  const r = await call(broker, 'GET', '/v/cc/cc/items', { headers: auth() });
  assert.equal(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body).ok, true);
  assert.equal(tokenCalls.length, before + 1);
  const t = tokenCalls.at(-1)!;
  assert.equal(t.grant_type, 'client_credentials');
  assert.equal(t.scope, 'read write');
  assert.equal(t.authorization, 'Basic ' + Buffer.from(`${secrets.CC_ID}:${secrets.CC_SECRET}`).toString('base64'));
  assert.equal(t.client_secret, undefined, 'a confidential client does not put its secret in the body');
  assertClean(r.body + JSON.stringify(r.headers));
  // cached: a second request makes no token call
  await call(broker, 'GET', '/v/cc/cc/items', { headers: auth() });
  assert.equal(tokenCalls.length, before + 1);
});

test('refresh_token, public client: 20 concurrent requests cause exactly one refresh; the rotated refresh token is written back', async () => {
  tokenDelayMs = 150;
  const before = tokenCalls.length;
  const updatesBefore = updates;
  const rs = await Promise.all(Array.from({ length: 20 }, () => call(broker, 'GET', '/v/rt/rt/x', { headers: auth() })));
  for (const r of rs) assert.equal(r.status, 200, r.body);
  assert.equal(tokenCalls.length - before, 1, 'exactly one refresh');
  const t = tokenCalls.at(-1)!;
  assert.equal(t.grant_type, 'refresh_token');
  assert.equal(t.client_id, secrets.PUB_ID);
  assert.equal(t.authorization, '', 'a public client sends no client authentication header');
  assert.equal(updates - updatesBefore, 1);
  assert.equal(secrets.RT, currentRefresh, 'the vault holds the rotated refresh token');
  for (const r of rs) assertClean(r.body);
});

test('upstream 401: exactly one forced refresh and one retry, body replayed; a second 401 is returned, never a loop', async () => {
  valid = new Set(); // every issued access token is now refused
  const before = tokenCalls.length;
  const upBefore = provider.requests.filter((q) => q.path.startsWith('/rt')).length;
  const r = await call(broker, 'POST', '/v/rt/rt/post', { headers: { ...auth(), 'content-type': 'text/plain' }, body: 'replay-me' });
  // the refresh issues a valid token, so the retry succeeds
  assert.equal(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body).body, 'replay-me');
  assert.equal(tokenCalls.length - before, 1, 'one forced refresh');
  assert.equal(provider.requests.filter((q) => q.path.startsWith('/rt')).length - upBefore, 2, 'one retry');
  assertClean(r.body);

  // a token endpoint that issues tokens the API keeps refusing: still one refresh and one retry
  provider.on('*', '/rt/always401', (_q, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end('{"error":"nope"}');
  });
  const b2 = tokenCalls.length;
  const r2 = await call(broker, 'GET', '/v/rt/rt/always401', { headers: auth() });
  assert.equal(r2.status, 401);
  assert.equal(tokenCalls.length - b2, 1, 'one forced refresh');
  assert.equal(provider.requests.filter((q) => q.path === '/rt/always401').length, 2, 'the request and one retry');
});

test('the token endpoint refusing: 502 upstream_error naming status and error code only', async () => {
  valid = new Set();
  tokenFails = true;
  const r = await call(broker, 'GET', '/v/cc/cc/after-fail', { headers: auth() });
  // the cached cc token is refused (401) → forced refresh fails → upstream_error
  assert.equal(r.status, 502);
  assert.equal(r.headers['x-aivault-error'], 'upstream_error');
  assert.match(r.body, /status 400 \(invalid_grant\)/);
  assertClean(r.body);
});

test('a token URL host outside the credential hosts is refused before any request', async () => {
  const before = provider.requests.length;
  const r = await call(broker, 'GET', '/v/bad/bad/x', { headers: auth() });
  assert.equal(r.status, 403);
  assert.equal(r.headers['x-aivault-error'], 'host_not_allowed');
  assert.equal(provider.requests.length, before);
});

test('the caller cannot send its own authorization to an oauth2 upstream', async () => {
  const r = await call(broker, 'GET', '/v/cc/cc/x', { headers: { ...auth(), 'x-api-key': 'mine' } });
  assert.equal(r.status, 403);
});

test('no audit line carries a secret or token', () => {
  assertClean(JSON.stringify(audit.events));
});
