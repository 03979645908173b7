/**
 * Property-based security tests (fast-check, numRuns set explicitly, ≥1000 each):
 * - the broker's policy pipeline (approvePassthrough / approveEnvelope, the functions the HTTP
 *   server calls) either refuses or approves a request that goes to the policy host, with a
 *   normal-form path inside a granted prefix that no upstream URL parser would resolve elsewhere,
 *   carrying only the injected credential;
 * - path normalisation is idempotent and stable under WHATWG URL resolution;
 * - the streaming redactor removes every occurrence of the secret for any chunking.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { approveEnvelope, approvePassthrough, InjectionCache, type Approved, type PipelineContext } from '../../src/broker/pipeline.js';
import { TokenTable } from '../../src/broker/tokens.js';
import { Upstream } from '../../src/broker/upstream.js';
import { RateLimiter } from '../../src/broker/rate-limit.js';
import { readDevOverrides } from '../../src/broker/dev-overrides.js';
import { BrokerDenial } from '../../src/broker/errors.js';
import { StreamRedactor, REDACTED } from '../../src/broker/redactor.js';
import { normalizePath, prefixMatches } from '../../src/policy/path.js';
import { AUTH_CLASS_HEADERS } from '../../src/policy/headers.js';
import { isAivaultError } from '../../src/errors/aivault-error.js';
import { testCatalog } from '../helpers/catalog.js';

const SECRETS = {
  OPENAI_API_KEY: 'sk-SENTINEL-prop-openai-4f1c2a',
  ANTHROPIC_API_KEY: 'sk-ant-SENTINEL-prop-anthropic-9e8d',
  GEMINI_API_KEY: 'AIzaSENTINELpropgemini77',
  TELEGRAM_BOT_TOKEN: '4242:SENTINEL-prop-telegram',
};
const GRANT = ['openai/chat-completions', 'openai/models', 'anthropic/messages', 'gemini/models', 'telegram/send-message'];

function context(): { ctx: PipelineContext; token: string } {
  const catalog = testCatalog({ secrets: { ...SECRETS } });
  const tokens = new TokenTable();
  const token = tokens.mint({ runId: 'prop', capabilities: GRANT });
  const dev = readDevOverrides({
    AIVAULT_DEV_RESOLVE: ['api.openai.com', 'api.anthropic.com', 'generativelanguage.googleapis.com', 'api.telegram.org', 'api.github.com'].map((h) => `${h}=127.0.0.1:9`).join(','),
  });
  const ctx: PipelineContext = {
    catalog,
    tokens,
    upstream: new Upstream(dev, async () => {
      throw new Error('no DNS in property tests');
    }),
    limiter: new RateLimiter(),
    injections: new InjectionCache(),
    maxRequestBytes: 1024,
  };
  return { ctx, token };
}

// ---- generators ---------------------------------------------------------------------------------
const SEGMENTS = [
  'v1', 'chat', 'completions', 'models', 'messages', 'v1beta', 'sendMessage', 'embeddings', 'x', 'completionsX',
  '..', '.', '%2e%2e', '%2E%2e', '.%2e', '%2e', '%252e%252e', '%2f', '..%2f', '%5c', '\\', '%00', '', '..;', ';x',
  '%63hat', 'C%68at', '%ef%bc%8e%ef%bc%8e', '%c0%ae', '%e2%88%95', '~', '%7e', 'a:b', '@', '%3F', '?', '#', ' ',
];
const segment = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...SEGMENTS) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) });
const randomPath = fc.array(segment, { minLength: 0, maxLength: 6 }).map((s) => '/' + s.join('/'));
const PREFIXES = ['/v1/chat/completions', '/v1/models', '/v1/messages', '/v1beta/models', '/sendMessage', '/v1/embeddings'];
/** Half the paths start at a real prefix (so some requests are allowed), then a hostile tail. */
const pathArb = fc.oneof(
  randomPath,
  fc.tuple(fc.constantFrom(...PREFIXES), fc.oneof(fc.constant([] as string[]), fc.array(segment, { maxLength: 3 })), fc.boolean()).map(([p, tail, slash]) => p + tail.map((t) => '/' + t).join('') + (slash ? '/' : '')),
);
const queryArb = fc.oneof(fc.constant(''), fc.array(
  fc.tuple(fc.constantFrom('key', 'ke%79', 'KEY', 'k', 'key[]', 'q', '%6bey', 'token', 'api_key'), fc.constantFrom('attacker', '{{TOKEN}}', '', 'x%20y')),
  { maxLength: 3 },
).map((ps) => (ps.length ? '?' + ps.map(([k, v]) => `${k}=${v}`).join('&') : '')));
const methodArb = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('GET', 'POST') }, { weight: 1, arbitrary: fc.constantFrom('PUT', 'DELETE', 'get', 'post', 'PATCH', 'OPTIONS', 'TRACE') });
const providerArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('openai', 'anthropic', 'gemini', 'telegram') },
  { weight: 1, arbitrary: fc.constantFrom('github', 'evil', '..', 'openai%2f..', 'OPENAI') },
);
const someHeaders = fc.array(
  fc.tuple(
    fc.constantFrom('authorization', 'Authorization', 'x-api-key', 'X-API-KEY', 'cookie', 'api-key', 'proxy-authorization', 'x-goog-api-key', 'host', 'x-forwarded-host', 'content-type', 'x-aivault-capability', 'connection', 'x-other'),
    fc.constantFrom('{{TOKEN}}', 'Bearer {{TOKEN}}', 'Bearer attacker', 'attacker', 'evil.example', 'x-other', 'a=b'),
  ),
  { maxLength: 3 },
);
const headerArb = fc.oneof(fc.constant([] as Array<[string, string]>), someHeaders);
const tokenPlacement = fc.constantFrom('authorization', 'x-api-key', 'none');

