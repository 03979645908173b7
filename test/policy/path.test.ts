import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizePath, prefixMatches, encodePathSegment } from '../../src/policy/path.js';

type Expect = { path: string; query?: string } | 'path_traversal' | 'invalid_request';

// [raw request target, expected]. Accepted targets give the normalised path (and query).
const CASES: Array<[string, Expect]> = [
  // ordinary
  ['/', { path: '/' }],
  ['/v1/chat/completions', { path: '/v1/chat/completions' }],
  ['/v1/chat/completions?x=1', { path: '/v1/chat/completions', query: 'x=1' }],
  ['/v1/models/', { path: '/v1/models/' }],
  ['/v1/models/gpt-4o', { path: '/v1/models/gpt-4o' }],
  ['/v1beta/models/gemini-1.5-pro:generateContent', { path: '/v1beta/models/gemini-1.5-pro:generateContent' }],
  ['/repos/octo/hello-world/issues', { path: '/repos/octo/hello-world/issues' }],
  ['/v1/files/file-abc123/content', { path: '/v1/files/file-abc123/content' }],
  ['/sendMessage', { path: '/sendMessage' }],
  ['/a/b.json', { path: '/a/b.json' }],
  ['/a/.well-known', { path: '/a/.well-known' }],
  ['/a/..b', { path: '/a/..b' }],
  ['/a/b..', { path: '/a/b..' }],
  ['/a/.b.', { path: '/a/.b.' }],
  ['/a/~user', { path: '/a/~user' }],
  ['/a/@me', { path: '/a/@me' }],
  ["/a/!$&'()*+,;=:@", { path: "/a/!$&'()*+,;=:@" }],
  ['/a?', { path: '/a', query: '' }],
  ['/a?b?c', { path: '/a', query: 'b?c' }],
  ['/a?x=../../etc', { path: '/a', query: 'x=../../etc' }],
  ['/a?x=%2f%2e%2e', { path: '/a', query: 'x=%2f%2e%2e' }],
  ['/a?x=%25', { path: '/a', query: 'x=%25' }],
  ['/a?x=a\\b', { path: '/a', query: 'x=a\\b' }],
  ['/a?filter[name]=x|y', { path: '/a', query: 'filter[name]=x|y' }],
  ['/a?x=%00', { path: '/a', query: 'x=%00' }],
  // unreserved percent-encodings are decoded; others kept, hex upper-cased
  ['/%7euser', { path: '/~user' }],
  ['/%7Euser', { path: '/~user' }],
  ['/v1/%63hat/completions', { path: '/v1/chat/completions' }],
  ['/%41%42%43', { path: '/ABC' }],
  ['/a%2db', { path: '/a-b' }],
  ['/a%5fb', { path: '/a_b' }],
  ['/a%2eb', { path: '/a.b' }],
  ['/a%20b', { path: '/a%20b' }],
  ['/a%3ab', { path: '/a%3Ab' }],
  ['/a%3Ab', { path: '/a%3Ab' }],
  ['/a%40b', { path: '/a%40b' }],
  ['/a%2bb', { path: '/a%2Bb' }],
  ['/a%3fb', { path: '/a%3Fb' }],
  ['/a%23b', { path: '/a%23b' }],
  ['/a%c3%a9', { path: '/a%C3%A9' }],
  ['/caf%C3%A9', { path: '/caf%C3%A9' }],
  ['/%E6%97%A5%E6%9C%AC', { path: '/%E6%97%A5%E6%9C%AC' }],
  // raw printable ASCII outside pchar is encoded
  ['/a[b]', { path: '/a%5Bb%5D' }],
  ['/a|b', { path: '/a%7Cb' }],
  ['/a^b', { path: '/a%5Eb' }],
  ['/a{b}', { path: '/a%7Bb%7D' }],
  ['/a"b', { path: '/a%22b' }],
  ['/a<b>', { path: '/a%3Cb%3E' }],
  ['/a`b', { path: '/a%60b' }],
  // dot segments, raw and encoded in every case mix
  ['/v1/chat/../models', 'path_traversal'],
  ['/v1/chat/./completions', 'path_traversal'],
  ['/..', 'path_traversal'],
  ['/.', 'path_traversal'],
  ['/../', 'path_traversal'],
  ['/./', 'path_traversal'],
  ['/v1/..', 'path_traversal'],
  ['/v1/../', 'path_traversal'],
  ['/v1/.', 'path_traversal'],
  ['/%2e%2e', 'path_traversal'],
  ['/%2E%2E', 'path_traversal'],
  ['/%2E%2e', 'path_traversal'],
  ['/%2e%2E', 'path_traversal'],
  ['/.%2e', 'path_traversal'],
  ['/%2e.', 'path_traversal'],
  ['/%2e', 'path_traversal'],
  ['/%2E', 'path_traversal'],
  ['/v1/%2e%2e/admin', 'path_traversal'],
  ['/v1/chat/%2e%2e/%2e%2e/x', 'path_traversal'],
  ['/...', 'path_traversal'],
  ['/v1/..../x', 'path_traversal'],
  ['/v1/..;/admin', 'path_traversal'],
  ['/v1/..;jsessionid=1/admin', 'path_traversal'],
  ['/v1/.;x/admin', 'path_traversal'],
  ['/v1/%2e%2e;/admin', 'path_traversal'],
  ['/v1/..%3b/admin', 'path_traversal'],
  ['/v1/..%20/admin', 'path_traversal'],
  ['/v1/%20../admin', 'path_traversal'],
  ['/v1/..%09/admin', 'invalid_request'],
  // double encoding
  ['/%252e%252e', 'path_traversal'],
  ['/%252E%252E/x', 'path_traversal'],
  ['/v1/%252f', 'path_traversal'],
  ['/v1/%25', 'path_traversal'],
  ['/v1/a%25b', 'path_traversal'],
  ['/v1/%2525', 'path_traversal'],
  // encoded slash / backslash
  ['/%2f', 'path_traversal'],
  ['/%2F', 'path_traversal'],
  ['/v1%2fchat/completions', 'path_traversal'],
  ['/v1/chat%2F..%2Fmodels', 'path_traversal'],
  ['/%5c', 'path_traversal'],
  ['/%5C', 'path_traversal'],
  ['/v1%5c..%5cadmin', 'path_traversal'],
  ['/\\', 'path_traversal'],
  ['/v1\\..\\admin', 'path_traversal'],
  ['/v1/chat\\completions', 'path_traversal'],
  // NUL
  ['/%00', 'path_traversal'],
  ['/v1/chat%00/completions', 'path_traversal'],
  ['/v1/a\u0000', 'path_traversal'],
  // empty segments
  ['//', 'path_traversal'],
  ['//evil.example/x', 'path_traversal'],
  ['/v1//chat/completions', 'path_traversal'],
  ['/v1/chat/completions//', 'path_traversal'],
  ['///', 'path_traversal'],
  // Unicode look-alikes (raw → invalid_request; percent-encoded → path_traversal)
  ['/v1/chat\u2215..\u2215models', 'invalid_request'],
  ['/v1/\uFF0E\uFF0E/models', 'invalid_request'],
  ['/v1/\u2024\u2024/models', 'invalid_request'],
  ['/v1/\u2025/models', 'invalid_request'],
  ['/v1/\uFF0F', 'invalid_request'],
  ['/v1/%E2%88%95', 'path_traversal'], // U+2215 DIVISION SLASH
  ['/v1/chat%E2%88%95..%E2%88%95models', 'path_traversal'],
  ['/v1/%e2%88%95', 'path_traversal'],
  ['/v1/%EF%BC%8E%EF%BC%8E/models', 'path_traversal'], // U+FF0E fullwidth full stop ×2
  ['/v1/%EF%BC%8E', 'path_traversal'],
  ['/v1/%E2%80%A4%E2%80%A4/models', 'path_traversal'], // U+2024 one dot leader ×2
  ['/v1/%E2%80%A5/models', 'path_traversal'], // U+2025 two dot leader (NFKC '..')
  ['/v1/%E2%80%A6', 'path_traversal'], // U+2026 ellipsis (NFKC '...')
  ['/v1/%EF%BC%8F', 'path_traversal'], // U+FF0F fullwidth solidus
  ['/v1/%EF%BC%BC', 'path_traversal'], // U+FF3C fullwidth reverse solidus
  ['/v1/%E2%81%84', 'path_traversal'], // U+2044 fraction slash
  ['/v1/%EF%B9%A8', 'path_traversal'], // U+FE68 small reverse solidus
  ['/v1/%E3%80%82', 'path_traversal'], // U+3002 ideographic full stop
  ['/v1/%C0%AE%C0%AE/x', 'invalid_request'], // overlong UTF-8 '.'
  ['/v1/%C0%AF', 'invalid_request'], // overlong UTF-8 '/'
  ['/v1/%E0%80%AE', 'invalid_request'],
  ['/v1/%FF', 'invalid_request'],
  ['/v1/%C3', 'invalid_request'],
  ['/v1/%ED%A0%80', 'invalid_request'], // UTF-16 surrogate in UTF-8
  // malformed percent-encoding
  ['/%', 'invalid_request'],
  ['/%2', 'invalid_request'],
  ['/%zz', 'invalid_request'],
  ['/%g0', 'invalid_request'],
  ['/a%', 'invalid_request'],
  ['/a%2?x', 'invalid_request'],
  ['/a?x=%', 'invalid_request'],
  ['/a?x=%4', 'invalid_request'],
  ['/a?x=%zz', 'invalid_request'],
  // control chars, space, '#', non-ASCII
  ['/a b', 'invalid_request'],
  ['/a\tb', 'invalid_request'],
  ['/a\r\nHost: evil', 'invalid_request'],
  ['/a\nb', 'invalid_request'],
  ['/a\u007f', 'invalid_request'],
  ['/a%0d%0aSet-Cookie:x', 'invalid_request'],
  ['/a%0A', 'invalid_request'],
  ['/a%7F', 'invalid_request'],
  ['/a%1b', 'invalid_request'],
  ['/a#frag', 'invalid_request'],
  ['/a?x=1#frag', 'invalid_request'],
  ['/a?x=1 2', 'invalid_request'],
  ['/a?x=\r\n', 'invalid_request'],
  ['/a?x=\u00e9', 'invalid_request'],
  ['/caf\u00e9', 'invalid_request'],
  ['/\u65e5\u672c', 'invalid_request'],
  ['/a\u200b', 'invalid_request'],
  ['/a\uFEFF', 'invalid_request'],
  // not origin-form
  ['', 'invalid_request'],
  ['v1/chat/completions', 'invalid_request'],
  ['*', 'invalid_request'],
  ['http://evil.example/v1/chat/completions', 'invalid_request'],
  ['https://api.openai.com/v1/models', 'invalid_request'],
  ['?x=1', 'invalid_request'],
  ['\\v1', 'invalid_request'],
  [' /v1', 'invalid_request'],
  ['/' + 'a'.repeat(20000), 'invalid_request'],
];

