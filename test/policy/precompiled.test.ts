// Issue 12: the broker's precomputed forms answer exactly what the per-request functions answer.
// - normalizePath (with its plain-path shortcut) vs normalizePathFull (every rule, every segment)
// - compileCapabilities(caps).infer / .covers / .allows vs inferCapability / matchingPrefix / methodAllowed
// - withApiRootCompiled vs withApiRoot
// Tables of hand-picked cases plus generated ones (fast-check) over the shipped registry's capabilities.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Capability } from '../../src/registry/types.js';
import { normalizePath, normalizePathFull, prefixMatches, isNormalPath, prefixBase, underBase } from '../../src/policy/path.js';
import { compileCapabilities, inferCapability, matchingPrefix, methodAllowed, withApiRoot, withApiRootCompiled } from '../../src/policy/capability.js';
import { loadRegistry } from '../../src/registry/load.js';

const PATHS = [
  '/', '//', '/a', '/a/', '/a//', '//a', '/a//b', '/.', '/..', '/...', '/./a', '/a/..', '/a/../b', '/a/.', '/a/./',
  '/..;', '/..;x', '/.;x/a', '/;', '/;x', '/a;b', '/a;..', '/..a', '/a..', '/.a', '/a.b', '/v1/chat/completions',
  '/v1/chat/completions/', '/v1/chat/completionsX', '/v1/chat/completions?x=1', '/v1/chat/completions?', '/?', '/?a#b',
  '/v1/%63hat', '/%2e%2e', '/%2E', '/.%2e', '/%2f', '/%5c', '/\\', '/%00', '/%25', '/%41', '/%7e', '/~', '/%zz', '/%',
  '/a%', '/a b', '/a#b', '/é', '/%e2%88%95', '/%EF%BC%8E%EF%BC%8E', '/%C0%AE', '/a[b]', '/a|b', '/a^b', '/{x}', '/"',
  '/a:b@c', "/!$&'()*+,;=", '/a\u0000', '/a\n', '/\u2215', '/\uFF0E\uFF0E', '/bot123:ABC/sendMessage', '/v1beta/models/gemini:generateContent',
  '/v1/models?key=abc;x=%20', '/v1?%zz', '/v1?a b', '/v1?\u00e9', '', 'v1', '?a', '/' + 'a'.repeat(20000),
];

const pathChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'v', '1', '-', '_', '~', ':', '@', '+', ';', '=', '!', '$', '*', ',', "'", '(', ')') },
  { weight: 5, arbitrary: fc.constantFrom('.', '/', '/', '%', '\\', '?', '#', ' ', '\u0000', '\t', '[', '|', '"', '^') },
  { weight: 3, arbitrary: fc.constantFrom('%2e', '%2E', '%2f', '%5c', '%25', '%00', '%41', '%7e', '%3b', '%e2%88%95', '%EF%BC%8E', '%zz', '..', '...', '.;') },
  { weight: 1, arbitrary: fc.constantFrom('\u2215', '\uFF0E', '\u2024', 'é') },
  { weight: 1, arbitrary: fc.string({ maxLength: 3 }) },
);
const target = fc.array(pathChar, { maxLength: 24 }).map((a) => '/' + a.join(''));

test('normalizePath (plain-path shortcut) answers exactly what the full rules answer: table', () => {
  for (const p of PATHS) assert.deepEqual(normalizePath(p), normalizePathFull(p), JSON.stringify(p));
});

test('normalizePath (plain-path shortcut) answers exactly what the full rules answer: generated', () => {
  fc.assert(
    fc.property(target, (p) => {
      assert.deepEqual(normalizePath(p), normalizePathFull(p));
    }),
    { numRuns: 20_000 },
  );
});

test('prefixMatches is isNormalPath + prefixBase + underBase (the compiled form of a prefix)', () => {
  const prefixes = ['/', '/v1', '/v1/', '/v1/chat/completions', '/v1/%63hat', '/a?x', 'v1', '/..', '//', '/v1beta/models', '/bot'];
  for (const p of PATHS)
    for (const pre of prefixes) {
      const base = prefixBase(pre);
      const compiled = isNormalPath(p) && base !== undefined && underBase(p, base);
      assert.equal(compiled, prefixMatches(p, pre), `${JSON.stringify(p)} under ${pre}`);
    }
});

function cap(id: string, methods: string[], pathPrefixes: string[]): Capability {
  return { id, methods, pathPrefixes, hosts: ['api.example.com'], provider: id.split('/')[0]!, custom: false };
}

