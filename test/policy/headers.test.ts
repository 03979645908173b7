import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  HOP_BY_HOP,
  AUTH_CLASS_HEADERS,
  checkCallerHeaders,
  forwardableRequestHeaders,
  sanitizeResponseHeaders,
} from '../../src/policy/headers.js';
import { AivaultError } from '../../src/errors/aivault-error.js';

function mixedCases(name: string): string[] {
  const upper = name.toUpperCase();
  const title = name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
  const alt = [...name].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('');
  const alt2 = [...name].map((c, i) => (i % 2 ? c : c.toUpperCase())).join('');
  return [...new Set([name, upper, title, alt, alt2])];
}

const SPEC_AUTH_CLASS = ['authorization', 'proxy-authorization', 'x-api-key', 'cookie', 'api-key'];

test('AUTH_CLASS_HEADERS holds exactly the SPEC §6 list', () => {
  assert.deepEqual([...AUTH_CLASS_HEADERS].sort(), [...SPEC_AUTH_CLASS].sort());
});

for (const h of SPEC_AUTH_CLASS) {
  for (const variant of mixedCases(h)) {
    for (const value of ['Bearer sk-caller', '', 'x']) {
      test(`checkCallerHeaders rejects ${JSON.stringify(variant)}: ${JSON.stringify(value)}`, () => {
        assert.deepEqual(checkCallerHeaders({ 'content-type': 'application/json', [variant]: value }, { headers: [] }), {
          ok: false,
          code: 'auth_header_rejected',
          header: h,
        });
      });
    }
    test(`checkCallerHeaders rejects ${JSON.stringify(variant)} as an array value`, () => {
      const r = checkCallerHeaders({ [variant]: ['a', 'b'] }, { headers: [] });
      assert.equal(r.ok, false);
    });
  }
}

const PROVIDER_SLOTS: Array<[string, string[]]> = [
  ['x-goog-api-key', ['x-goog-api-key']],
  ['X-Goog-Api-Key', ['x-goog-api-key']],
  ['x-goog-api-key', ['X-GOOG-API-KEY']],
  ['anthropic-api-key', ['anthropic-api-key']],
  ['X-Auth-Token', ['x-auth-token']],
  ['private-token', ['Private-Token']],
];
for (const [header, slots] of PROVIDER_SLOTS) {
  test(`checkCallerHeaders rejects provider slot ${header} (slots ${slots})`, () => {
    const r = checkCallerHeaders({ [header]: 'v' }, { headers: slots });
    assert.deepEqual(r, { ok: false, code: 'auth_header_rejected', header: header.toLowerCase() });
  });
}

const ALLOWED_CALLER: Array<Record<string, string | string[] | undefined>> = [
  {},
  { 'content-type': 'application/json' },
  { accept: 'text/event-stream', 'openai-beta': 'assistants=v2', 'anthropic-version': '2023-06-01' },
  { 'x-stainless-os': 'Linux', 'user-agent': 'OpenAI/JS 6.0' },
  { authorization: undefined, 'x-api-key': undefined },
  { 'x-goog-api-key': 'v' }, // not a slot unless the provider says so
  { 'x-authorization-hint': 'x', 'authorization-x': 'y', 'x-api-keys': 'z', cookies: 'w' },
];
for (const h of ALLOWED_CALLER) {
  test(`checkCallerHeaders accepts ${JSON.stringify(h)}`, () => assert.deepEqual(checkCallerHeaders(h, { headers: [] }), { ok: true }));
}

