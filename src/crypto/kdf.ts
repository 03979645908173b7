import { argon2idAsync } from '@noble/hashes/argon2.js';
import { randomBytes } from './random.js';

/** Argon2id parameters as stored in vault metadata (salt base64). */
export interface Argon2Params {
  alg: 'argon2id';
  /** memory, KiB */
  m: number;
  /** iterations */
  t: number;
  /** parallelism */
  p: number;
  version: 19;
  salt: string;
}

/** OWASP's argon2id baseline (19 MiB, t=2, p=1): ~0.4 s with the pure-JS implementation here. */
export function defaultArgon2Params(): Argon2Params {
  return { alg: 'argon2id', m: 19456, t: 2, p: 1, version: 19, salt: Buffer.from(randomBytes(16)).toString('base64') };
}

export function isArgon2Params(x: unknown): x is Argon2Params {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  const int = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
  return (
    o.alg === 'argon2id' &&
    int(o.m, 8, 4 * 1024 * 1024) &&
    int(o.t, 1, 64) &&
    int(o.p, 1, 16) &&
    o.version === 19 &&
    typeof o.salt === 'string' &&
    Buffer.from(o.salt, 'base64').length >= 8
  );
}

/** Derives a 32-byte KEK from a passphrase. Slow on purpose; callers derive once per process. */
export async function deriveKeyFromPassphrase(passphrase: string, params: Argon2Params): Promise<Uint8Array> {
  const salt = new Uint8Array(Buffer.from(params.salt, 'base64'));
  return argon2idAsync(passphrase.normalize('NFC'), salt, {
    m: params.m,
    t: params.t,
    p: params.p,
    version: params.version,
    dkLen: 32,
    asyncTick: 50,
  });
}
