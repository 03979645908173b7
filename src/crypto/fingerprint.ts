import { createHash } from 'node:crypto';

const DOMAIN = 'aivault/v1/kek-fingerprint\0';

/**
 * A public identifier of a KEK: the first 16 hex digits of SHA-256 over a domain-separated KEK.
 * Safe to show and to store (it identifies the key, it does not reveal it).
 */
export function kekFingerprint(kek: Uint8Array): string {
  return createHash('sha256').update(DOMAIN).update(kek).digest('hex').slice(0, 16);
}
