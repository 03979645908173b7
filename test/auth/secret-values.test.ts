import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AuthSpec } from '../../src/registry/types.js';
import { applyAuth, secretValuesOf, redactUrlForDisplay, plannedPathForDisplay, REDACTED } from '../../src/auth/index.js';
import { StreamRedactor } from '../../src/broker/redactor.js';
import { findLeak, leakForms, sentinel, sentinelShapeProblems } from '../helpers/leak-oracle.js';

// Not a multiple of 3 long, and its base64 has '+' and '/' (so base64 and base64url differ):
// a sentinel whose encodings coincide cannot tell a missing form from a present one (issue 13).
const S = 'sk-SENTINEL-abc/def+ghi=xx~x/?z';
const SENTINELS = [S, sentinel('sv', 0), sentinel('sv', 1), sentinel('sv', 2)];

test('the sentinels differ in length mod 3 and have base64 with + and / (base64 != base64url)', () => {
  assert.deepEqual(new Set(SENTINELS.map((s) => s.length % 3)), new Set([0, 1, 2]));
  for (const s of SENTINELS.slice(1)) assert.deepEqual(sentinelShapeProblems(s), [], s);
  const b64 = Buffer.from(S).toString('base64');
  assert.ok(b64.includes('+') && b64.includes('/') && b64.endsWith('='), b64);
});

for (const s of SENTINELS) {
  test(`every form the independent oracle knows is redacted (${s.length % 3} mod 3: ${s.slice(0, 16)}…)`, () => {
    const values = secretValuesOf({ secret: s });
    for (const [name, form] of Object.entries(leakForms(s))) {
      if (name === 'tail') continue; // a fragment, not an encoding the upstream would produce on its own
      const text = `{"echo":"${form}","again":"${form}"}`;
      const whole = new StreamRedactor(values);
      const out = Buffer.concat([whole.push(Buffer.from(text)), whole.end()]).toString();
      assert.equal(findLeak(out, { secret: s }), undefined, `${name} form survived: ${out}`);
      // split one byte at a time: the held-back tail still catches it
      const bytewise = new StreamRedactor(values);
      const parts: Buffer[] = [];
      for (const b of Buffer.from(text)) parts.push(bytewise.push(Buffer.from([b])));
      parts.push(bytewise.end());
      assert.equal(Buffer.concat(parts).toString(), out, `${name}: chunking changed the result`);
    }
  });
}

test('secretValuesOf lists raw and encoded forms, longest first, without duplicates or empties', () => {
  const v = secretValuesOf({ secret: S, empty: '' });
  for (const f of [S, encodeURIComponent(S), 'sk-SENTINEL-abc%2Fdef%2Bghi%3Dxx~x%2F%3Fz', 'sk-SENTINEL-abc%2fdef%2bghi%3dxx~x%2f%3fz', Buffer.from(S).toString('base64'), Buffer.from(S).toString('base64url')])
    assert.ok(v.includes(f), f);
  assert.ok(!v.includes(''));
  assert.equal(new Set(v).size, v.length);
  for (let i = 1; i < v.length; i++) assert.ok(v[i - 1]!.length >= v[i]!.length);
});

const SPECS: Array<[string, AuthSpec, Record<string, string>]> = [
  ['header', { strategy: 'header', header: 'authorization', template: 'Bearer {{secret}}' }, { secret: S }],
  ['query', { strategy: 'query', param: 'key', template: '{{secret}}' }, { secret: S }],
  ['path', { strategy: 'path', prefix: '/bot{{secret}}' }, { secret: '123:ABC_def-SENTINEL' }],
  ['basic', { strategy: 'basic', username: '{{user}}', password: '{{pass}}' }, { user: 'SENTINEL-user', pass: 'SENTINEL-pass' }],
  ['multi-header', { strategy: 'multi-header', headers: { a: 'x {{one}}', b: '{{two}}' } }, { one: 'SENTINEL-1', two: 'SENTINEL-2' }],
  ['multi-query', { strategy: 'multi-query', params: { k: '{{one}}', t: '{{two}}' } }, { one: 'SENTINEL 1/x', two: 'SENTINEL-2' }],
];

for (const [name, spec, fields] of SPECS) {
  test(`secretValuesOf(${name}) covers every injected header value, path and query form`, () => {
    const values = secretValuesOf(fields, spec);
    const out = applyAuth(spec, fields, { path: '/x', query: 'a=1', headers: {} });
    const wire = [out.path, out.query, ...Object.values(out.headers)].join('\n');
    // replacing every listed form removes every trace of every field value and of the basic blob
    let red = wire;
    for (const v of values) red = red.split(v).join(REDACTED);
    for (const f of Object.values(fields)) {
      assert.ok(!red.includes(f), `${name}: ${f} survived`);
      assert.ok(!red.includes(encodeURIComponent(f)), `${name}: encoded ${f} survived`);
    }
    if (spec.strategy === 'basic') assert.ok(!red.includes(out.headers['authorization']!.slice(6)));
  });

  test(`redactUrlForDisplay(${name}) hides the secret in a printed URL`, () => {
    const out = applyAuth(spec, fields, { path: '/x', query: 'a=1', headers: {} });
    const url = `https://api.example.com${out.path}?${out.query}`;
    const shown = redactUrlForDisplay(url, spec, fields);
    for (const f of Object.values(fields)) {
      assert.ok(!shown.includes(f), shown);
      assert.ok(!shown.includes(encodeURIComponent(f)), shown);
    }
    assert.ok(shown.startsWith('https://api.example.com/'));
    assert.ok(shown.includes('a=1'));
  });
}

test('redactUrlForDisplay masks the auth query parameter even without the secret values', () => {
  const spec: AuthSpec = { strategy: 'query', param: 'key', template: '{{secret}}' };
  assert.equal(redactUrlForDisplay('https://h.example/v1beta/models?alt=json&key=AIzaSENTINEL', spec), `https://h.example/v1beta/models?alt=json&key=${REDACTED}`);
  assert.equal(redactUrlForDisplay('/m?KEY=AIzaSENTINEL&ke%79=x', spec), `/m?KEY=${REDACTED}&ke%79=${REDACTED}`);
  assert.equal(redactUrlForDisplay('/m?a=1#key=x', spec), '/m?a=1#key=x');
  assert.equal(redactUrlForDisplay('/m', spec), '/m');
});

test('plannedPathForDisplay masks the path-auth prefix', () => {
  assert.equal(plannedPathForDisplay({ strategy: 'path', prefix: '/bot{{secret}}' }, '/sendMessage'), `/bot${REDACTED}/sendMessage`);
  assert.equal(plannedPathForDisplay({ strategy: 'path', prefix: '/a/{{id}}/{{secret}}/' }, '/x'), `/a/${REDACTED}/${REDACTED}/x`);
  assert.equal(plannedPathForDisplay({ strategy: 'header', header: 'a', template: '{{secret}}' }, '/x'), '/x');
});

test('property: after redaction with secretValuesOf, no injected secret remains on the wire (query auth)', () => {
  const spec: AuthSpec = { strategy: 'query', param: 'key', template: '{{secret}}' };
  fc.assert(
    fc.property(fc.string({ minLength: 4, maxLength: 30 }).filter((s) => s.trim() === s && !/[\ud800-\udfff]/.test(s)), (secret) => {
      const out = applyAuth(spec, { secret }, { path: '/m', query: '', headers: {} });
      let red = out.query;
      for (const v of secretValuesOf({ secret }, spec)) red = red.split(v).join(REDACTED);
      assert.equal(red, `key=${REDACTED}`);
    }),
    { numRuns: 1500 },
  );
});