function fill(s: string, token: string): string {
  return s.replaceAll('{{TOKEN}}', token);
}

function fakeReq(method: string, url: string, headers: Record<string, string>): IncomingMessage {
  return { method, url, headers, complete: true } as unknown as IncomingMessage;
}

/** The invariant every approved request must satisfy. */
function checkApproved(a: Approved, token: string): void {
  const cap = a.capability;
  assert.ok(GRANT.includes(cap.id), `approved an ungranted capability ${cap.id}`);
  assert.ok(cap.hosts.includes(a.target.host), `host ${a.target.host} is not the policy host of ${cap.id}`);
  assert.ok(cap.methods.includes(a.method), `method ${a.method} not allowed by ${cap.id}`);
  const q = a.path.indexOf('?');
  let p = q === -1 ? a.path : a.path.slice(0, q);
  const query = q === -1 ? '' : a.path.slice(q + 1);
  if (cap.provider === 'telegram') {
    const pre = '/bot' + SECRETS.TELEGRAM_BOT_TOKEN;
    assert.ok(p.startsWith(pre + '/'), 'path auth prefix first');
    p = p.slice(pre.length);
  }
  const n = normalizePath(p);
  assert.ok(n.ok && n.path === p, `forwarded path not in normal form: ${p}`);
  assert.equal(new URL('https://h.example' + p).pathname, p, `an upstream URL parser would resolve ${p} elsewhere`);
  assert.ok(cap.pathPrefixes.some((pre) => prefixMatches(p, pre)), `path ${p} outside ${cap.id}`);
  // The token is consumed from every auth slot. (Placed by the caller in an ordinary header or
  // parameter it is caller data and is forwarded like the body: documented in the threat model.)
  for (const k of Object.keys(a.headers)) if (AUTH_CLASS_HEADERS.has(k)) assert.ok(!a.headers[k]!.includes(token), `token forwarded in ${k}`);
  // auth-class headers: only what the broker injected
  for (const [k, v] of Object.entries(a.headers)) {
    if (!AUTH_CLASS_HEADERS.has(k) && !(k === 'x-goog-api-key' && cap.provider === 'gemini')) continue;
    const ok = (k === 'authorization' && v === `Bearer ${SECRETS.OPENAI_API_KEY}`) || (k === 'x-api-key' && v === SECRETS.ANTHROPIC_API_KEY);
    assert.ok(ok, `auth-class header ${k}: ${v} forwarded`);
  }
  const keys = query.split('&').filter((x) => /^key=/i.test(x));
  // gemini's auth slot is `key=`: exactly the injected one (for other providers `key` is an ordinary parameter)
  if (cap.provider === 'gemini') assert.deepEqual(keys, [`key=${SECRETS.GEMINI_API_KEY}`]);
  for (const [name, v] of Object.entries(SECRETS)) {
    const mine = (name === 'OPENAI_API_KEY' && cap.provider === 'openai') || (name === 'ANTHROPIC_API_KEY' && cap.provider === 'anthropic') || (name === 'GEMINI_API_KEY' && cap.provider === 'gemini') || (name === 'TELEGRAM_BOT_TOKEN' && cap.provider === 'telegram');
    if (!mine) assert.ok(!JSON.stringify(a).includes(v), `${name} sent to ${a.target.host}`);
  }
}