for (const [raw, want] of CASES) {
  test(`normalizePath(${JSON.stringify(raw.length > 60 ? raw.slice(0, 60) + '…' : raw)})`, () => {
    const r = normalizePath(raw);
    if (typeof want === 'string') {
      assert.equal(r.ok, false, `expected ${want}, got ${JSON.stringify(r)}`);
      if (!r.ok) {
        assert.equal(r.code, want);
        assert.ok(r.reason.length > 0);
      }
    } else {
      assert.deepEqual(r, { ok: true, path: want.path, query: want.query ?? '' });
      // idempotent on the table too
      const again = normalizePath(want.path);
      assert.deepEqual(again, { ok: true, path: want.path, query: '' });
    }
  });
}

test('the table covers every case the SPEC and brief list', () => {
  const inputs = CASES.map((c) => c[0]);
  for (const must of ['/v1/chat/../models', '/%2e%2e', '/%2E%2e', '/%252e%252e', '/%2f', '/%5c', '/\\', '/%00', '//'])
    assert.ok(inputs.includes(must), must);
});

// [path, prefix, matches]
const PREFIX: Array<[string, string, boolean]> = [
  ['/v1/chat/completions', '/v1/chat/completions', true],
  ['/v1/chat/completions/', '/v1/chat/completions', true],
  ['/v1/chat/completions/x', '/v1/chat/completions', true],
  ['/v1/chat/completions/x/y', '/v1/chat/completions', true],
  ['/v1/chat/completionsX', '/v1/chat/completions', false],
  ['/v1/chat/completions-x', '/v1/chat/completions', false],
  ['/v1/chat/completion', '/v1/chat/completions', false],
  ['/v1/chat', '/v1/chat/completions', false],
  ['/v1/chat/', '/v1/chat/completions', false],
  ['/v1/models', '/v1/chat/completions', false],
  ['/V1/chat/completions', '/v1/chat/completions', false],
  ['/v1/Chat/completions', '/v1/chat/completions', false],
  ['/v2/chat/completions', '/v1/chat/completions', false],
  ['/x/v1/chat/completions', '/v1/chat/completions', false],
  // trailing slash on the prefix is insignificant
  ['/v1/chat/completions', '/v1/chat/completions/', true],
  ['/v1/chat/completions/x', '/v1/chat/completions/', true],
  ['/v1/chat/completionsX', '/v1/chat/completions/', false],
  ['/v1', '/v1/', true],
  ['/v1x', '/v1/', false],
  // root prefix
  ['/', '/', true],
  ['/anything/at/all', '/', true],
  ['/v1', '/', true],
  // prefix longer than path / equal-ish
  ['/', '/v1', false],
  ['/v', '/v1', false],
  // prefix normalisation: encodings of unreserved are equivalent
  ['/v1/chat/completions', '/v1/%63hat/completions', true],
  ['/a%3Ab/x', '/a%3ab', true],
  // paths not in normal form never match (caller must normalise first)
  ['/v1/chat/../completions', '/v1', false],
  ['/v1//chat', '/v1', false],
  ['/v1/%2e%2e', '/v1', false],
  ['/v1/%63hat', '/v1/chat', false],
  ['/v1/chat?x=1', '/v1/chat', false],
  ['v1/chat', '/', false],
  ['', '/', false],
  // invalid prefixes match nothing
  ['/v1/chat', '', false],
  ['/v1/chat', 'v1', false],
  ['/v1/chat', '/v1/../v1', false],
  ['/v1/chat', '/v1?x', false],
  ['/v1/chat', '/v1//', false],
  // encoded chars are distinct from their raw meaning
  ['/a%20b', '/a', false],
  ['/a%20b/c', '/a%20b', true],
  ['/sendMessage', '/sendMessage', true],
  ['/sendMessageX', '/sendMessage', false],
  ['/repos/a/b', '/repos', true],
  ['/reposX', '/repos', false],
  ['/repository', '/repos', false],
  ['/v1beta/models/gemini:generateContent', '/v1beta/models', true],
  ['/v1beta/models:list', '/v1beta/models', false],
];

for (const [p, pre, want] of PREFIX) {
  test(`prefixMatches(${JSON.stringify(p)}, ${JSON.stringify(pre)}) = ${want}`, () => {
    assert.equal(prefixMatches(p, pre), want);
  });
}

const SEG: Array<[string, string]> = [
  ['abc', 'abc'],
  ['123:ABC-def_g~', '123:ABC-def_g~'],
  ['a/b', 'a%2Fb'],
  ['a\\b', 'a%5Cb'],
  ['a b', 'a%20b'],
  ['a%b', 'a%25b'],
  ['a?b#c', 'a%3Fb%23c'],
  ['é', '%C3%A9'],
  ['..', '..'],
  ['', ''],
];
for (const [v, want] of SEG) {
  test(`encodePathSegment(${JSON.stringify(v)})`, () => {
    assert.equal(encodePathSegment(v), want);
  });
}