// forwardableRequestHeaders: [input, expected output (accept-encoding: identity is always added)]
const FORWARD: Array<[Record<string, string | string[] | undefined>, Record<string, string>]> = [
  [{}, {}],
  [{ 'Content-Type': 'application/json' }, { 'content-type': 'application/json' }],
  [{ accept: 'text/event-stream', 'OpenAI-Beta': 'x' }, { accept: 'text/event-stream', 'openai-beta': 'x' }],
  [{ 'accept-encoding': 'gzip, br' }, {}],
  [{ 'Accept-Encoding': 'gzip' }, {}],
  [{ host: '127.0.0.1:1234', Host: 'x' }, {}],
  [{ 'content-length': '10' }, {}],
  [{ 'transfer-encoding': 'chunked' }, {}],
  [{ connection: 'keep-alive', 'keep-alive': 'timeout=5' }, {}],
  [{ connection: 'close, x-secret-hop', 'x-secret-hop': '1', 'x-kept': '2' }, { 'x-kept': '2' }],
  [{ 'proxy-connection': 'keep-alive', te: 'trailers', trailer: 'x', upgrade: 'websocket' }, {}],
  [{ 'proxy-authenticate': 'x', 'proxy-authorization': 'y', 'http2-settings': 'z' }, {}],
  [{ 'x-forwarded-for': '1.2.3.4', 'X-Forwarded-Host': 'evil', 'x-forwarded-proto': 'http', forwarded: 'for=1.2.3.4' }, {}],
  [{ 'x-real-ip': '1.2.3.4', via: '1.1 proxy', 'true-client-ip': '1', 'cf-connecting-ip': '1', 'x-client-ip': '1', 'client-ip': '1' }, {}],
  [{ 'x-aivault-token': 't', 'X-Aivault-Anything': 'x' }, {}],
  [{ expect: '100-continue' }, {}],
  [{ authorization: 'Bearer x', 'x-api-key': 'k', cookie: 'c', 'api-key': 'a' }, {}],
  [{ ':authority': 'x', ':path': '/y' }, {}],
  [{ 'x-multi': ['a', 'b'] }, { 'x-multi': 'a, b' }],
  [{ 'x-undefined': undefined, 'x-empty': '' }, { 'x-empty': '' }],
  [{ 'x-tab': 'a\tb' }, { 'x-tab': 'a\tb' }],
  [{ 'x-latin1': 'caf\u00e9' }, { 'x-latin1': 'caf\u00e9' }],
  [{ 'X-Dup': 'a', 'x-dup': 'b' }, { 'x-dup': 'a, b' }],
];
for (const [input, want] of FORWARD) {
  test(`forwardableRequestHeaders(${JSON.stringify(input)})`, () => {
    assert.deepEqual(forwardableRequestHeaders(input), { ...want, 'accept-encoding': 'identity' });
  });
}

test('forwardableRequestHeaders strips extra names (provider auth slots), case-insensitively', () => {
  assert.deepEqual(forwardableRequestHeaders({ 'X-Goog-Api-Key': 'k', a: 'b' }, ['x-goog-api-key']), { a: 'b', 'accept-encoding': 'identity' });
});

const BAD_REQUEST_HEADERS: Array<Record<string, string | string[]>> = [
  { 'x-a': 'a\r\nb' },
  { 'x-a': 'a\nb' },
  { 'x-a': 'a\rb' },
  { 'x-a': 'a\u0000b' },
  { 'x-a': 'a\u001bb' },
  { 'x-a': 'a\u007fb' },
  { 'x-a': 'caf\u0100' },
  { 'x-a': '\u2028' },
  { 'x-a': ['ok', 'bad\r\nx: y'] },
  { 'bad name': 'v' },
  { 'bad:name': 'v' },
  { 'bad\r\nname': 'v' },
  { '': 'v' },
  { 'na\u00efve': 'v' },
  // a stripped header with a bad value is still refused (smuggling attempt)
  { host: 'a\r\nb' },
  { connection: 'close\r\nx: y' },
];
for (const h of BAD_REQUEST_HEADERS) {
  test(`forwardableRequestHeaders refuses ${JSON.stringify(h)} with invalid_request`, () => {
    assert.throws(
      () => forwardableRequestHeaders(h),
      (e: unknown) => e instanceof AivaultError && e.code === 'invalid_request' && !/\r|\n/.test(e.message),
    );
  });
}