function isRefusal(e: unknown): boolean {
  return e instanceof BrokerDenial || isAivaultError(e);
}

let approvedCount = 0;

test('passthrough pipeline: refuse, or policy host + normal-form granted path + injected auth only (2000 runs)', async () => {
  const { ctx, token } = context();
  let approved = 0;
  await fc.assert(
    fc.asyncProperty(methodArb, providerArb, pathArb, queryArb, headerArb, tokenPlacement, async (method, prov, path, query, hdrs, place) => {
      const headers: Record<string, string> = { host: '127.0.0.1:1' };
      for (const [k, v] of hdrs) headers[k.toLowerCase()] = fill(v, token);
      if (place === 'authorization') headers.authorization = `Bearer ${token}`;
      if (place === 'x-api-key') headers['x-api-key'] = token;
      const url = `/v/${prov}${path}${fill(query, token)}`;
      let a: Approved;
      try {
        a = await approvePassthrough(ctx, fakeReq(method, url, headers), { method });
      } catch (e) {
        if (isRefusal(e)) return;
        throw e;
      }
      approved++;
      checkApproved(a, token);
    }),
    { numRuns: 2000 },
  );
  approvedCount += approved;
  assert.ok(approved >= 20, `the generator must also produce allowed requests (got ${approved})`);
});

test('envelope pipeline: same invariant for arbitrary capability, method, path and headers (2000 runs)', async () => {
  const { ctx, token } = context();
  let approved = 0;
  const capArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...GRANT) }, { weight: 1, arbitrary: fc.constantFrom('openai/responses', 'github/repos', 'evil/x', 'openai/*') });
  await fc.assert(
    fc.asyncProperty(capArb, methodArb, pathArb, queryArb, headerArb, async (capability, method, path, query, hdrs) => {
      const inner: Record<string, string> = {};
      for (const [k, v] of hdrs) inner[k] = fill(v, token);
      const body = Buffer.from(JSON.stringify({ capability, request: { method, path: path + fill(query, token), headers: inner } }));
      let a: Approved;
      try {
        a = await approveEnvelope(ctx, fakeReq('POST', '/aivault/proxy', { host: '127.0.0.1:1', authorization: `Bearer ${token}` }), { method: 'POST' }, async () => body);
      } catch (e) {
        if (isRefusal(e)) return;
        throw e;
      }
      approved++;
      checkApproved(a, token);
    }),
    { numRuns: 2000 },
  );
  assert.ok(approved >= 20, `the generator must also produce allowed requests (got ${approved})`);
});

