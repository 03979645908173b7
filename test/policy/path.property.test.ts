import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalizePath, prefixMatches, encodePathSegment } from '../../src/policy/path.js';

const RUNS = 3000;

// Characters biased towards the dangerous ones.
const pathChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'v', '1', '-', '_', '~', ':', '@', '+', ';', '=') },
  { weight: 4, arbitrary: fc.constantFrom('.', '/', '%', '\\', '?', '#', ' ', '\u0000', '\n') },
  {
    weight: 4,
    arbitrary: fc.constantFrom('%2e', '%2E', '%2f', '%2F', '%5c', '%5C', '%25', '%00', '%20', '%41', '%7e', '%3b', '%e2%88%95', '%EF%BC%8E', '%E2%80%A4', '%C0%AE', '%zz'),
  },
  { weight: 1, arbitrary: fc.constantFrom('\u2215', '\uFF0E', '\u2024', 'é') },
  { weight: 2, arbitrary: fc.string({ maxLength: 3 }) },
);
const rawTarget = fc.array(pathChar, { maxLength: 24 }).map((a) => '/' + a.join(''));

/** Every segment, fully percent-decoded as bytes → latin1 text (no UTF-8 decoding needed for ASCII checks). */
function decodedSegments(path: string): string[] {
  return path.split('/').map((s) => s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
}

test('normalisation is idempotent', () => {
  let accepted = 0;
  fc.assert(
    fc.property(rawTarget, (raw) => {
      const r = normalizePath(raw);
      if (!r.ok) return;
      accepted++;
      const again = normalizePath(r.path);
      assert.ok(again.ok);
      if (again.ok) assert.equal(again.path, r.path);
      const withQuery = normalizePath(r.path + (r.query ? '?' + r.query : ''));
      assert.deepEqual(withQuery, r.query ? r : { ok: true, path: r.path, query: '' });
    }),
    { numRuns: RUNS },
  );
  assert.ok(accepted >= 300, `only ${accepted} of ${RUNS} generated inputs were accepted`);
});

test('accepted paths carry no dot segment, backslash, NUL, %25, empty segment or raw non-ASCII', () => {
  let accepted = 0;
  fc.assert(
    fc.property(rawTarget, (raw) => {
      const r = normalizePath(raw);
      if (!r.ok) return;
      accepted++;
      assert.ok(r.path.startsWith('/'));
      assert.ok(!/[\\\u0000 #?]/.test(r.path), r.path);
      assert.ok(!/[^\x21-\x7e]/.test(r.path), r.path);
      assert.ok(!/%25|%2f|%5c|%00/i.test(r.path), r.path);
      assert.ok(!/%[0-9A-F]?[a-f]/.test(r.path), 'hex must be uppercase: ' + r.path);
      const segs = decodedSegments(r.path).slice(1);
      segs.forEach((s, i) => {
        if (s === '') assert.equal(i, segs.length - 1, 'only a trailing empty segment: ' + r.path);
        assert.notEqual(s, '.');
        assert.notEqual(s, '..');
        const core = s.split(';')[0]!;
        assert.ok(!(core.includes('.') && /^[.\s]+$/.test(core)), 'dot-only segment: ' + r.path);
        assert.ok(!s.includes('/') && !s.includes('\\') && !s.includes('\u0000'));
      });
    }),
    { numRuns: RUNS },
  );
  assert.ok(accepted >= 300, `only ${accepted} of ${RUNS} generated inputs were accepted`);
});

test('a normalised path matched by prefixMatches starts with the prefix at a segment boundary', () => {
  const seg = fc.constantFrom('v1', 'chat', 'completions', 'completionsX', 'models', 'a', 'a%20b', '~x', 'v1beta');
  const prefixArb = fc.tuple(fc.array(seg, { minLength: 0, maxLength: 3 }), fc.boolean()).map(([s, slash]) => '/' + s.join('/') + (slash && s.length ? '/' : ''));
  let accepted = 0;
  fc.assert(
    fc.property(rawTarget, prefixArb, fc.array(seg, { maxLength: 4 }), (raw, pre, tail) => {
      for (const candidate of [raw, pre.replace(/\/$/, '') + '/' + tail.join('/'), pre.replace(/\/$/, '') + tail.join('')]) {
        const r = normalizePath(candidate);
        if (!r.ok) continue;
        if (!prefixMatches(r.path, pre)) continue;
        const base = pre.length > 1 && pre.endsWith('/') ? pre.slice(0, -1) : pre;
        if (base === '/') continue;
        accepted++;
        assert.ok(r.path === base || r.path.startsWith(base + '/'), `${r.path} vs ${pre}`);
      }
    }),
    { numRuns: RUNS },
  );
  assert.ok(accepted >= 1_000, `only ${accepted} of ${RUNS} generated inputs were accepted`);
});

test('prefix matching agrees with a segment-list model', () => {
  const seg = fc.constantFrom('v1', 'chat', 'c', 'cX', 'x');
  fc.assert(
    fc.property(fc.array(seg, { maxLength: 5 }), fc.array(seg, { maxLength: 4 }), fc.boolean(), (ps, qs, trailing) => {
      const path = '/' + ps.join('/') + (trailing && ps.length ? '/' : '');
      const pre = '/' + qs.join('/');
      const model = qs.length <= ps.length && qs.every((s, i) => ps[i] === s);
      assert.equal(prefixMatches(path, pre), model, `${path} ${pre}`);
    }),
    { numRuns: RUNS },
  );
});

test('an encoded arbitrary string is one opaque segment that survives normalisation unchanged', () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), (s) => {
      const seg = encodePathSegment(s);
      const r = normalizePath('/x/' + seg + '/y');
      if (!r.ok) {
        // only dot-only or look-alike values may be refused (path_traversal)
        // control characters are invalid_request even when encoded
        if (/[\u0000-\u001f\u007f]/.test(s)) assert.equal(r.code, r.code === 'invalid_request' ? 'invalid_request' : 'path_traversal');
        else assert.equal(r.code, 'path_traversal', s);
        return;
      }
      assert.equal(r.path.split('/').length, 4);
      accepted++;
    }),
    { numRuns: RUNS },
  );
  assert.ok(accepted >= 2_000, `only ${accepted} of ${RUNS} generated inputs were accepted`);
});

test('normalizePath never throws and every accepted path matches itself and the root prefix', () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 }).map((s) => '/' + s), rawTarget), (raw) => {
      const r = normalizePath(raw);
      if (!r.ok) {
        assert.ok(r.code === 'path_traversal' || r.code === 'invalid_request');
        return;
      }
      assert.equal(prefixMatches(r.path, r.path), true, r.path);
      assert.equal(prefixMatches(r.path, '/'), true, r.path);
      accepted++;
    }),
    { numRuns: RUNS },
  );
  assert.ok(accepted >= 400, `only ${accepted} of ${RUNS} generated inputs were accepted`);
});
