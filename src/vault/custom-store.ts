import { AivaultError } from '../errors/aivault-error.js';
import type { AuthSpec, CapabilityDef } from '../registry/types.js';
import { readJsonIfExists, writeFileAtomic } from './fs-atomic.js';

/** A user-defined credential (credentials.json). Holds secret *names*, never values. */
export interface StoredCredential {
  id: string;
  provider: string;
  /** template field -> secret name */
  secrets: Record<string, string>;
  auth: AuthSpec;
  hosts: string[];
  createdAt: string;
}

/** A user-defined capability (capabilities.json). */
export interface StoredCapability extends CapabilityDef {
  provider: string;
  createdAt: string;
}

interface CredentialsFile {
  v: 1;
  credentials: StoredCredential[];
}
interface CapabilitiesFile {
  v: 1;
  capabilities: StoredCapability[];
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const strs = (x: unknown) => Array.isArray(x) && x.length > 0 && x.every((s) => typeof s === 'string' && s.length > 0);

function corrupt(file: string): AivaultError {
  return new AivaultError('vault_corrupt', `vault file ${file} is corrupt (unexpected structure); secrets are unaffected`, { file });
}

export function readCredentials(file: string): StoredCredential[] {
  const x = readJsonIfExists(file);
  if (x === undefined) return [];
  if (!isObj(x) || x.v !== 1 || !Array.isArray(x.credentials)) throw corrupt(file);
  for (const c of x.credentials as unknown[]) {
    if (
      !isObj(c) ||
      typeof c.id !== 'string' ||
      typeof c.provider !== 'string' ||
      !isObj(c.secrets) ||
      !Object.values(c.secrets).every((s) => typeof s === 'string') ||
      !isObj(c.auth) ||
      typeof c.auth.strategy !== 'string' ||
      !strs(c.hosts)
    ) {
      throw corrupt(file);
    }
  }
  return (x as unknown as CredentialsFile).credentials;
}

export function writeCredentials(file: string, list: StoredCredential[]): void {
  const body: CredentialsFile = { v: 1, credentials: [...list].sort((a, b) => (a.id < b.id ? -1 : 1)) };
  writeFileAtomic(file, JSON.stringify(body, null, 2) + '\n');
}

export function readCapabilities(file: string): StoredCapability[] {
  const x = readJsonIfExists(file);
  if (x === undefined) return [];
  if (!isObj(x) || x.v !== 1 || !Array.isArray(x.capabilities)) throw corrupt(file);
  for (const c of x.capabilities as unknown[]) {
    if (!isObj(c) || typeof c.id !== 'string' || typeof c.provider !== 'string' || !strs(c.methods) || !strs(c.pathPrefixes) || !strs(c.hosts)) {
      throw corrupt(file);
    }
  }
  return (x as unknown as CapabilitiesFile).capabilities;
}

export function writeCapabilities(file: string, list: StoredCapability[]): void {
  const body: CapabilitiesFile = { v: 1, capabilities: [...list].sort((a, b) => (a.id < b.id ? -1 : 1)) };
  writeFileAtomic(file, JSON.stringify(body, null, 2) + '\n');
}
