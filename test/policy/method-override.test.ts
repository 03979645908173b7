/**
 * Method override (issue 11 item 1): every header spelling and case, duplicates, comma lists,
 * whitespace, and the `_method` query parameter in every disguise. A capability allowing only
 * POST (and one allowing GET POST) decides.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMethodOverride, isOverrideHeader } from '../../src/policy/method-override.js';
import { methodAllowed } from '../../src/policy/capability.js';

const POST_ONLY = (m: string) => methodAllowed(m, { methods: ['POST'] });
const GET_POST = (m: string) => methodAllowed(m, { methods: ['GET', 'POST'] });

type H = Record<string, string | string[] | undefined>;
// [headers, query, allowed, expected: true = ok, or the refused method (undefined = malformed)]
const CASES: Array<[string, H, string, (m: string) => boolean, true | string | undefined]> = [
  ['no override', { 'content-type': 'application/json' }, '', POST_ONLY, true],
  ['x-http-method-override DELETE', { 'x-http-method-override': 'DELETE' }, '', POST_ONLY, 'DELETE'],
  ['X-HTTP-Method-Override DELETE', { 'X-HTTP-Method-Override': 'DELETE' }, '', POST_ONLY, 'DELETE'],
  ['X-HTTP-METHOD-OVERRIDE delete', { 'X-HTTP-METHOD-OVERRIDE': 'delete' }, '', POST_ONLY, 'DELETE'],
  ['x-Http-Method-OVERRIDE Put', { 'x-Http-Method-OVERRIDE': 'Put' }, '', POST_ONLY, 'PUT'],
  ['x-http-method PATCH', { 'x-http-method': 'PATCH' }, '', POST_ONLY, 'PATCH'],
  ['X-HTTP-Method DELETE', { 'X-HTTP-Method': 'DELETE' }, '', POST_ONLY, 'DELETE'],
  ['x-method-override DELETE', { 'x-method-override': 'DELETE' }, '', POST_ONLY, 'DELETE'],
  ['X-Method-Override get', { 'X-Method-Override': 'get' }, '', POST_ONLY, 'GET'],
  ['underscore spelling', { x_http_method_override: 'DELETE' }, '', POST_ONLY, 'DELETE'],
  ['mixed underscore spelling', { 'X_HTTP-Method_Override': 'DELETE' }, '', POST_ONLY, 'DELETE'],
  ['x_http_method', { X_HTTP_METHOD: 'PUT' }, '', POST_ONLY, 'PUT'],
  ['x_method_override', { x_method_override: 'PUT' }, '', POST_ONLY, 'PUT'],
  ['surrounding spaces', { 'x-http-method-override': '  DELETE  ' }, '', POST_ONLY, 'DELETE'],
  ['tabs', { 'x-http-method-override': '\tDELETE\t' }, '', POST_ONLY, 'DELETE'],
  ['comma list, second bad', { 'x-http-method-override': 'POST, DELETE' }, '', POST_ONLY, 'DELETE'],
  ['comma list, first bad', { 'x-http-method-override': 'DELETE,POST' }, '', POST_ONLY, 'DELETE'],
  ['comma list with empties', { 'x-http-method-override': ',, DELETE ,' }, '', POST_ONLY, 'DELETE'],
  ['duplicate headers (array)', { 'x-http-method-override': ['POST', 'DELETE'] }, '', POST_ONLY, 'DELETE'],
  ['duplicate headers joined', { 'x-http-method-override': 'POST, PUT' }, '', POST_ONLY, 'PUT'],
  ['two carriers, second bad', { 'x-http-method-override': 'POST', 'x-http-method': 'DELETE' }, '', POST_ONLY, 'DELETE'],
  ['two spellings of one carrier', { 'x-http-method-override': 'POST', 'X_HTTP_METHOD_OVERRIDE': 'DELETE' }, '', POST_ONLY, 'DELETE'],
  ['allowed override', { 'x-http-method-override': 'POST' }, '', POST_ONLY, true],
  ['allowed override lower case', { 'x-http-method-override': 'post' }, '', POST_ONLY, true],
  ['allowed override GET on GET POST', { 'x-http-method-override': 'GET' }, '', GET_POST, true],
  ['allowed comma list', { 'x-http-method-override': 'GET, post' }, '', GET_POST, true],
  ['empty value names nothing', { 'x-http-method-override': '' }, '', POST_ONLY, true],
  ['blank value names nothing', { 'x-http-method-override': '  ,  ' }, '', POST_ONLY, true],
  ['not a token', { 'x-http-method-override': 'DEL ETE' }, '', POST_ONLY, undefined],
  ['not a token (slash)', { 'x-http-method-override': 'POST/DELETE' }, '', POST_ONLY, undefined],
  ['star is not a wildcard', { 'x-http-method-override': '*' }, '', POST_ONLY, '*'],
  ['lookalike header ignored', { 'x-http-method-overrides': 'DELETE' }, '', POST_ONLY, true],
  ['other header ignored', { 'x-method': 'DELETE' }, '', POST_ONLY, true],
  ['undefined value ignored', { 'x-http-method-override': undefined }, '', POST_ONLY, true],
  // the _method query parameter
  ['_method=DELETE', {}, '_method=DELETE', POST_ONLY, 'DELETE'],
  ['_method=delete', {}, '_method=delete', POST_ONLY, 'DELETE'],
  ['_METHOD=PUT', {}, '_METHOD=PUT', POST_ONLY, 'PUT'],
  ['_Method after others', {}, 'a=1&_Method=PATCH', POST_ONLY, 'PATCH'],
  ['; separator', {}, 'a=1;_method=DELETE', POST_ONLY, 'DELETE'],
  ['%5Fmethod', {}, '%5Fmethod=DELETE', POST_ONLY, 'DELETE'],
  ['%5fMETHOD', {}, '%5fMETHOD=DELETE', POST_ONLY, 'DELETE'],
  ['_me%74hod', {}, '_me%74hod=DELETE', POST_ONLY, 'DELETE'],
  ['_method[]', {}, '_method[]=DELETE', POST_ONLY, 'DELETE'],
  ['encoded value', {}, '_method=%44ELETE', POST_ONLY, 'DELETE'],
  ['plus-padded value', {}, '_method=+DELETE+', POST_ONLY, 'DELETE'],
  ['comma list value', {}, '_method=POST%2CDELETE', POST_ONLY, 'DELETE'],
  ['repeated param, second bad', {}, '_method=POST&_method=DELETE', POST_ONLY, 'DELETE'],
  ['undecodable value', {}, '_method=%zz', POST_ONLY, undefined],
  ['undecodable name', {}, '_%zzmethod=DELETE', POST_ONLY, undefined],
  ['allowed _method', {}, '_method=post', POST_ONLY, true],
  ['bare _method', {}, '_method', POST_ONLY, true],
  ['method (no underscore) ignored', {}, 'method=DELETE', POST_ONLY, true],
  ['value mentioning _method ignored', {}, 'q=_method%3DDELETE', POST_ONLY, true],
  ['header ok, query bad', { 'x-http-method-override': 'POST' }, '_method=DELETE', POST_ONLY, 'DELETE'],
];

for (const [name, headers, query, allowed, want] of CASES) {
  test(`method override: ${name}`, () => {
    const r = checkMethodOverride(headers, query, allowed);
    if (want === true) {
      assert.equal(r.ok, true, JSON.stringify(r));
      return;
    }
    assert.equal(r.ok, false, 'expected a refusal');
    if (r.ok) return;
    assert.equal(r.code, 'method_not_allowed');
    assert.equal(r.method, want);
  });
}

test('method override: header name recognition', () => {
  for (const n of ['x-http-method-override', 'X-HTTP-METHOD-OVERRIDE', 'x_http_method_override', 'X-Http-Method', 'x-method-override', ' x-method-override ']) assert.ok(isOverrideHeader(n), n);
  for (const n of ['x-http-method-overrides', 'x-method', 'method', 'x-http-methods', 'xhttp-method']) assert.ok(!isOverrideHeader(n), n);
});

test('method override: the methods named are reported upper-case, once', () => {
  const r = checkMethodOverride({ 'x-http-method-override': 'get, GET', 'x-http-method': 'post' }, '_method=Get', GET_POST);
  assert.deepEqual(r, { ok: true, methods: ['GET', 'POST'] });
});
