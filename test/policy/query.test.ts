import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkCallerQuery, consumeTokenParams, removeParams, appendParam, parseQuery, paramKey } from '../../src/policy/query.js';

// [query, owned params, rejected param (canonical key) or null]
const CHECK: Array<[string, string[], string | null]> = [
  ['', ['key'], null],
  ['alt=json', ['key'], null],
  ['key=abc', ['key'], 'key'],
  ['alt=json&key=abc', ['key'], 'key'],
  ['key', ['key'], 'key'],
  ['key=', ['key'], 'key'],
  ['KEY=abc', ['key'], 'key'],
  ['Key=abc', ['key'], 'key'],
  ['ke%79=abc', ['key'], 'key'],
  ['%6B%65%79=abc', ['key'], 'key'],
  ['%6b%65%79=abc', ['key'], 'key'],
  ['k%45y=abc', ['key'], 'key'],
  ['key%20=abc', ['key'], 'key'],
  ['+key=abc', ['key'], 'key'],
  ['key[]=abc', ['key'], 'key'],
  ['key[0]=abc', ['key'], 'key'],
  ['a=1;key=abc', ['key'], 'key'],
  ['a=1&&key=abc', ['key'], 'key'],
  ['keys=abc', ['key'], null],
  ['akey=abc', ['key'], null],
  ['x=key', ['key'], null],
  ['x=key%3Dabc', ['key'], null],
  ['key%3D=abc', ['key'], null],
  ['%zz=1', ['key'], '%zz'],
  ['%zz=1', [], null],
  ['key=abc', [], null],
  ['access_token=x', ['access_token'], 'access_token'],
  ['Access_Token=x', ['access_token'], 'access_token'],
  ['api_key=x&token=y', ['token', 'api_key'], 'api_key'],
  ['token=y', ['token', 'api_key'], 'token'],
  ['auth=x', ['Auth'], 'auth'],
];
for (const [q, owned, want] of CHECK) {
  test(`checkCallerQuery(${JSON.stringify(q)}, ${JSON.stringify(owned)}) → ${want ?? 'ok'}`, () => {
    const r = checkCallerQuery(q, owned);
    if (want === null) assert.deepEqual(r, { ok: true });
    else assert.deepEqual(r, { ok: false, code: 'auth_header_rejected', param: want });
  });
}

const TOKEN = 'avt_TOKEN123';
const CONSUME: Array<[string, string[], string]> = [
  [`key=${TOKEN}`, ['key'], ''],
  [`alt=json&key=${TOKEN}`, ['key'], 'alt=json'],
  [`key=${TOKEN}&alt=json`, ['key'], 'alt=json'],
  [`KEY=${TOKEN}&alt=json`, ['key'], 'alt=json'],
  [`ke%79=${TOKEN}`, ['key'], ''],
  [`key=other&alt=json`, ['key'], 'key=other&alt=json'],
  [`x=${TOKEN}`, ['key'], `x=${TOKEN}`],
  [`key=${TOKEN}x`, ['key'], `key=${TOKEN}x`],
  [`key`, ['key'], 'key'],
  [`a=1;key=${TOKEN}`, ['key'], 'a=1'],
  [`a=1;key=${TOKEN};b=2&c=3`, ['key'], 'a=1;b=2&c=3'],
  [`key=${TOKEN};key=${TOKEN}`, ['key'], ''],
  ['', ['key'], ''],
];
for (const [q, owned, want] of CONSUME) {
  test(`consumeTokenParams(${JSON.stringify(q)})`, () => assert.equal(consumeTokenParams(q, owned, (v) => v === TOKEN), want));
}

test('after consuming the token, any other owned value is still refused', () => {
  const q = consumeTokenParams(`key=${TOKEN}&key=sk-other`, ['key'], (v) => v === TOKEN);
  assert.equal(q, 'key=sk-other');
  assert.equal(checkCallerQuery(q, ['key']).ok, false);
});

test('removeParams / appendParam', () => {
  assert.equal(removeParams('a=1&key=2&KEY=3&b=4', ['key']), 'a=1&b=4');
  assert.equal(removeParams('', ['key']), '');
  assert.equal(removeParams('a=1;key=2&b=3', ['key']), 'a=1&b=3');
  assert.equal(appendParam('', 'key', 'a b&c=d'), 'key=a%20b%26c%3Dd');
  assert.equal(appendParam('x=1', 'key', "v!'()*"), 'x=1&key=v%21%27%28%29%2A');
});

test('parseQuery keeps raw text and canonical keys', () => {
  assert.deepEqual(parseQuery('a=1&B%20=2&c'), [
    { rawName: 'a', rawValue: '1', name: 'a' },
    { rawName: 'B%20', rawValue: '2', name: 'b' },
    { rawName: 'c', rawValue: undefined, name: 'c' },
  ]);
  assert.equal(paramKey('%'), undefined);
});

test('property: any percent-encoding / case variant of an owned name is refused', () => {
  const name = fc.constantFrom('key', 'api_key', 'access_token', 'token');
  fc.assert(
    fc.property(name, fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), (n, enc, up) => {
      const variant = [...n]
        .map((c, i) => {
          const ch = up[i] ? c.toUpperCase() : c;
          return enc[i] ? '%' + ch.charCodeAt(0).toString(16).padStart(2, '0') : ch;
        })
        .join('');
      const r = checkCallerQuery(`a=1&${variant}=v`, [n]);
      assert.equal(r.ok, false, variant);
    }),
    { numRuns: 2000 },
  );
});
