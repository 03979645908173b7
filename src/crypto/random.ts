import { randomBytes as nodeRandomBytes } from 'node:crypto';

/** Cryptographically secure random bytes (node's CSPRNG). */
export function randomBytes(n: number): Uint8Array {
  const b = nodeRandomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Random lowercase hex string of `bytes` bytes. */
export function randomHex(bytes: number): string {
  return nodeRandomBytes(bytes).toString('hex');
}