// sanitizeResponseHeaders: [input, opts, expected]
const RESPONSE: Array<[Record<string, string | string[] | undefined>, { decoded?: boolean }, Record<string, string | string[]>]> = [
  [{ 'content-type': 'application/json' }, {}, { 'content-type': 'application/json' }],
  [{ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' }, {}, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }],
  [{ 'set-cookie': ['a=1', 'b=2'], 'Set-Cookie2': 'c', cookie: 'd' }, {}, {}],
  [{ authorization: 'x', 'Proxy-Authorization': 'y', 'X-API-Key': 'z', 'api-key': 'w' }, {}, {}],
  [{ connection: 'keep-alive', 'keep-alive': 'x', 'transfer-encoding': 'chunked', upgrade: 'h2c', trailer: 'x', te: 'x', 'proxy-authenticate': 'x', 'proxy-connection': 'x' }, {}, {}],
  [{ connection: 'x-hop', 'x-hop': '1', 'x-req': 'r' }, {}, { 'x-req': 'r' }],
  [{ 'content-length': '123' }, {}, {}],
  [{ 'content-encoding': 'gzip' }, {}, { 'content-encoding': 'gzip' }],
  [{ 'content-encoding': 'gzip' }, { decoded: true }, {}],
  [{ 'alt-svc': 'h3=":443"' }, {}, {}],
  [{ 'x-aivault-error': 'forged' }, {}, {}],
  [{ 'x-request-id': 'req_1', 'openai-processing-ms': '12', 'x-ratelimit-remaining-requests': '99' }, {}, { 'x-request-id': 'req_1', 'openai-processing-ms': '12', 'x-ratelimit-remaining-requests': '99' }],
  [{ 'x-multi': ['a', 'b'] }, {}, { 'x-multi': ['a', 'b'] }],
  [{ 'x-bad': 'a\r\nset-cookie: x' }, {}, {}],
  [{ 'x-bad': ['ok', 'a\nb'] }, {}, { 'x-bad': 'ok' }],
  [{ 'bad name': 'x' }, {}, {}],
  [{ 'x-undef': undefined }, {}, {}],
  [{ location: 'https://api.openai.com/v1/x' }, {}, { location: 'https://api.openai.com/v1/x' }],
];
for (const [input, opts, want] of RESPONSE) {
  test(`sanitizeResponseHeaders(${JSON.stringify(input)}, ${JSON.stringify(opts)})`, () => {
    assert.deepEqual(sanitizeResponseHeaders(input, opts), want);
  });
}

test('every hop-by-hop header in mixed case is stripped both ways', () => {
  for (const h of HOP_BY_HOP) {
    for (const v of mixedCases(h)) {
      assert.ok(!(h in forwardableRequestHeaders({ [v]: 'x' })), v);
      assert.deepEqual(sanitizeResponseHeaders({ [v]: 'x' }), {}, v);
    }
  }
});

test('property: forwarded headers never contain auth-class, hop-by-hop or reserved names, nor CR/LF/NUL', () => {
  const names = fc.constantFrom(
    ...SPEC_AUTH_CLASS.flatMap(mixedCases),
    ...[...HOP_BY_HOP].flatMap(mixedCases),
    'Host', 'Content-Length', 'X-Forwarded-For', 'Forwarded', 'Via', 'X-Real-IP', 'X-Aivault-X', 'Accept-Encoding',
    'content-type', 'accept', 'x-custom', 'OpenAI-Organization', 'anthropic-version',
  );
  const value = fc.string({ maxLength: 12 });
  let accepted = 0;
  let forwarded = 0;
  fc.assert(
    fc.property(fc.dictionary(names, fc.oneof(value, fc.array(value, { maxLength: 3 }))), (h) => {
      let out: Record<string, string>;
      try {
        out = forwardableRequestHeaders(h);
      } catch (e) {
        assert.ok(e instanceof AivaultError && e.code === 'invalid_request');
        return;
      }
      accepted++;
      if (Object.keys(out).length > 1) forwarded++;
      assert.equal(out['accept-encoding'], 'identity');
      for (const [k, v] of Object.entries(out)) {
        assert.equal(k, k.toLowerCase());
        assert.ok(!AUTH_CLASS_HEADERS.has(k) && !HOP_BY_HOP.has(k), k);
        assert.ok(!['host', 'content-length', 'forwarded', 'via', 'x-real-ip'].includes(k), k);
        assert.ok(!k.startsWith('x-forwarded-') && !k.startsWith('x-aivault-'), k);
        assert.ok(!/[\r\n\u0000]/.test(v));
      }
    }),
    { numRuns: 2000 },
  );
  // refusing (or stripping) everything would pass the property: require real acceptances
  assert.ok(accepted >= 1_000, `only ${accepted} of 2000 header sets were accepted`);
  assert.ok(forwarded >= 300, `only ${forwarded} of 2000 header sets forwarded an ordinary header`);
});

test('property: sanitized response headers never carry cookies, credentials, hop-by-hop or content-length', () => {
  const names = fc.constantFrom('Set-Cookie', 'set-cookie2', 'Cookie', 'Authorization', 'x-api-key', 'API-KEY', 'Proxy-Authorization', 'Content-Length', 'Connection', 'Transfer-Encoding', 'content-type', 'x-request-id');
  let kept = 0;
  fc.assert(
    fc.property(fc.dictionary(names, fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }))), (h) => {
      const out = sanitizeResponseHeaders(h);
      if (Object.keys(out).length > 0) kept++;
      for (const [k, v] of Object.entries(out)) {
        assert.ok(['content-type', 'x-request-id'].includes(k), k);
        for (const s of Array.isArray(v) ? v : [v]) assert.ok(!/[\r\n\u0000]/.test(s));
      }
    }),
    { numRuns: 2000 },
  );
  // stripping everything would pass the property: ordinary headers must come through
  assert.ok(kept >= 500, `only ${kept} of 2000 header sets kept an ordinary header`);
});
