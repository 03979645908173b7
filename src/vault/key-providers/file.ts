import path from 'node:path';
import { AivaultError } from '../../errors/aivault-error.js';
import { kekFingerprint } from '../../crypto/fingerprint.js';
import { randomBytes } from '../../crypto/random.js';
import { ensureDir, readFileIfExists, removeFile, writeFileAtomic } from '../fs-atomic.js';
import { decodeKey } from './decode-key.js';

/**
 * `file` key provider: base64 KEKs, one per line (a second line only exists mid-rotation, so a
 * crash at any point leaves the key the metadata names on disk).
 */
export function readKeyFile(file: string): Uint8Array[] {
  const buf = readFileIfExists(file);
  if (buf === undefined) return [];
  const keys: Uint8Array[] = [];
  for (const line of buf.toString('utf8').split(/\r?\n/)) {
    const t = line.trim();
    if (t === '') continue;
    const k = decodeKey(t);
    if (!k) throw new AivaultError('vault_locked', `key file ${file} is corrupt (expected base64 32-byte keys, one per line)`, { file });
    keys.push(k);
  }
  return keys;
}

export function writeKeyFile(file: string, keys: Uint8Array[]): void {
  ensureDir(path.dirname(file));
  writeFileAtomic(file, keys.map((k) => Buffer.from(k).toString('base64') + '\n').join(''));
}

export function loadFileKek(file: string, kekId: string): Uint8Array {
  const keys = readKeyFile(file);
  if (keys.length === 0) throw new AivaultError('vault_locked', `key file ${file} is missing: the vault cannot be unlocked`, { file });
  const k = keys.find((key) => kekFingerprint(key) === kekId);
  if (!k) throw new AivaultError('vault_locked', `key file ${file} does not hold this vault's master key (fingerprint ${kekId})`, { file });
  return k;
}

/** A key for a new file-provider vault: reuse the key file's key if there is one (init), else a fresh one. */
export function firstOrNewFileKek(file: string, reuse: boolean): { kek: Uint8Array; existing: Uint8Array[] } {
  const existing = readKeyFile(file);
  if (reuse && existing[0]) return { kek: existing[0], existing };
  return { kek: randomBytes(32), existing };
}

/** Adds `kek` to the key file (keeping the others) unless already there. */
export function stageFileKek(file: string, kek: Uint8Array): void {
  const keys = readKeyFile(file);
  const id = kekFingerprint(kek);
  if (keys.some((k) => kekFingerprint(k) === id)) return;
  writeKeyFile(file, [...keys, kek]);
}

/** Drops every key but `keepId` (or the whole file when keepId is undefined). */
export function pruneFileKeks(file: string, keepId: string | undefined): void {
  const keys = readKeyFile(file);
  const kept = keepId === undefined ? [] : keys.filter((k) => kekFingerprint(k) === keepId);
  if (kept.length === keys.length) return;
  if (kept.length === 0) removeFile(file);
  else writeKeyFile(file, kept);
}
