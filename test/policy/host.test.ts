import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalizeHost, normalizeHostPattern, hostMatches, effectiveHosts, pinnedHostAllowed } from '../../src/policy/host.js';

const NORMALIZE: Array<[string, string | undefined]> = [
  ['api.openai.com', 'api.openai.com'],
  ['API.OpenAI.com', 'api.openai.com'],
  ['generativelanguage.googleapis.com', 'generativelanguage.googleapis.com'],
  ['a-b.example.com', 'a-b.example.com'],
  ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
  ['a1.b2.c3', 'a1.b2.c3'],
  ['localhost.example', 'localhost.example'],
  // trailing dots refused (not stripped)
  ['api.openai.com.', undefined],
  ['api.openai.com..', undefined],
  ['.api.openai.com', undefined],
  ['api..openai.com', undefined],
  ['', undefined],
  ['.', undefined],
  // single label
  ['localhost', undefined],
  ['com', undefined],
  // ports, userinfo, brackets, paths
  ['api.openai.com:443', undefined],
  ['api.openai.com:8443', undefined],
  ['user@api.openai.com', undefined],
  ['user:pw@api.openai.com', undefined],
  ['api.openai.com@evil.example', undefined],
  ['api.openai.com/v1', undefined],
  ['api.openai.com?x', undefined],
  ['api.openai.com#x', undefined],
  ['[::1]', undefined],
  ['::1', undefined],
  ['[fe80::1]', undefined],
  ['https://api.openai.com', undefined],
  // IP literals in every WHATWG-parsable numeric form
  ['127.0.0.1', undefined],
  ['10.0.0.1', undefined],
  ['169.254.169.254', undefined],
  ['2130706433', undefined],
  ['0x7f000001', undefined],
  ['0x7f.1', undefined],
  ['0x7F.0.0.1', undefined],
  ['017700000001', undefined],
  ['0177.0.0.1', undefined],
  ['127.1', undefined],
  ['127.0.1', undefined],
  ['1.2.3.4', undefined],
  ['1.2.3.0x4', undefined],
  ['a.0x', undefined],
  ['foo.123', undefined],
  // label syntax
  ['-a.example.com', undefined],
  ['a-.example.com', undefined],
  ['a_b.example.com', undefined],
  ['a b.example.com', undefined],
  ['a\u0000.example.com', undefined],
  ['a\r\n.example.com', undefined],
  ['*.example.com', undefined],
  ['a.*.example.com', undefined],
  ['a'.repeat(64) + '.example.com', undefined],
  ['a'.repeat(63) + '.example.com', 'a'.repeat(63) + '.example.com'],
  [('a'.repeat(63) + '.').repeat(4) + 'com', undefined],
  // unicode look-alikes / IDN
  ['api\uFF0Eopenai.com', undefined],
  ['api\u3002openai.com', undefined],
  ['api.openai.com\u2024evil.example', undefined],
  ['b\u00fccher.example', undefined],
  ['аpi.openai.com', undefined], // Cyrillic 'а'
];
for (const [h, want] of NORMALIZE) {
  test(`normalizeHost(${JSON.stringify(h.length > 50 ? h.slice(0, 50) + '…' : h)}) → ${want === undefined ? 'refused' : want.slice(0, 40)}`, () => {
    assert.equal(normalizeHost(h), want);
  });
}

const PATTERN: Array<[string, string | undefined]> = [
  ['*.example.com', '*.example.com'],
  ['*.EXAMPLE.com', '*.example.com'],
  ['*.com', undefined],
  ['*', undefined],
  ['*.', undefined],
  ['**.example.com', undefined],
  ['*example.com', undefined],
  ['a*.example.com', undefined],
  ['*.*.example.com', undefined],
  ['*.example.com.', undefined],
  ['api.example.com', 'api.example.com'],
];
for (const [p, want] of PATTERN) {
  test(`normalizeHostPattern(${JSON.stringify(p)}) → ${want ?? 'refused'}`, () => assert.equal(normalizeHostPattern(p), want));
}

// [host, pattern, matches]
const MATCH: Array<[string, string, boolean]> = [
  ['api.openai.com', 'api.openai.com', true],
  ['API.OPENAI.COM', 'api.openai.com', true],
  ['api.openai.com', 'API.openai.COM', true],
  ['api.openai.com.', 'api.openai.com', false],
  ['api.openai.com', 'api.openai.com.', false],
  ['api.openai.com.evil.example', 'api.openai.com', false],
  ['evil.example', 'api.openai.com', false],
  ['xapi.openai.com', 'api.openai.com', false],
  ['api.openai.comx', 'api.openai.com', false],
  ['api.openai.com:443', 'api.openai.com', false],
  ['user@api.openai.com', 'api.openai.com', false],
  // wildcard: exactly one label
  ['a.example.com', '*.example.com', true],
  ['A.Example.COM', '*.example.com', true],
  ['a-b.example.com', '*.example.com', true],
  ['a.b.example.com', '*.example.com', false],
  ['example.com', '*.example.com', false],
  ['.example.com', '*.example.com', false],
  ['evilexample.com', '*.example.com', false],
  ['a.evilexample.com', '*.example.com', false],
  ['example.com.evil.example', '*.example.com', false],
  ['a.example.com.evil.example', '*.example.com', false],
  ['a.example.com.', '*.example.com', false],
  ['a.example.co', '*.example.com', false],
  ['*.example.com', '*.example.com', false],
  ['a.example.com', '*.com', false],
  ['example.com', '*.com', false],
  ['10.0.0.1', '*.0.0.1', false],
  ['2130706433', '2130706433', false],
  ['127.0.0.1', '127.0.0.1', false],
  ['', '', false],
  ['a.example.com', '', false],
];
for (const [h, p, want] of MATCH) {
  test(`hostMatches(${JSON.stringify(h)}, ${JSON.stringify(p)}) = ${want}`, () => assert.equal(hostMatches(h, p), want));
}

