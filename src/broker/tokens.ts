/**
 * Run tokens (SPEC §5, §6): 256-bit random, base64url, opaque. The broker keeps only the SHA-256
 * digest of each token; a presented value is hashed and looked up, so comparison never depends on
 * how many characters of a real token the caller guessed right.
 *
 * Decision: a token whose run was revoked, or whose TTL passed, answers `token_expired` (the
 * token existed and is dead); a value that never was a token answers `token_invalid`. Dead token
 * digests are remembered (a few bytes each) so the distinction holds after revocation.
 */
import crypto, { randomBytes } from 'node:crypto';

export interface TokenGrant {
  runId: string;
  /** Capability ids, or `provider/*` for all of a provider's capabilities. */
  capabilities: string[];
  /** Pin every request of this token to one credential. */
  credential?: string;
  workspaceId?: string;
  groupId?: string;
  /** Lifetime from minting; absent = until revoked. */
  ttlMs?: number;
}

export interface TokenEntry {
  grant: TokenGrant;
  expiresAt: number;
  revoked: boolean;
}

export type TokenLookup =
  | { ok: true; entry: TokenEntry }
  | { ok: false; code: 'token_invalid' | 'token_expired'; runId?: string };

/** One-shot SHA-256 (crypto.hash: no Hash object per call, ~2× faster than createHash). */
function digest(token: string): string {
  return crypto.hash('sha256', token, 'base64url');
}

/** Shape check first: values that cannot be a token never reach the hash table. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export class TokenTable {
  private readonly byDigest = new Map<string, TokenEntry>();

  mint(grant: TokenGrant): string {
    const token = randomBytes(32).toString('base64url');
    const ttl = grant.ttlMs;
    const expiresAt = ttl !== undefined && ttl > 0 ? Date.now() + ttl : Number.POSITIVE_INFINITY;
    this.byDigest.set(digest(token), { grant: { ...grant, capabilities: [...grant.capabilities] }, expiresAt, revoked: false });
    return token;
  }

  /** Is `value` shaped like a token we could have minted? (cheap pre-filter) */
  static looksLikeToken(value: string): boolean {
    return TOKEN_SHAPE.test(value);
  }

  lookup(value: string): TokenLookup {
    if (!TOKEN_SHAPE.test(value)) return { ok: false, code: 'token_invalid' };
    const entry = this.byDigest.get(digest(value));
    if (!entry) return { ok: false, code: 'token_invalid' };
    if (entry.revoked) return { ok: false, code: 'token_expired', runId: entry.grant.runId };
    if (Date.now() >= entry.expiresAt) {
      entry.revoked = true;
      return { ok: false, code: 'token_expired', runId: entry.grant.runId };
    }
    return { ok: true, entry };
  }

  /** True when `value` is a token this table minted, live or dead (for scrubbing logs). */
  knows(value: string): boolean {
    return TOKEN_SHAPE.test(value) && this.byDigest.has(digest(value));
  }

  revokeRun(runId: string): void {
    for (const e of this.byDigest.values()) if (e.grant.runId === runId) e.revoked = true;
  }

  revokeAll(): void {
    for (const e of this.byDigest.values()) e.revoked = true;
  }
}
