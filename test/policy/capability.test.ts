import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Capability } from '../../src/registry/types.js';
import { inferCapability, checkCapability, methodAllowed } from '../../src/policy/capability.js';
import { normalizePath } from '../../src/policy/path.js';

function cap(id: string, methods: string[], pathPrefixes: string[]): Capability {
  return { id, methods, pathPrefixes, hosts: ['api.example.com'], provider: id.split('/')[0]!, custom: false };
}

const chat = cap('openai/chat-completions', ['POST'], ['/v1/chat/completions']);
const responses = cap('openai/responses', ['GET', 'POST'], ['/v1/responses']);
const embeddings = cap('openai/embeddings', ['POST'], ['/v1/embeddings']);
const models = cap('openai/models', ['GET'], ['/v1/models']);
const gemModels = cap('gemini/models', ['GET'], ['/v1beta/models']);
const gemGen = cap('gemini/generate-content', ['POST'], ['/v1beta/models']);
const broad = cap('custom/broad', ['GET', 'POST', 'DELETE'], ['/v1']);
const narrowGet = cap('custom/narrow-get', ['GET'], ['/v1/chat/completions/special']);
const root = cap('custom/root', ['GET'], ['/']);
const multi = cap('custom/multi', ['PUT'], ['/a', '/b/c/']);
const star = cap('custom/star', ['*'], ['/star']);

const OPENAI = [chat, responses, embeddings, models];

