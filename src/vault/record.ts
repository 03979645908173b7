import { createHash } from 'node:crypto';
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import { AuthenticationError, open, seal } from '../crypto/aead.js';
import { randomBytes, randomHex } from '../crypto/random.js';
import { wipe } from '../crypto/wipe.js';
import { isScope, scopeTuple, type SecretScope } from './scope.js';

/** One secret on disk: `secrets/<file>.json`. The value never appears in clear. */
export interface SecretRecord {
  v: 1;
  /** random, stable across rotations; bound into the associated data */
  id: string;
  name: string;
  scope: SecretScope;
  /** provider that claims this name (SPEC §3), bound into the associated data */
  pinnedProvider: string | null;
  createdAt: string;
  updatedAt: string;
  /** KEK fingerprint -> base64(nonce || DEK sealed by that KEK). Two entries only mid-rotation. */
  dek: Record<string, string>;
  /** base64(nonce || value sealed by the DEK) */
  value: string;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

export function checkSecretName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new AivaultError('usage', `invalid secret name '${name.slice(0, 64)}' (letters, digits, _ . -; must not start with a digit)`);
  }
  return name;
}

/** File name of a record: a hash of (name, scope), so lookups are O(1) and case-insensitive filesystems cannot merge names. */
export function recordFileName(name: string, scope: SecretScope): string {
  const h = createHash('sha256').update('aivault/v1/record-file\0').update(JSON.stringify([name, ...scopeTuple(scope)])).digest('hex');
  return `s-${h.slice(0, 40)}.json`;
}

export function isRecordFileName(f: string): boolean {
  return /^s-[0-9a-f]{40}\.json$/.test(f);
}

function binding(rec: Pick<SecretRecord, 'id' | 'name' | 'scope' | 'pinnedProvider'>): string {
  return JSON.stringify([rec.id, rec.name, ...scopeTuple(rec.scope), rec.pinnedProvider ?? '']);
}

function valueAad(rec: Pick<SecretRecord, 'id' | 'name' | 'scope' | 'pinnedProvider'>): Uint8Array {
  return new TextEncoder().encode('aivault/v1/secret-value\0' + binding(rec));
}

function dekAad(rec: Pick<SecretRecord, 'id' | 'name' | 'scope' | 'pinnedProvider'>, kekId: string): Uint8Array {
  return new TextEncoder().encode('aivault/v1/secret-dek\0' + kekId + '\0' + binding(rec));
}

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

export interface SealInput {
  id?: string;
  name: string;
  scope: SecretScope;
  pinnedProvider: string | null;
  value: string;
  createdAt?: string;
}

/** Seals a value under a fresh DEK, wraps the DEK with the KEK. */
export function sealRecord(input: SealInput, kek: Uint8Array, kekId: string): SecretRecord {
  const now = new Date().toISOString();
  const head = { id: input.id ?? randomHex(16), name: input.name, scope: input.scope, pinnedProvider: input.pinnedProvider };
  const dek = randomBytes(32);
  try {
    const value = seal(dek, new TextEncoder().encode(input.value), valueAad(head));
    const wrapped = seal(kek, dek, dekAad(head, kekId));
    return {
      v: 1,
      ...head,
      createdAt: input.createdAt ?? now,
      updatedAt: now,
      dek: { [kekId]: b64(wrapped) },
      value: b64(value),
    };
  } finally {
    wipe(dek);
  }
}

function corrupt(file: string, why: string): AivaultError {
  return new AivaultError('vault_corrupt', `secret record ${file} ${why}; other secrets are unaffected`, { file });
}

function unwrapDek(rec: SecretRecord, kek: Uint8Array, kekId: string, file: string): Uint8Array {
  const wrapped = rec.dek[kekId];
  if (wrapped === undefined) throw corrupt(file, `has no key wrapped for the vault's master key ${kekId}`);
  try {
    return open(kek, unb64(wrapped), dekAad(rec, kekId));
  } catch (e) {
    if (e instanceof AuthenticationError) throw corrupt(file, 'failed authentication (tampered, truncated or moved)');
    throw e;
  }
}

/** Decrypts a record's value. Any tampering (bytes, id, name, scope, pin) fails closed. */
export function openRecord(rec: SecretRecord, kek: Uint8Array, kekId: string, file: string): string {
  const dek = unwrapDek(rec, kek, kekId, file);
  try {
    const pt = open(dek, unb64(rec.value), valueAad(rec));
    return new TextDecoder('utf-8', { fatal: true }).decode(pt);
  } catch (e) {
    if (e instanceof AuthenticationError || e instanceof TypeError) throw corrupt(file, 'failed authentication (tampered, truncated or moved)');
    throw e;
  } finally {
    wipe(dek);
  }
}

/** Adds a wrap of the record's DEK under a new KEK (rotate-master step 1). */
export function addWrap(rec: SecretRecord, kek: Uint8Array, kekId: string, newKek: Uint8Array, newKekId: string, file: string): SecretRecord {
  const dek = unwrapDek(rec, kek, kekId, file);
  try {
    return { ...rec, dek: { ...rec.dek, [newKekId]: b64(seal(newKek, dek, dekAad(rec, newKekId))) } };
  } finally {
    wipe(dek);
  }
}

/** Keeps only the wrap for `kekId` (rotate-master step 3). */
export function keepOnlyWrap(rec: SecretRecord, kekId: string): SecretRecord {
  const w = rec.dek[kekId];
  return w === undefined ? rec : { ...rec, dek: { [kekId]: w } };
}

export function serializeRecord(rec: SecretRecord): string {
  return JSON.stringify(rec, null, 2) + '\n';
}

const ISO = (s: unknown) => typeof s === 'string' && !Number.isNaN(Date.parse(s));
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses and validates a record file. Anything off is `vault_corrupt` naming the file. */
export function parseRecord(text: string, file: string): SecretRecord {
  let o: Record<string, unknown>;
  try {
    const x: unknown = JSON.parse(text);
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error('not an object');
    o = x as Record<string, unknown>;
  } catch {
    throw corrupt(file, 'is corrupt (not valid JSON, possibly truncated)');
  }
  const dek = o.dek;
  const ok =
    o.v === 1 &&
    typeof o.id === 'string' &&
    /^[0-9a-f]{32}$/.test(o.id) &&
    typeof o.name === 'string' &&
    NAME_RE.test(o.name) &&
    isScope(o.scope) &&
    (o.pinnedProvider === null || (typeof o.pinnedProvider === 'string' && o.pinnedProvider.length > 0)) &&
    ISO(o.createdAt) &&
    ISO(o.updatedAt) &&
    typeof dek === 'object' &&
    dek !== null &&
    !Array.isArray(dek) &&
    Object.keys(dek).length > 0 &&
    Object.values(dek).every((w) => typeof w === 'string' && B64.test(w)) &&
    typeof o.value === 'string' &&
    B64.test(o.value);
  if (!ok) throw corrupt(file, 'is corrupt (unexpected structure)');
  const rec = o as unknown as SecretRecord;
  if (recordFileName(rec.name, rec.scope) !== path.basename(file)) throw corrupt(file, 'does not belong under this file name (moved or renamed)');
  return rec;
}
