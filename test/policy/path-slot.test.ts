/** SPEC §7a path slots: where a path-auth provider's key (or the run token) sits in a caller path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitPathSlot } from '../../src/policy/path-slot.js';

const T = 'A'.repeat(43);
// [template, path, expected {value, rest, masked} or null]
const CASES: Array<[string, string, { value: string; rest: string; masked: string } | null]> = [
  ['/bot{{secret}}', `/bot${T}/sendMessage`, { value: T, rest: '/sendMessage', masked: '/bot[REDACTED]/sendMessage' }],
  ['/bot{{secret}}', `/bot${T}/sendMessage?chat_id=1`, { value: T, rest: '/sendMessage?chat_id=1', masked: '/bot[REDACTED]/sendMessage?chat_id=1' }],
  ['/bot{{secret}}', `/bot${T}`, { value: T, rest: '/', masked: '/bot[REDACTED]' }],
  ['/bot{{secret}}', `/bot${T}?x=1`, { value: T, rest: '/?x=1', masked: '/bot[REDACTED]?x=1' }],
  ['/bot{{ secret }}', `/bot123:ABC/getMe`, { value: '123:ABC', rest: '/getMe', masked: '/bot[REDACTED]/getMe' }],
  ['/bot{{secret}}', `/bot123%3AABC/getMe`, { value: '123:ABC', rest: '/getMe', masked: '/bot[REDACTED]/getMe' }],
  ['/bot{{secret}}', `/bot%zz/getMe`, { value: '%zz', rest: '/getMe', masked: '/bot[REDACTED]/getMe' }],
  ['/bot{{secret}}/', `/bot${T}/sendMessage`, { value: T, rest: '/sendMessage', masked: '/bot[REDACTED]/sendMessage' }],
  ['/k/{{secret}}/api', `/k/${T}/api/x`, { value: T, rest: '/x', masked: '/k/[REDACTED]/api/x' }],
  ['/k/{{secret}}/api', `/k/${T}/api`, { value: T, rest: '/', masked: '/k/[REDACTED]/api' }],
  ['/k/{{secret}}/api', `/k/${T}/apix`, null],
  ['/k/{{secret}}/api', `/k/${T}/other`, null],
  ['/bot{{secret}}', '/sendMessage', null],
  ['/bot{{secret}}', '/bot/sendMessage', null],
  ['/bot{{secret}}', '/Bot123/sendMessage', null],
  ['/bot{{secret}}', '', null],
  ['/x{{a}}{{b}}', '/x1/y', null],
  ['/static', '/static/y', null],
  ['/k{{secret}}.json', '/k1.json/y', null],
];
for (const [tpl, path, want] of CASES) {
  test(`path slot: ${tpl} ${path.replace(T, '<T>')}`, () => {
    const got = splitPathSlot(tpl, path);
    if (want === null) assert.equal(got, undefined);
    else {
      assert.ok(got);
      assert.deepEqual({ value: got.value, rest: got.rest, masked: got.masked }, want);
    }
  });
}