type Want = string | 'capability_not_granted' | 'method_not_allowed';
// [method, normalised path, granted, expected capability id or error code]
const INFER: Array<[string, string, Capability[], Want]> = [
  ['POST', '/v1/chat/completions', OPENAI, 'openai/chat-completions'],
  ['post', '/v1/chat/completions', OPENAI, 'openai/chat-completions'],
  ['Post', '/v1/chat/completions', OPENAI, 'openai/chat-completions'],
  ['POST', '/v1/chat/completions/', OPENAI, 'openai/chat-completions'],
  ['POST', '/v1/chat/completions/abc', OPENAI, 'openai/chat-completions'],
  ['GET', '/v1/chat/completions', OPENAI, 'method_not_allowed'],
  ['DELETE', '/v1/chat/completions/abc', OPENAI, 'method_not_allowed'],
  ['POST', '/v1/chat/completionsX', OPENAI, 'capability_not_granted'],
  ['POST', '/v1/chat', OPENAI, 'capability_not_granted'],
  ['POST', '/v1', OPENAI, 'capability_not_granted'],
  ['POST', '/', OPENAI, 'capability_not_granted'],
  ['GET', '/v1/responses', OPENAI, 'openai/responses'],
  ['POST', '/v1/responses', OPENAI, 'openai/responses'],
  ['GET', '/v1/responses/resp_123', OPENAI, 'openai/responses'],
  ['DELETE', '/v1/responses/resp_123', OPENAI, 'method_not_allowed'],
  ['POST', '/v1/embeddings', OPENAI, 'openai/embeddings'],
  ['GET', '/v1/embeddings', OPENAI, 'method_not_allowed'],
  ['GET', '/v1/models', OPENAI, 'openai/models'],
  ['GET', '/v1/models/gpt-4o', OPENAI, 'openai/models'],
  ['POST', '/v1/models', OPENAI, 'method_not_allowed'],
  ['GET', '/v1/files', OPENAI, 'capability_not_granted'],
  ['POST', '/v1/chat/completions', [models], 'capability_not_granted'],
  ['POST', '/v1/chat/completions', [], 'capability_not_granted'],
  // same prefix, different methods: method selects the capability
  ['GET', '/v1beta/models', [gemModels, gemGen], 'gemini/models'],
  ['POST', '/v1beta/models/gemini-pro:generateContent', [gemModels, gemGen], 'gemini/generate-content'],
  ['POST', '/v1beta/models/gemini-pro:generateContent', [gemModels], 'method_not_allowed'],
  ['DELETE', '/v1beta/models', [gemModels, gemGen], 'method_not_allowed'],
  // most specific prefix wins among those allowing the method
  ['POST', '/v1/chat/completions', [broad, chat], 'openai/chat-completions'],
  ['POST', '/v1/chat/completions', [chat, broad], 'openai/chat-completions'],
  ['GET', '/v1/chat/completions/special/x', [broad, narrowGet, chat], 'custom/narrow-get'],
  ['POST', '/v1/chat/completions/special/x', [broad, narrowGet, chat], 'openai/chat-completions'],
  ['DELETE', '/v1/chat/completions/special/x', [broad, narrowGet, chat], 'custom/broad'],
  ['PATCH', '/v1/chat/completions/special/x', [broad, narrowGet, chat], 'method_not_allowed'],
  ['GET', '/v1/anything', [broad], 'custom/broad'],
  ['GET', '/v1x', [broad], 'capability_not_granted'],
  ['GET', '/v2', [broad], 'capability_not_granted'],
  ['GET', '/whatever/deep', [root], 'custom/root'],
  ['GET', '/', [root], 'custom/root'],
  ['GET', '/v1/models', [root, models], 'openai/models'],
  ['POST', '/v1/models', [root, models], 'method_not_allowed'],
  // multiple prefixes on one capability, trailing slash in a prefix
  ['PUT', '/a', [multi], 'custom/multi'],
  ['PUT', '/a/x', [multi], 'custom/multi'],
  ['PUT', '/b/c', [multi], 'custom/multi'],
  ['PUT', '/b/c/d', [multi], 'custom/multi'],
  ['PUT', '/b/cd', [multi], 'capability_not_granted'],
  ['PUT', '/b', [multi], 'capability_not_granted'],
  ['PUT', '/ab', [multi], 'capability_not_granted'],
  // '*' is not a wildcard method
  ['GET', '/star', [star], 'method_not_allowed'],
  ['*', '/star', [star], 'method_not_allowed'],
  // malformed methods never match
  ['', '/v1/models', OPENAI, 'method_not_allowed'],
  ['GET ', '/v1/models', OPENAI, 'method_not_allowed'],
  ['G\r\nET', '/v1/models', OPENAI, 'method_not_allowed'],
  ['GET\u0000', '/v1/models', OPENAI, 'method_not_allowed'],
  // non-normalised paths never match a prefix
  ['POST', '/v1/chat/../chat/completions', OPENAI, 'capability_not_granted'],
  ['POST', '/v1//chat/completions', OPENAI, 'capability_not_granted'],
  ['POST', '/v1/%63hat/completions', OPENAI, 'capability_not_granted'],
  ['POST', '/v1/chat/completions?x=1', OPENAI, 'capability_not_granted'],
  ['POST', 'v1/chat/completions', OPENAI, 'capability_not_granted'],
];

for (const [method, path, granted, want] of INFER) {
  test(`inferCapability(${JSON.stringify(method)}, ${path}, [${granted.map((c) => c.id).join(',')}]) → ${want}`, () => {
    const r = inferCapability(method, path, granted);
    if (want === 'capability_not_granted' || want === 'method_not_allowed') assert.deepEqual(r, { ok: false, code: want });
    else {
      assert.equal(r.ok, true, JSON.stringify(r));
      if (r.ok) {
        assert.equal(r.capability.id, want);
        assert.ok(r.capability.pathPrefixes.includes(r.prefix));
      }
    }
  });
}

test('ties between equally specific prefixes go to the earlier granted capability', () => {
  const a = cap('x/a', ['GET'], ['/p']);
  const b = cap('x/b', ['GET'], ['/p/']);
  const r1 = inferCapability('GET', '/p/q', [a, b]);
  const r2 = inferCapability('GET', '/p/q', [b, a]);
  assert.ok(r1.ok && r1.capability.id === 'x/a');
  assert.ok(r2.ok && r2.capability.id === 'x/b');
});

