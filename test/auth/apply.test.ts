import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AuthSpec } from '../../src/registry/types.js';
import { applyAuth, renderTemplate, authSlots, type OutgoingRequest } from '../../src/auth/index.js';
import { AivaultError } from '../../src/errors/aivault-error.js';
import { normalizePath } from '../../src/policy/path.js';
import { parseQuery } from '../../src/policy/query.js';

const S = 'sk-SENTINEL-0123456789abcdef';
const base: OutgoingRequest = { path: '/v1/chat/completions', query: '', headers: { 'content-type': 'application/json' } };

const OPENAI: AuthSpec = { strategy: 'header', header: 'authorization', template: 'Bearer {{secret}}' };
const ANTHROPIC: AuthSpec = { strategy: 'header', header: 'x-api-key', template: '{{secret}}' };
const GEMINI: AuthSpec = { strategy: 'query', param: 'key', template: '{{secret}}' };
const TELEGRAM: AuthSpec = { strategy: 'path', prefix: '/bot{{secret}}' };
const STRIPE: AuthSpec = { strategy: 'basic', username: '{{secret}}', password: '' };
const TWILIO: AuthSpec = { strategy: 'basic', username: '{{sid}}', password: '{{token}}' };
const MULTI_H: AuthSpec = { strategy: 'multi-header', headers: { 'DD-API-KEY': '{{api}}', 'dd-application-key': '{{app}}' } };
const MULTI_Q: AuthSpec = { strategy: 'multi-query', params: { key: '{{key}}', token: '{{token}}' } };

type Case = [string, AuthSpec, Record<string, string>, OutgoingRequest, OutgoingRequest];
const CASES: Case[] = [
  ['openai bearer', OPENAI, { secret: S }, base, { ...base, headers: { 'content-type': 'application/json', authorization: `Bearer ${S}` } }],
  ['anthropic x-api-key', ANTHROPIC, { secret: S }, base, { ...base, headers: { 'content-type': 'application/json', 'x-api-key': S } }],
  ['header replaces a same-named header in any case', ANTHROPIC, { secret: S }, { ...base, headers: { 'X-Api-Key': 'old' } }, { ...base, headers: { 'x-api-key': S } }],
  ['header name lower-cased', { strategy: 'header', header: 'X-Goog-Api-Key', template: '{{secret}}' }, { secret: S }, { ...base, headers: {} }, { ...base, headers: { 'x-goog-api-key': S } }],
  ['gemini query on empty query', GEMINI, { secret: S }, { path: '/v1beta/models', query: '', headers: {} }, { path: '/v1beta/models', query: `key=${S}`, headers: {} }],
  ['gemini query appended', GEMINI, { secret: S }, { path: '/v1beta/models', query: 'alt=json', headers: {} }, { path: '/v1beta/models', query: `alt=json&key=${S}`, headers: {} }],
  ['query removes an existing same-named param', GEMINI, { secret: S }, { path: '/m', query: 'KEY=old&a=1', headers: {} }, { path: '/m', query: `a=1&key=${S}`, headers: {} }],
  ['query value is encoded', GEMINI, { secret: 'a b&c=d/é' }, { path: '/m', query: '', headers: {} }, { path: '/m', query: 'key=a%20b%26c%3Dd%2F%C3%A9', headers: {} }],
  ['telegram path', TELEGRAM, { secret: '123456:ABC-def_GHI' }, { path: '/sendMessage', query: '', headers: {} }, { path: '/bot123456:ABC-def_GHI/sendMessage', query: '', headers: {} }],
  ['telegram path keeps query', TELEGRAM, { secret: '1:A' }, { path: '/getUpdates', query: 'offset=1', headers: {} }, { path: '/bot1:A/getUpdates', query: 'offset=1', headers: {} }],
  ['path on root', TELEGRAM, { secret: '1:A' }, { path: '/', query: '', headers: {} }, { path: '/bot1:A/', query: '', headers: {} }],
  ['path prefix with trailing slash is not doubled', { strategy: 'path', prefix: '/bot{{secret}}/' }, { secret: '1:A' }, { path: '/x', query: '', headers: {} }, { path: '/bot1:A/x', query: '', headers: {} }],
  ['path secret with reserved chars encoded', TELEGRAM, { secret: 'a b?c#d' }, { path: '/x', query: '', headers: {} }, { path: '/bota%20b%3Fc%23d/x', query: '', headers: {} }],
  ['path two fields', { strategy: 'path', prefix: '/acct/{{id}}/key/{{secret}}' }, { id: 'A1', secret: 'zz' }, { path: '/x', query: '', headers: {} }, { path: '/acct/A1/key/zz/x', query: '', headers: {} }],
  ['stripe basic (key as user, empty password)', STRIPE, { secret: 'sk_test_123' }, { path: '/v1/charges', query: '', headers: {} }, { path: '/v1/charges', query: '', headers: { authorization: 'Basic ' + Buffer.from('sk_test_123:').toString('base64') } }],
  ['twilio basic', TWILIO, { sid: 'AC123', token: 'tok' }, { path: '/x', query: '', headers: { Authorization: 'old' } }, { path: '/x', query: '', headers: { authorization: 'Basic QUMxMjM6dG9r' } }],
  ['basic utf-8', STRIPE, { secret: 'ü' }, { path: '/x', query: '', headers: {} }, { path: '/x', query: '', headers: { authorization: 'Basic ' + Buffer.from('ü:', 'utf8').toString('base64') } }],
  ['multi-header', MULTI_H, { api: 'A', app: 'B' }, { path: '/x', query: '', headers: {} }, { path: '/x', query: '', headers: { 'dd-api-key': 'A', 'dd-application-key': 'B' } }],
  ['multi-query', MULTI_Q, { key: 'K', token: 'T' }, { path: '/x', query: 'a=1', headers: {} }, { path: '/x', query: 'a=1&key=K&token=T', headers: {} }],
];
for (const [name, spec, fields, req, want] of CASES) {
  test(`applyAuth: ${name}`, () => {
    const before = JSON.stringify(req);
    assert.deepEqual(applyAuth(spec, fields, req), want);
    assert.equal(JSON.stringify(req), before, 'input request must not be mutated');
  });
}