// [credential hosts, capability hosts, expected effective hosts]
const EFFECTIVE: Array<[string[], string[], string[]]> = [
  [['api.openai.com'], ['api.openai.com'], ['api.openai.com']],
  [['API.openai.com'], ['api.OPENAI.com'], ['api.openai.com']],
  [['api.openai.com'], ['api.anthropic.com'], []],
  [['api.openai.com'], [], []],
  [[], ['api.openai.com'], []],
  [['*.example.com'], ['a.example.com'], ['a.example.com']],
  [['*.example.com'], ['a.b.example.com'], []],
  [['*.example.com'], ['example.com'], []],
  [['*.example.com'], ['*.example.com'], ['*.example.com']],
  [['a.example.com'], ['*.example.com'], ['a.example.com']],
  [['a.example.com', 'b.example.com', 'c.other.com'], ['*.example.com'], ['a.example.com', 'b.example.com']],
  [['a.example.com'], ['*.other.com'], []],
  [['*.a.example.com'], ['*.example.com'], []],
  [['*.example.com'], ['*.a.example.com'], []],
  [['api.openai.com', 'api.anthropic.com'], ['api.anthropic.com', 'api.openai.com', 'evil.example'], ['api.anthropic.com', 'api.openai.com']],
  [['api.openai.com'], ['api.openai.com', 'API.OPENAI.COM'], ['api.openai.com']],
  [['api.openai.com.'], ['api.openai.com'], []],
  [['api.openai.com'], ['api.openai.com.'], []],
  [['api.openai.com:443'], ['api.openai.com'], []],
  [['*.com'], ['openai.com'], []],
  [['127.0.0.1'], ['127.0.0.1'], []],
  [['api.openai.com'], ['api.openai.com.evil.example'], []],
];
for (const [cred, capH, want] of EFFECTIVE) {
  test(`effectiveHosts(${JSON.stringify(cred)}, ${JSON.stringify(capH)})`, () => assert.deepEqual(effectiveHosts(cred, capH), want));
}

const PINNED: Array<[string, string[], boolean]> = [
  ['api.openai.com', ['api.openai.com'], true],
  ['api.openai.com', ['api.anthropic.com'], false],
  ['api.openai.com', [], false],
  ['a.example.com', ['*.example.com'], true],
  ['example.com', ['*.example.com'], false],
  ['api.openai.com.', ['api.openai.com'], false],
  ['api.openai.com.evil.example', ['api.openai.com'], false],
  ['evil.example', ['api.openai.com', 'api.anthropic.com'], false],
  ['api.anthropic.com', ['api.openai.com', 'api.anthropic.com'], true],
];
for (const [h, pins, want] of PINNED) {
  test(`pinnedHostAllowed(${h}, ${JSON.stringify(pins)}) = ${want}`, () => assert.equal(pinnedHostAllowed(h, pins), want));
}

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const hostArb = fc.array(label, { minLength: 2, maxLength: 5 }).map((l) => l.join('.')).filter((h) => normalizeHost(h) !== undefined);

test('property: every effective host is matched by some credential pattern and equals/matches some capability host', () => {
  const pat = fc.oneof(hostArb, hostArb.map((h) => '*.' + h));
  fc.assert(
    fc.property(fc.array(pat, { maxLength: 4 }), fc.array(pat, { maxLength: 4 }), (cred, capH) => {
      for (const e of effectiveHosts(cred, capH)) {
        if (e.startsWith('*.')) {
          assert.ok(cred.map(normalizeHostPattern).includes(e));
          assert.ok(capH.map(normalizeHostPattern).includes(e));
        } else {
          assert.ok(cred.some((c) => hostMatches(e, c)));
          assert.ok(capH.some((c) => hostMatches(e, c)));
        }
      }
    }),
    { numRuns: 1500 },
  );
});

test('property: a wildcard never matches its apex, a deeper name, or a suffix-glued name', () => {
  fc.assert(
    fc.property(hostArb, label, label, (base, a, b) => {
      assert.equal(hostMatches(base, '*.' + base), false);
      assert.equal(hostMatches(`${a}.${b}.${base}`, '*.' + base), false);
      assert.equal(hostMatches(`${a}${base}`, '*.' + base), false);
      assert.equal(hostMatches(`${a}.${base}.${b}.example`, '*.' + base), false);
      assert.equal(hostMatches(`${a}.${base}`, '*.' + base), normalizeHost(`${a}.${base}`) !== undefined);
    }),
    { numRuns: 1500 },
  );
});

test('property: a trailing dot never matches and an exact host always matches itself', () => {
  fc.assert(
    fc.property(hostArb, (h) => {
      assert.equal(hostMatches(h, h), true);
      assert.equal(hostMatches(h + '.', h), false);
      assert.equal(hostMatches(h.toUpperCase(), h), true);
      assert.equal(hostMatches(h + ':443', h), false);
    }),
    { numRuns: 1500 },
  );
});

test('property: numeric hosts (decimal, hex, octal, dotted) are always refused', () => {
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 4 }), (n, parts) => {
      assert.equal(normalizeHost(String(n)), undefined);
      assert.equal(normalizeHost('0x' + n.toString(16)), undefined);
      assert.equal(normalizeHost('0' + n.toString(8)), undefined);
      assert.equal(normalizeHost(parts.join('.')), undefined);
      assert.equal(normalizeHost(parts.map((p) => '0x' + p.toString(16)).join('.')), undefined);
    }),
    { numRuns: 1500 },
  );
});