// [method, path, capability, expected]
const CHECK: Array<[string, string, Capability, 'ok' | 'method_not_allowed' | 'path_not_allowed']> = [
  ['POST', '/v1/chat/completions', chat, 'ok'],
  ['post', '/v1/chat/completions', chat, 'ok'],
  ['POST', '/v1/chat/completions/x', chat, 'ok'],
  ['POST', '/v1/chat/completionsX', chat, 'path_not_allowed'],
  ['POST', '/v1/models', chat, 'path_not_allowed'],
  ['GET', '/v1/chat/completions', chat, 'method_not_allowed'],
  ['GET', '/v1/models', chat, 'method_not_allowed'], // method is checked before path
  ['GET', '/v1/models', models, 'ok'],
  ['GET', '/v1/models/x', models, 'ok'],
  ['HEAD', '/v1/models', models, 'method_not_allowed'],
  ['OPTIONS', '/v1/models', models, 'method_not_allowed'],
  ['GET', '/v1/modelsX', models, 'path_not_allowed'],
  ['GET', '/v1/responses', responses, 'ok'],
  ['POST', '/v1/responses', responses, 'ok'],
  ['PUT', '/v1/responses', responses, 'method_not_allowed'],
  ['GET', '/anything', root, 'ok'],
  ['PUT', '/b/c/d', multi, 'ok'],
  ['PUT', '/b', multi, 'path_not_allowed'],
  ['GET', '/star', star, 'method_not_allowed'],
  ['POST', '/v1/chat/%2e%2e/models', chat, 'path_not_allowed'],
  ['POST', '/v1/chat/completions/../../models', chat, 'path_not_allowed'],
];
for (const [m, p, c, want] of CHECK) {
  test(`checkCapability(${m}, ${p}, ${c.id}) → ${want}`, () => {
    const r = checkCapability(m, p, c);
    assert.deepEqual(r, want === 'ok' ? { ok: true } : { ok: false, code: want });
  });
}

test('methodAllowed is case-insensitive on both sides', () => {
  assert.equal(methodAllowed('get', { methods: ['GET'] }), true);
  assert.equal(methodAllowed('GET', { methods: ['get'] }), true);
  assert.equal(methodAllowed('GET', { methods: [] }), false);
});

test('property: an inferred capability always allows the method and has a matching prefix of maximal length', () => {
  const segs = fc.constantFrom('v1', 'chat', 'completions', 'models', 'x');
  const prefix = fc.array(segs, { maxLength: 3 }).map((s) => '/' + s.join('/'));
  const methods = fc.subarray(['GET', 'POST', 'PUT', 'DELETE'], { minLength: 1 });
  const capArb = fc.record({ methods, prefixes: fc.array(prefix, { minLength: 1, maxLength: 3 }) });
  let accepted = 0;
  fc.assert(
    fc.property(fc.array(capArb, { maxLength: 5 }), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), fc.array(segs, { maxLength: 5 }), (caps, method, p) => {
      const granted = caps.map((c, i) => cap(`t/c${i}`, c.methods, c.prefixes));
      const path = normalizePath('/' + p.join('/'));
      assert.ok(path.ok);
      if (!path.ok) return;
      const r = inferCapability(method, path.path, granted);
      const pathMatches = granted.filter((g) => g.pathPrefixes.some((pre) => checkCapability('GET', path.path, { ...g, methods: ['GET'] }).ok && pre));
      if (r.ok) {
        accepted++;
        assert.ok(checkCapability(method, path.path, r.capability).ok);
        const len = (s: string): number => (s.length > 1 && s.endsWith('/') ? s.length - 1 : s.length);
        for (const g of granted) {
          if (!checkCapability(method, path.path, g).ok) continue;
          for (const pre of g.pathPrefixes) {
            if (checkCapability(method, path.path, { ...g, pathPrefixes: [pre] }).ok) assert.ok(len(pre) <= len(r.prefix));
          }
        }
      } else if (r.code === 'method_not_allowed') {
        assert.ok(pathMatches.length > 0);
        assert.ok(granted.every((g) => !checkCapability(method, path.path, g).ok));
      } else {
        assert.equal(pathMatches.length, 0);
      }
    }),
    { numRuns: 2000 },
  );
  assert.ok(accepted >= 400, `only ${accepted} of 2000 requests found a capability`);
});
