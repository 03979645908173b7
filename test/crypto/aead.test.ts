import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationError, open, seal } from '../../src/crypto/aead.js';
import { randomBytes } from '../../src/crypto/random.js';
import { kekFingerprint } from '../../src/crypto/fingerprint.js';
import { deriveKeyFromPassphrase, defaultArgon2Params, isArgon2Params, type Argon2Params } from '../../src/crypto/kdf.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test('seal/open round-trips and uses a fresh nonce each time', () => {
  const key = randomBytes(32);
  const a = seal(key, enc('sk-SENTINEL-aead'), enc('ad'));
  const b = seal(key, enc('sk-SENTINEL-aead'), enc('ad'));
  assert.notDeepEqual(a, b);
  assert.equal(dec(open(key, a, enc('ad'))), 'sk-SENTINEL-aead');
  assert.equal(Buffer.from(a).includes(Buffer.from('SENTINEL')), false);
});

test('any flipped bit, other AAD, other key or truncation fails authentication', () => {
  const key = randomBytes(32);
  const sealed = seal(key, enc('hello world'), enc('id-1'));
  for (let i = 0; i < sealed.length; i += 7) {
    const t = new Uint8Array(sealed);
    t[i]! ^= 0x01;
    assert.throws(() => open(key, t, enc('id-1')), AuthenticationError, `byte ${i}`);
  }
  assert.throws(() => open(key, sealed, enc('id-2')), AuthenticationError);
  assert.throws(() => open(randomBytes(32), sealed, enc('id-1')), AuthenticationError);
  assert.throws(() => open(key, sealed.subarray(0, sealed.length - 1), enc('id-1')), AuthenticationError);
  assert.throws(() => open(key, sealed.subarray(0, 20), enc('id-1')), AuthenticationError);
});

test('keys must be 32 bytes', () => {
  assert.throws(() => seal(randomBytes(16), enc('x'), enc('')));
});

test('KEK fingerprint: 16 hex digits, deterministic, differs per key, is not a prefix of the key', () => {
  const k = randomBytes(32);
  const f = kekFingerprint(k);
  assert.match(f, /^[0-9a-f]{16}$/);
  assert.equal(kekFingerprint(new Uint8Array(k)), f);
  assert.notEqual(kekFingerprint(randomBytes(32)), f);
  assert.equal(Buffer.from(k).toString('hex').includes(f), false);
});

test('argon2id derivation: deterministic for the same salt, differs for another passphrase or salt', async () => {
  const p: Argon2Params = { ...defaultArgon2Params(), m: 64, t: 1 };
  assert.ok(isArgon2Params(p));
  const a = await deriveKeyFromPassphrase('correct horse', p);
  const b = await deriveKeyFromPassphrase('correct horse', p);
  const c = await deriveKeyFromPassphrase('correct horsf', p);
  const d = await deriveKeyFromPassphrase('correct horse', { ...p, salt: Buffer.alloc(16, 1).toString('base64') });
  assert.equal(a.length, 32);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a, d);
  assert.equal(isArgon2Params({ ...p, alg: 'argon2i' }), false);
  assert.equal(isArgon2Params({ ...p, m: 0 }), false);
});
