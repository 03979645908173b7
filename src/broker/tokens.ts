/**
 * Run tokens (SPEC §5, §6): 256-bit random, base64url, opaque. The broker keeps its tokens in a
 * Map keyed by the token (issue 12: no hashing per request). A presented value is looked up there:
 * V8 hashes the string with a per-process random seed and compares contents only on a full hash
 * match, so the time taken does not depend on how many characters of a real token the caller
 * guessed right; a hit is then confirmed with crypto.timingSafeEqual. The table holds nothing the
 * launcher does not already hold (it minted the token and handed it to the child's environment).
 *
 * Decision: a token whose run was revoked, or whose TTL passed, answers `token_expired` (the
 * token existed and is dead); a value that never was a token answers `token_invalid`. Dead tokens
 * stay in the table (a few bytes each) so the distinction holds after revocation.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

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

/** A table slot: the entry (handed to the pipeline) and, apart from it, the token's bytes for the
 *  constant-time confirmation of a Map hit (so no entry ever carries the token). */
interface Slot {
  readonly entry: TokenEntry;
  readonly bytes: Buffer;
}

export type TokenLookup =
  | { ok: true; entry: TokenEntry }
  | { ok: false; code: 'token_invalid' | 'token_expired'; runId?: string };

/** Shape check first: values that cannot be a token never reach the hash table. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** The presented value's bytes for the confirmation (synchronous use only: one buffer will do). */
const SCRATCH = Buffer.alloc(43);

export class TokenTable {
  private readonly byToken = new Map<string, Slot>();

  mint(grant: TokenGrant): string {
    const token = randomBytes(32).toString('base64url');
    const ttl = grant.ttlMs;
    const expiresAt = ttl !== undefined && ttl > 0 ? Date.now() + ttl : Number.POSITIVE_INFINITY;
    this.byToken.set(token, { entry: { grant: { ...grant, capabilities: [...grant.capabilities] }, expiresAt, revoked: false }, bytes: Buffer.from(token, 'latin1') });
    return token;
  }

  /** Is `value` shaped like a token we could have minted? (cheap pre-filter) */
  static looksLikeToken(value: string): boolean {
    return TOKEN_SHAPE.test(value);
  }

  private find(value: string): TokenEntry | undefined {
    if (!TOKEN_SHAPE.test(value)) return undefined;
    const slot = this.byToken.get(value);
    if (slot === undefined) return undefined;
    SCRATCH.write(value, 0, 'latin1'); // shape-checked: exactly 43 ASCII characters
    return timingSafeEqual(SCRATCH, slot.bytes) ? slot.entry : undefined;
  }

  lookup(value: string): TokenLookup {
    const entry = this.find(value);
    if (!entry) return { ok: false, code: 'token_invalid' };
    if (entry.revoked) return { ok: false, code: 'token_expired', runId: entry.grant.runId };
    if (entry.expiresAt !== Number.POSITIVE_INFINITY && Date.now() >= entry.expiresAt) {
      entry.revoked = true;
      return { ok: false, code: 'token_expired', runId: entry.grant.runId };
    }
    return { ok: true, entry };
  }

  /** True when `value` is a token this table minted, live or dead (for scrubbing logs). */
  knows(value: string): boolean {
    return this.find(value) !== undefined;
  }

  revokeRun(runId: string): void {
    for (const { entry } of this.byToken.values()) if (entry.grant.runId === runId) entry.revoked = true;
  }

  revokeAll(): void {
    for (const { entry } of this.byToken.values()) entry.revoked = true;
  }
}