function throwsCode(fn: () => unknown, code: string, secret?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AivaultError, String(e));
    assert.equal(e.code, code);
    if (secret) assert.ok(!e.message.includes(secret), 'message leaks the secret');
    return true;
  });
}

const FAIL: Array<[string, unknown, Record<string, string>]> = [
  ['oauth2', { strategy: 'oauth2', tokenUrl: 'https://x' }, { secret: S }],
  ['aws-sigv4', { strategy: 'aws-sigv4', region: 'us-east-1' }, { secret: S }],
  ['hmac', { strategy: 'hmac' }, { secret: S }],
  ['mtls', { strategy: 'mtls' }, { secret: S }],
  ['unknown strategy', { strategy: 'bearer-magic' }, { secret: S }],
  ['missing strategy', {}, { secret: S }],
  ['strategy with secret-looking name', { strategy: S }, { secret: S }],
  ['header template unknown field', { strategy: 'header', header: 'authorization', template: 'Bearer {{token}}' }, { secret: S }],
  ['header value with CRLF', OPENAI, { secret: S + '\r\nx-evil: 1' }],
  ['header value with LF', ANTHROPIC, { secret: S + '\n' }],
  ['header value with NUL', ANTHROPIC, { secret: S + '\u0000' }],
  ['header value non-latin1', ANTHROPIC, { secret: S + '\u2028' }],
  ['bad header name', { strategy: 'header', header: 'x bad', template: '{{secret}}' }, { secret: S }],
  ['empty header name', { strategy: 'header', header: '', template: '{{secret}}' }, { secret: S }],
  ['query empty param name', { strategy: 'query', param: '', template: '{{secret}}' }, { secret: S }],
  ['path secret with /', TELEGRAM, { secret: S + '/x' }],
  ['path secret with \\', TELEGRAM, { secret: S + '\\x' }],
  ['path secret with %', TELEGRAM, { secret: S + '%41' }],
  ['path secret that is ..', { strategy: 'path', prefix: '/{{secret}}' }, { secret: '..' }],
  ['path secret that is .', { strategy: 'path', prefix: '/{{secret}}' }, { secret: '.' }],
  ['path secret empty', { strategy: 'path', prefix: '/{{secret}}' }, { secret: '' }],
  ['path prefix without leading slash', { strategy: 'path', prefix: 'bot{{secret}}' }, { secret: S }],
  ['path prefix with a query', { strategy: 'path', prefix: '/bot{{secret}}?x=1' }, { secret: S }],
  ['basic username with colon', STRIPE, { secret: S + ':x' }],
  ['basic unknown field', TWILIO, { sid: S }],
  ['multi-header empty', { strategy: 'multi-header', headers: {} }, { secret: S }],
  ['multi-query empty', { strategy: 'multi-query', params: {} }, { secret: S }],
  ['header secret empty', OPENAI, { secret: '' }],
  ['query secret empty', GEMINI, { secret: '' }],
  ['lone surrogate in a field', GEMINI, { secret: 'a\ud800b' }],
  ['multi-header CRLF', { strategy: 'multi-header', headers: { a: '{{secret}}' } }, { secret: 'x\r\ny' }],
];
for (const [name, spec, fields] of FAIL) {
  test(`applyAuth fails closed (policy_violation): ${name}`, () => {
    throwsCode(() => applyAuth(spec as AuthSpec, fields, base), 'policy_violation', S);
  });
}

