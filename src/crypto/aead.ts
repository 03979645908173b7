import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from './random.js';

/** XChaCha20-Poly1305 key length and nonce length, in bytes. */
export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
const TAG_BYTES = 16;

/** Thrown by `open` when the ciphertext, nonce, key or associated data do not match. */
export class AuthenticationError extends Error {
  constructor(message = 'authentication failed') {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/** Seals `plaintext` under `key` with a fresh random nonce; returns nonce || ciphertext || tag. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  if (key.length !== KEY_BYTES) throw new Error('seal: key must be 32 bytes');
  const nonce = randomBytes(NONCE_BYTES);
  const ct = xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
  const out = new Uint8Array(NONCE_BYTES + ct.length);
  out.set(nonce, 0);
  out.set(ct, NONCE_BYTES);
  return out;
}

/** Opens a `seal` output. Throws AuthenticationError on any mismatch (never returns garbage). */
export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  if (key.length !== KEY_BYTES) throw new Error('open: key must be 32 bytes');
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new AuthenticationError('ciphertext truncated');
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const ct = sealed.subarray(NONCE_BYTES);
  try {
    return xchacha20poly1305(key, nonce, aad).decrypt(ct);
  } catch {
    throw new AuthenticationError();
  }
}
