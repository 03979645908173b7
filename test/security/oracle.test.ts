/**
 * The leak oracle (test/helpers/leak-oracle.ts) is independent of the code under test, and its
 * forms are right: checked here against literal strings worked out by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { findLeak, leakForms, secretForms, sentinel, sentinelShapeProblems } from '../helpers/leak-oracle.js';

test('the leak oracle imports nothing from src/', () => {
  const text = fs.readFileSync(path.join(ROOT, 'test', 'helpers', 'leak-oracle.ts'), 'utf8');
  const imports = [...text.matchAll(/^\s*import\s[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
  assert.ok(imports.length > 0);
  for (const i of imports) assert.ok(i!.startsWith('node:') || i === './suite-registry.js', `leak-oracle.ts imports ${i}`);
  const registry = fs.readFileSync(path.join(ROOT, 'test', 'helpers', 'suite-registry.ts'), 'utf8');
  for (const m of registry.matchAll(/^\s*import\s[^;]*?from\s+'([^']+)'/gm)) assert.ok(m[1]!.startsWith('node:'), `suite-registry.ts imports ${m[1]}`);
});

test('the oracle forms of a known value, worked out by hand', () => {
  const f = leakForms('a b/~?"');
  assert.equal(f.raw, 'a b/~?"');
  assert.equal(f['uri-component'], 'a%20b%2F~%3F%22');
  assert.equal(f['uri-component-lower'], 'a%20b%2f~%3f%22');
  assert.equal(f.form, 'a+b%2F~%3F%22');
  assert.equal(f.base64, 'YSBiL34/Ig==');
  assert.equal(f['base64-unpadded'], 'YSBiL34/Ig');
  assert.equal(f.base64url, 'YSBiL34_Ig');
  assert.equal(f.hex, '6120622f7e3f22');
  assert.equal(f['hex-upper'], '6120622F7E3F22');
  assert.equal(f.json, 'a b/~?\\"');
  assert.equal(f['json-slash'], 'a b\\/~?\\"');
  assert.equal(leakForms("!*'()").rfc3986, '%21%2A%27%28%29');
  assert.equal(leakForms("!*'()")['uri-component'], "!*'()");
});

test('sentinels: every length mod 3, base64 with + and /, a random tail the oracle also looks for', () => {
  const s = [sentinel('t'), sentinel('t'), sentinel('t')];
  assert.deepEqual(new Set(s.map((x) => x.length % 3)), new Set([0, 1, 2]));
  for (const x of s) {
    assert.deepEqual(sentinelShapeProblems(x), []);
    const tail = /[0-9a-f]{24}/.exec(x)![0];
    assert.ok(secretForms({ x }).includes(tail));
    assert.deepEqual(findLeak(`...${tail}...`, { x }), { secret: 'x', form: 'tail' });
    assert.deepEqual(findLeak(Buffer.from(x).toString('hex').toUpperCase(), { x })?.form, 'hex');
    assert.equal(findLeak('[REDACTED]', { x }), undefined);
  }
});