test('normalizePath is idempotent and WHATWG-stable on hostile paths (5000 runs)', () => {
  let accepted = 0;
  fc.assert(
    fc.property(pathArb, queryArb, (path, query) => {
      const n = normalizePath(path + query);
      if (!n.ok) return;
      accepted++;
      const again = normalizePath(n.path + (n.query ? '?' + n.query : ''));
      assert.ok(again.ok, 'normal form must normalise');
      assert.equal(again.path, n.path);
      assert.equal(again.query, n.query);
      assert.equal(new URL('https://h.example' + n.path).pathname, n.path);
      // no segment decodes to a dot segment or contains a separator
      for (const s of n.path.split('/').slice(1)) {
        const d = decodeURIComponent(s);
        assert.ok(d !== '.' && d !== '..' && !d.includes('/') && !d.includes('\\'), `segment ${s}`);
      }
    }),
    { numRuns: 5000 },
  );
  assert.ok(accepted >= 1_000, `only ${accepted} of 5000 paths were accepted`);
});

test('normalizePath is idempotent on arbitrary strings (5000 runs)', () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.string({ maxLength: 40, unit: 'binary' }), (s) => {
      const n = normalizePath('/' + s);
      if (!n.ok) return;
      accepted++;
      const again = normalizePath(n.path);
      assert.ok(again.ok && again.path === n.path);
    }),
    { numRuns: 5000 },
  );
  assert.ok(accepted >= 200, `only ${accepted} of 5000 paths were accepted`);
});

function redactChunked(values: string[], input: Buffer, cuts: number[]): string {
  const r = new StreamRedactor(values);
  const out: Buffer[] = [];
  let last = 0;
  for (const c of [...new Set(cuts)].sort((a, b) => a - b)) {
    out.push(r.push(input.subarray(last, c)));
    last = c;
  }
  out.push(r.push(input.subarray(last)), r.end());
  return Buffer.concat(out).toString('utf8');
}

test('streaming redactor: no occurrence of any secret survives, for any chunking (3000 runs)', () => {
  const secretArb = fc.string({ minLength: 4, maxLength: 24, unit: fc.constantFrom(...'abcdefSENTIL0123456789-_:'.split('')) });
  fc.assert(
    fc.property(
      fc.array(secretArb, { minLength: 1, maxLength: 3 }),
      fc.array(fc.oneof(fc.nat(2).map((i) => ({ s: i })), fc.string({ maxLength: 6 })), { maxLength: 14 }),
      fc.array(fc.nat(400), { maxLength: 12 }),
      (secrets, items, rawCuts) => {
        const text = items.map((x) => (typeof x === 'string' ? x : (secrets[x.s % secrets.length] ?? ''))).join('');
        const input = Buffer.from(text);
        const cuts = rawCuts.map((c) => c % (input.length + 1));
        const out = redactChunked(secrets, input, cuts);
        for (const s of secrets) assert.ok(!out.includes(s), `secret ${s} survived in ${out}`);
        // chunking never changes the result
        assert.equal(out, redactChunked(secrets, input, []));
      },
    ),
    { numRuns: 3000 },
  );
});

test('streaming redactor: single secret, output equals whole-text replacement for any chunking, incl. multi-byte text (3000 runs)', () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 16, unit: 'grapheme' }),
      fc.array(fc.oneof(fc.constant(0), fc.string({ maxLength: 5, unit: 'grapheme' })), { maxLength: 10 }),
      fc.array(fc.nat(300), { maxLength: 10 }),
      (secret, items, rawCuts) => {
        const text = items.map((x) => (x === 0 ? secret : x)).join('');
        const input = Buffer.from(text);
        const cuts = rawCuts.map((c) => c % (input.length + 1));
        const expected = redactChunked([secret], input, []);
        assert.equal(redactChunked([secret], input, cuts), expected);
        if (!REDACTED.includes(secret) && !secret.includes(']')) assert.ok(!expected.includes(secret) || text.split(secret).join(REDACTED).includes(secret));
      },
    ),
    { numRuns: 3000 },
  );
});