// hand-made lists: ties, trailing slashes, invalid prefixes and methods, a root prefix
const HAND: Capability[][] = [
  [
    cap('x/chat', ['POST'], ['/v1/chat/completions']),
    cap('x/broad', ['GET', 'post', 'DELETE'], ['/v1', '/v2/']),
    cap('x/narrow', ['GET'], ['/v1/chat/completions/special']),
    cap('x/tie', ['POST'], ['/v1/chat/completions/']),
  ],
  [cap('y/root', ['GET'], ['/']), cap('y/star', ['*'], ['/star']), cap('y/bad', ['G ET', 'PUT'], ['/a?x', '..', '/ok', '/%2e%2e'])],
  [cap('z/multi', ['PUT', 'patch'], ['/a', '/b/c/', '/b']), cap('z/empty', [], ['/a'])],
  [],
];
const METHODS = ['GET', 'get', 'Post', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', '*', 'G ET', '', 'TRACE', 'X-CUSTOM'];

function checkList(caps: Capability[], paths: string[]): void {
  const m = compileCapabilities(caps);
  for (const p of paths) {
    const n = normalizePath(p);
    // the pipeline infers on normalised paths; raw ones must answer the same too
    for (const path of n.ok ? [p, n.path] : [p]) {
      for (const method of METHODS) {
        const want = inferCapability(method, path, caps);
        const got = m.infer(method, path);
        assert.deepEqual(
          got.ok ? { id: got.capability.id, prefix: got.prefix } : got,
          want.ok ? { id: want.capability.id, prefix: want.prefix } : want,
          `${method} ${JSON.stringify(path)} over ${caps.map((c) => c.id).join(',')}`,
        );
      }
      assert.equal(m.covers(path), caps.some((c) => matchingPrefix(path, c) !== undefined), `covers ${JSON.stringify(path)}`);
    }
  }
  caps.forEach((c, i) => {
    for (const method of METHODS) assert.equal(m.allows(i, method), methodAllowed(method, c), `${c.id} allows ${method}`);
  });
}

test('compileCapabilities answers what inferCapability / matchingPrefix / methodAllowed answer: hand-made lists', () => {
  for (const caps of HAND) checkList(caps, PATHS);
});

test('compileCapabilities answers the same for every shipped provider, on its own prefixes and variations of them', () => {
  const reg = loadRegistry();
  const byProvider = new Map<string, Capability[]>();
  for (const c of reg.capabilities) byProvider.set(c.provider, [...(byProvider.get(c.provider) ?? []), c]);
  for (const [provider, caps] of byProvider) {
    const paths = new Set<string>(['/', '/x']);
    for (const c of caps)
      for (const pre of c.pathPrefixes) for (const suffix of ['', '/', '/x', 'X', '/../x', '/%2e%2e', '//', '?q=1', ';v', '/a/b']) paths.add(pre + suffix);
    checkList(caps, [...paths]);
    // a token granting a subset, in another order
    checkList([...caps].reverse().filter((_, i) => i % 2 === 0), [...paths]);
    const root = reg.provider(provider)?.apiRoot;
    if (root !== undefined) {
      const m = compileCapabilities(caps);
      for (const p of paths) {
        const n = normalizePath(p);
        if (n.ok) assert.equal(withApiRootCompiled(n.path, root, m), withApiRoot(n.path, root, caps), `${provider} apiRoot ${p}`);
      }
    }
  }
});

test('compileCapabilities answers the same on generated paths and capability lists', () => {
  const prefix = fc.constantFrom('/', '/v1', '/v1/', '/v1/chat', '/v1/chat/completions', '/a', '/a/b', '/b/', '/v1beta/models', '/bad?x', '..');
  const method = fc.constantFrom(...METHODS);
  const capArb = fc.record({ methods: fc.array(method, { maxLength: 3 }), pathPrefixes: fc.array(prefix, { minLength: 1, maxLength: 3 }) });
  const pathArb = fc.oneof(target, fc.tuple(prefix, fc.constantFrom('', '/', '/x', 'X', '/chat', '/completions')).map(([a, b]) => a + b));
  fc.assert(
    fc.property(fc.array(capArb, { maxLength: 5 }), pathArb, method, (defs, path, m) => {
      const caps = defs.map((d, i) => cap(`g/c${i}`, d.methods, d.pathPrefixes));
      const c = compileCapabilities(caps);
      const want = inferCapability(m, path, caps);
      const got = c.infer(m, path);
      assert.deepEqual(got.ok ? [got.capability.id, got.prefix] : got, want.ok ? [want.capability.id, want.prefix] : want);
      assert.equal(c.covers(path), caps.some((k) => matchingPrefix(path, k) !== undefined));
    }),
    { numRuns: 5_000 },
  );
});