const TEMPLATES: Array<[string, Record<string, string>, string | null]> = [
  ['Bearer {{secret}}', { secret: S }, `Bearer ${S}`],
  ['{{secret}}', { secret: S }, S],
  ['{{ secret }}', { secret: S }, S],
  ['{{a}}:{{b}}', { a: '1', b: '2' }, '1:2'],
  ['{{a}}{{a}}', { a: 'x' }, 'xx'],
  ['no placeholders', {}, 'no placeholders'],
  ['', {}, ''],
  ['{{secret}}', { secret: '{{other}}' }, '{{other}}'],
  ['{{secret}}', { secret: '' }, null],
  ['{{missing}}', { secret: S }, null],
  ['{{}}', {}, null],
  ['{{secret', { secret: S }, null],
  ['secret}}', { secret: S }, null],
  ['{{secret}} {{', { secret: S }, null],
  ['{{ bad field }}', { 'bad field': 'x' }, null],
  ['{{toString}}', {}, null],
  ['{{__proto__}}', {}, null],
  ['{{constructor}}', {}, null],
];
for (const [tpl, fields, want] of TEMPLATES) {
  test(`renderTemplate(${JSON.stringify(tpl)})`, () => {
    if (want === null) throwsCode(() => renderTemplate(tpl, fields), 'policy_violation', S);
    else assert.equal(renderTemplate(tpl, fields), want);
  });
}

const SLOTS: Array<[unknown, { headers: string[]; queryParams: string[] }]> = [
  [OPENAI, { headers: ['authorization'], queryParams: [] }],
  [ANTHROPIC, { headers: ['x-api-key'], queryParams: [] }],
  [{ strategy: 'header', header: 'X-Goog-Api-Key', template: '{{secret}}' }, { headers: ['x-goog-api-key'], queryParams: [] }],
  [GEMINI, { headers: [], queryParams: ['key'] }],
  [TELEGRAM, { headers: [], queryParams: [] }],
  [STRIPE, { headers: ['authorization'], queryParams: [] }],
  [MULTI_H, { headers: ['dd-api-key', 'dd-application-key'], queryParams: [] }],
  [MULTI_Q, { headers: [], queryParams: ['key', 'token'] }],
  [{ strategy: 'oauth2' }, { headers: ['authorization'], queryParams: [] }],
  [{ strategy: 'who-knows' }, { headers: ['authorization'], queryParams: [] }],
];
for (const [spec, want] of SLOTS) {
  test(`authSlots(${JSON.stringify(spec)})`, () => assert.deepEqual(authSlots(spec as AuthSpec), want));
}
test('authSlots merges provider extras without duplicates', () => {
  assert.deepEqual(authSlots(GEMINI, { headers: ['X-Goog-Api-Key'], queryParams: ['key', 'access_token'] }), {
    headers: ['x-goog-api-key'],
    queryParams: ['key', 'access_token'],
  });
});

const secretArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });

test('property: path auth yields a normalised path that starts with the rendered prefix, or fails closed', () => {
  const reqPath = fc.array(fc.constantFrom('sendMessage', 'getMe', 'a', 'x-y'), { maxLength: 3 }).map((s) => '/' + s.join('/'));
  let accepted = 0;
  fc.assert(
    fc.property(secretArb, reqPath, (secret, p) => {
      let out: OutgoingRequest;
      try {
        out = applyAuth(TELEGRAM, { secret }, { path: p, query: '', headers: {} });
      } catch (e) {
        assert.ok(e instanceof AivaultError && e.code === 'policy_violation');
        assert.ok(!e.message.includes(secret) || secret.length < 3);
        return;
      }
      const n = normalizePath(out.path);
      assert.ok(n.ok, out.path);
      if (n.ok) assert.equal(n.path, out.path);
      const segs = out.path.split('/');
      assert.equal(segs.length, p === '/' ? 3 : p.split('/').length + 1, 'secret must stay inside one segment');
      assert.ok(segs[1]!.startsWith('bot'));
      assert.equal(decodeURIComponent(segs[1]!.slice(3)), secret);
      accepted++;
    }),
    { numRuns: 2000 },
  );
  // a function that refused everything would pass the property: require real acceptances
  assert.ok(accepted >= 1_000, `only ${accepted} of 2000 secrets were accepted`);
});

test('property: query auth adds exactly one owned param whose decoded value is the secret', () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('', 'a=1', 'a=1&b=2', 'key=old'), (secret, q) => {
      let out: OutgoingRequest;
      try {
        out = applyAuth(GEMINI, { secret }, { path: '/m', query: q, headers: {} });
      } catch (e) {
        // only lone surrogates cannot be encoded: refused as policy_violation
        assert.ok(e instanceof AivaultError && e.code === 'policy_violation');
        assert.ok(/[\ud800-\udfff]/u.test(secret));
        return;
      }
      const keys = parseQuery(out.query).filter((p) => p.name === 'key');
      assert.equal(keys.length, 1);
      assert.equal(decodeURIComponent(keys[0]!.rawValue!), secret);
      assert.ok(!/[&#\s]/.test(out.query.split('key=')[1]!));
      accepted++;
    }),
    { numRuns: 2000 },
  );
  assert.ok(accepted >= 1_500, `only ${accepted} of 2000 secrets were accepted`);
});

test('property: header auth never produces CR/LF/NUL and failures never echo the secret', () => {
  let accepted = 0;
  // binary strings (mostly refused: control characters) and printable ones (mostly accepted)
  fc.assert(
    fc.property(fc.oneof(secretArb, fc.string({ minLength: 1, maxLength: 40 })), (secret) => {
      try {
        const out = applyAuth(OPENAI, { secret }, base);
        assert.ok(!/[\r\n\u0000]/.test(out.headers['authorization']!));
        assert.equal(out.headers['authorization'], 'Bearer ' + secret);
        accepted++;
      } catch (e) {
        assert.ok(e instanceof AivaultError && e.code === 'policy_violation');
        assert.ok(!e.message.includes(secret) || secret.length < 4);
      }
    }),
    { numRuns: 2000 },
  );
  assert.ok(accepted >= 500, `only ${accepted} of 2000 secrets were accepted`);
});
