import fs from 'node:fs';
import path from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { AivaultError } from '../errors/aivault-error.js';
import type { AuditSink } from '../audit/types.js';
import type { Registry } from '../registry/load.js';
import type { Capability } from '../registry/types.js';
import { ensureDir, ioError, readFileIfExists, removeFile, writeFileAtomic } from './fs-atomic.js';
import { withLock } from './lock.js';
import { readMeta, writeMeta, type KeyProviderName, type VaultMeta } from './metadata.js';
import type { VaultPaths } from './paths.js';
import { loadKek, newKek, retireKek, type KeyContext, type KeyProviderSpec } from './key-providers/index.js';
import {
  addWrap,
  checkSecretName,
  isRecordFileName,
  keepOnlyWrap,
  openRecord,
  parseRecord,
  recordFileName,
  sealRecord,
  serializeRecord,
  type SecretRecord,
} from './record.js';
import { GLOBAL, lookupOrder, scopeLabel, type ScopeQuery, type SecretScope } from './scope.js';
import { policiesFile, readPolicies, writePolicies, type CapabilityPolicy } from './policy-store.js';
import { readCapabilities, readCredentials, writeCapabilities, writeCredentials, type StoredCapability, type StoredCredential } from './custom-store.js';
import { validateCapabilityInput, validateCredentialInput, type CapabilityInput, type CredentialInput } from './custom-validate.js';
import { promptHidden } from './tty-prompt.js';

/** Metadata of one stored secret (never its value): the record's clear fields plus its file. */
export type SecretMeta = Pick<SecretRecord, 'id' | 'name' | 'scope' | 'pinnedProvider' | 'createdAt' | 'updatedAt'> & {
  /** the record file */
  file: string;
};

export interface VaultStatus {
  initialized: boolean;
  provider: KeyProviderName | null;
  /** KEK fingerprint (16 hex digits of a domain-separated SHA-256; never the key) */
  fingerprint: string | null;
  dir: string;
  keyFile?: string;
  keyEnv?: string;
  secretCount: number;
  /** record files that failed to parse */
  corruptCount: number;
  customCredentials: number;
  customCapabilities: number;
}

export interface VaultOptions {
  paths: VaultPaths;
  env: NodeJS.ProcessEnv;
  passphrase?: string;
  /** registry for pinning; loaded lazily when absent */
  registry?: Registry;
  loadRegistry: () => Registry;
  audit?: AuditSink;
}

export interface ImportResult {
  created: string[];
  rotated: string[];
  unchanged: string[];
}

const RETRY = Symbol('retry');

function toMeta(rec: SecretRecord, file: string): SecretMeta {
  return {
    id: rec.id,
    name: rec.name,
    scope: rec.scope,
    pinnedProvider: rec.pinnedProvider,
    createdAt: rec.createdAt,
    updatedAt: rec.updatedAt,
    file,
  };
}

function checkValue(value: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new AivaultError('usage', 'the secret value must not be empty');
}

/**
 * The encrypted vault. Opening is cheap (reads nothing but vault.json lazily); the KEK is loaded on
 * the first operation that needs it and kept for the process lifetime.
 */
export class Vault {
  readonly paths: VaultPaths;
  private readonly env: NodeJS.ProcessEnv;
  private readonly passphraseOpt: string | undefined;
  private registryCache: Registry | undefined;
  private readonly registryLoader: () => Registry;
  private readonly audit: AuditSink | undefined;
  private unlocked: { kekId: string; kek: Promise<Uint8Array> } | undefined;
  private readonly values = new Map<string, string>();

  constructor(opts: VaultOptions) {
    this.paths = opts.paths;
    this.env = opts.env;
    this.passphraseOpt = opts.passphrase;
    this.registryCache = opts.registry;
    this.registryLoader = opts.loadRegistry;
    this.audit = opts.audit;
  }

  get registry(): Registry {
    this.registryCache ??= this.registryLoader();
    return this.registryCache;
  }

  // ---------------------------------------------------------------- keys

  private keyContext(): KeyContext {
    return { paths: this.paths, env: this.env, passphrase: () => this.currentPassphrase() };
  }

  private async currentPassphrase(): Promise<string> {
    const p = this.passphraseOpt ?? this.env.AIVAULT_PASSPHRASE;
    if (p !== undefined && p !== '') return p;
    const typed = await promptHidden('aivault passphrase: ');
    if (typed !== undefined && typed !== '') return typed;
    throw new AivaultError('vault_locked', 'the vault is passphrase-protected: set AIVAULT_PASSPHRASE or run in a terminal to be prompted');
  }

  /** vault.json, or undefined before first use. */
  meta(): VaultMeta | undefined {
    return readMeta(this.paths.meta);
  }

  isInitialized(): boolean {
    return this.meta() !== undefined;
  }

  private unlock(meta: VaultMeta): Promise<Uint8Array> {
    if (this.unlocked?.kekId === meta.kekId) return this.unlocked.kek;
    const kek = loadKek(meta, this.keyContext());
    const entry = { kekId: meta.kekId, kek };
    this.unlocked = entry;
    kek.catch(() => {
      if (this.unlocked === entry) this.unlocked = undefined;
    });
    return kek;
  }

  /** Loads the KEK now (e.g. so exec fails with 125 before starting a child). */
  async ensureUnlocked(): Promise<void> {
    const meta = this.meta();
    if (meta) await this.unlock(meta);
  }

  private ensureDirs(): void {
    ensureDir(this.paths.root);
    ensureDir(this.paths.secretsDir);
  }

  /** First write auto-initialises with the `file` key provider (SPEC §2). */
  private async ensureMeta(): Promise<VaultMeta> {
    const m = this.meta();
    if (m) return m;
    this.ensureDirs();
    return withLock(this.paths.lock, async () => {
      const again = this.meta();
      if (again) return again;
      return this.writeNewMeta({ type: 'file' }, undefined);
    });
  }

  /** Creates/stages a key for `spec` and writes vault.json naming it (caller holds the lock). */
  private async writeNewMeta(spec: KeyProviderSpec, prev: VaultMeta | undefined): Promise<VaultMeta> {
    const nk = await newKek(spec, this.keyContext(), { reuseFileKey: prev === undefined, ...(prev ? { previousKekId: prev.kekId } : {}) });
    await nk.stage();
    const next: VaultMeta = { v: 1, keyProvider: nk.config, kekId: nk.kekId, createdAt: prev?.createdAt ?? new Date().toISOString() };
    if (prev) next.rotatedAt = new Date().toISOString();
    writeMeta(this.paths.meta, next);
    this.unlocked = { kekId: nk.kekId, kek: Promise.resolve(nk.kek) };
    if (!prev) this.emit({ event: 'vault.initialized', provider: nk.config.type, fingerprint: nk.kekId });
    return next;
  }

  /** Runs `fn` under the lock with an unlocked KEK matching the current vault.json. */
  private async write<T>(fn: (meta: VaultMeta, kek: Uint8Array) => T | Promise<T>): Promise<T> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const meta = await this.ensureMeta();
      const kek = await this.unlock(meta);
      this.ensureDirs();
      const r = await withLock(this.paths.lock, async () => {
        const cur = this.meta();
        if (!cur || cur.kekId !== meta.kekId) return RETRY;
        return fn(cur, kek);
      });
      if (r !== RETRY) return r as T;
    }
    throw new AivaultError('vault_locked', 'the master key changed while writing (concurrent rotate-master); retry');
  }

  private emit(ev: { event: string; [k: string]: unknown }): void {
    this.audit?.append(ev);
  }

  // ---------------------------------------------------------------- records

  private recordPath(name: string, scope: SecretScope): string {
    return path.join(this.paths.secretsDir, recordFileName(name, scope));
  }

  private readRecordAt(file: string): SecretRecord | undefined {
    const buf = readFileIfExists(file);
    if (buf === undefined) return undefined;
    return parseRecord(buf.toString('utf8'), file);
  }

  private writeRecord(file: string, rec: SecretRecord): void {
    writeFileAtomic(file, serializeRecord(rec));
  }

  private recordFiles(): string[] {
    try {
      return fs
        .readdirSync(this.paths.secretsDir)
        .filter(isRecordFileName)
        .sort()
        .map((f) => path.join(this.paths.secretsDir, f));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError('read directory', this.paths.secretsDir, e);
    }
  }

  /** Every record; unreadable ones are reported in `problems` (never silently dropped). */
  async scanSecrets(): Promise<{ secrets: SecretMeta[]; problems: AivaultError[] }> {
    const secrets: SecretMeta[] = [];
    const problems: AivaultError[] = [];
    for (const file of this.recordFiles()) {
      try {
        const rec = this.readRecordAt(file);
        if (rec) secrets.push(toMeta(rec, file));
      } catch (e) {
        if (e instanceof AivaultError) problems.push(e);
        else throw e;
      }
    }
    secrets.sort((a, b) => (a.name === b.name ? scopeLabel(a.scope).localeCompare(scopeLabel(b.scope)) : a.name < b.name ? -1 : 1));
    return { secrets, problems };
  }

  /** Metadata of every readable secret. Use scanSecrets to also see unreadable records. */
  async listSecrets(): Promise<SecretMeta[]> {
    return (await this.scanSecrets()).secrets;
  }

  /** The most specific record for `name` (group > workspace > global). A corrupt match fails closed. */
  findSecret(name: string, where: ScopeQuery = {}): SecretMeta | undefined {
    const hit = this.findRecord(name, where);
    return hit ? toMeta(hit.rec, hit.file) : undefined;
  }

  /** Whether a record for `name` exists in any candidate scope (no parsing, no decryption). */
  secretExists(name: string, where: ScopeQuery = {}): boolean {
    return lookupOrder(where).some((scope) => fs.existsSync(this.recordPath(name, scope)));
  }

  private findRecord(name: string, where: ScopeQuery): { rec: SecretRecord; file: string } | undefined {
    for (const scope of lookupOrder(where)) {
      const file = this.recordPath(name, scope);
      const rec = this.readRecordAt(file);
      if (rec) return { rec, file };
    }
    return undefined;
  }

  private async decrypt(rec: SecretRecord, file: string): Promise<string> {
    const key = `${file}\0${rec.value}`;
    const hit = this.values.get(key);
    if (hit !== undefined) return hit;
    const meta = this.meta();
    if (!meta) throw new AivaultError('vault_corrupt', `vault metadata ${this.paths.meta} is missing; the secrets cannot be decrypted`, { file: this.paths.meta });
    const kek = await this.unlock(meta);
    const v = openRecord(rec, kek, meta.kekId, file);
    this.values.set(key, v);
    return v;
  }

  /** Value and metadata of the most specific secret `name`. Throws secret_not_found / vault_corrupt / vault_locked. */
  async readSecret(name: string, where: ScopeQuery = {}): Promise<{ value: string; meta: SecretMeta }> {
    const hit = this.findRecord(name, where);
    if (!hit) throw new AivaultError('secret_not_found', `secret ${name} is not in the vault`);
    return { value: await this.decrypt(hit.rec, hit.file), meta: toMeta(hit.rec, hit.file) };
  }

  async getSecretValue(name: string, where: ScopeQuery = {}): Promise<string> {
    return (await this.readSecret(name, where)).value;
  }

  /** True when some stored secret has exactly this value (exec refuses to --pass-env it). */
  async containsValue(value: string): Promise<boolean> {
    if (value === '') return false;
    const files = this.recordFiles();
    if (files.length === 0) return false;
    const want = Buffer.from(value, 'utf8');
    let found = false;
    for (const file of files) {
      let rec: SecretRecord | undefined;
      try {
        rec = this.readRecordAt(file);
      } catch {
        continue; // unreadable records cannot be injected either
      }
      if (!rec) continue;
      let v: string;
      try {
        v = await this.decrypt(rec, file);
      } catch (e) {
        if (e instanceof AivaultError && e.code === 'vault_corrupt') continue;
        throw e;
      }
      const got = Buffer.from(v, 'utf8');
      if (got.length === want.length && timingSafeEqual(got, want)) found = true;
    }
    return found;
  }

  private pinFor(name: string): string | null {
    return this.registry.claimantOf(name)?.provider ?? null;
  }

  async createSecret(name: string, value: string, opts: { scope?: SecretScope } = {}): Promise<SecretMeta> {
    checkSecretName(name);
    checkValue(value);
    const scope = opts.scope ?? GLOBAL;
    const pinned = this.pinFor(name);
    const meta = await this.write((m, kek) => {
      const file = this.recordPath(name, scope);
      if (this.readRecordAt(file)) {
        throw new AivaultError('secret_exists', `secret ${name} already exists (${scopeLabel(scope)}); use 'aivault secrets rotate'`);
      }
      const rec = sealRecord({ name, scope, pinnedProvider: pinned, value }, kek, m.kekId);
      this.writeRecord(file, rec);
      return toMeta(rec, file);
    });
    this.emit({ event: 'secret.created', name, scope: scopeLabel(scope), pinnedProvider: pinned });
    if (pinned) this.emit({ event: 'secret.pinned', name, provider: pinned });
    return meta;
  }

  async rotateSecret(name: string, value: string, opts: { scope?: SecretScope } = {}): Promise<SecretMeta> {
    checkSecretName(name);
    checkValue(value);
    const scope = opts.scope ?? GLOBAL;
    const meta = await this.write((m, kek) => {
      const file = this.recordPath(name, scope);
      const old = this.readRecordAt(file);
      if (!old) throw new AivaultError('secret_not_found', `secret ${name} (${scopeLabel(scope)}) is not in the vault`);
      const rec = sealRecord({ id: old.id, name, scope, pinnedProvider: old.pinnedProvider, value, createdAt: old.createdAt }, kek, m.kekId);
      this.writeRecord(file, rec);
      return toMeta(rec, file);
    });
    this.emit({ event: 'secret.rotated', name, scope: scopeLabel(scope), pinnedProvider: meta.pinnedProvider });
    return meta;
  }

  /**
   * Compare-and-swap under the vault lock (oauth2 refresh-token rotation): re-reads the most
   * specific record for `name`, calls `fn` with its current value while still holding the lock,
   * and atomically writes what `fn` returns (undefined or the same value: nothing is written).
   * Concurrent processes are serialised by the lock, so each one sees the value the previous one
   * wrote and no rotation is lost; a crash at any point leaves the old or the new record, whole.
   */
  async updateSecretLocked(name: string, where: ScopeQuery, fn: (current: string) => Promise<string | undefined>): Promise<string> {
    checkSecretName(name);
    const out = await this.write(async (m, kek) => {
      const hit = this.findRecord(name, where);
      if (!hit) throw new AivaultError('secret_not_found', `secret ${name} is not in the vault`);
      const current = openRecord(hit.rec, kek, m.kekId, hit.file);
      const next = await fn(current);
      if (next === undefined || next === current) return { value: current, rotated: undefined };
      checkValue(next);
      const old = hit.rec;
      const rec = sealRecord({ id: old.id, name, scope: old.scope, pinnedProvider: old.pinnedProvider, value: next, createdAt: old.createdAt }, kek, m.kekId);
      this.writeRecord(hit.file, rec);
      return { value: next, rotated: toMeta(rec, hit.file) };
    });
    if (out.rotated) this.emit({ event: 'secret.rotated', name, scope: scopeLabel(out.rotated.scope), pinnedProvider: out.rotated.pinnedProvider, source: 'oauth2-refresh' });
    return out.value;
  }

  /**
   * Moves a secret to another scope (`secrets attach` / `detach`) without its value leaving the
   * vault layer: re-sealed under a fresh DEK with the new scope bound into the associated data, id,
   * pin and creation time kept. The new record is written before the old one is removed, so a
   * crash in between leaves both (never neither).
   */
  async moveSecret(name: string, from: SecretScope, to: SecretScope): Promise<SecretMeta> {
    checkSecretName(name);
    if (scopeLabel(from) === scopeLabel(to)) throw new AivaultError('usage', `secret ${name} is already ${scopeLabel(to)}`);
    const src = this.recordPath(name, from);
    const meta = await this.write((m, kek) => {
      const old = this.readRecordAt(src);
      if (!old) throw new AivaultError('secret_not_found', `secret ${name} (${scopeLabel(from)}) is not in the vault`);
      const dst = this.recordPath(name, to);
      if (this.readRecordAt(dst)) throw new AivaultError('secret_exists', `secret ${name} already exists (${scopeLabel(to)})`);
      const value = openRecord(old, kek, m.kekId, src);
      const rec = sealRecord({ id: old.id, name, scope: to, pinnedProvider: old.pinnedProvider, value, createdAt: old.createdAt }, kek, m.kekId);
      this.writeRecord(dst, rec);
      removeFile(src);
      return toMeta(rec, dst);
    });
    for (const k of this.values.keys()) if (k.startsWith(src + '\0')) this.values.delete(k);
    this.emit({ event: 'secret.moved', name, from: scopeLabel(from), to: scopeLabel(to) });
    return meta;
  }

  async deleteSecret(name: string, opts: { scope?: SecretScope } = {}): Promise<{ name: string; scope: SecretScope; file: string }> {
    checkSecretName(name);
    const scope = opts.scope ?? GLOBAL;
    const file = this.recordPath(name, scope);
    this.ensureDirs();
    await withLock(this.paths.lock, () => {
      // A corrupt record can still be deleted by name: it is the way to get rid of it.
      if (readFileIfExists(file) === undefined) throw new AivaultError('secret_not_found', `secret ${name} (${scopeLabel(scope)}) is not in the vault`);
      removeFile(file);
    });
    for (const k of this.values.keys()) if (k.startsWith(file + '\0')) this.values.delete(k);
    this.emit({ event: 'secret.deleted', name, scope: scopeLabel(scope) });
    return { name, scope, file };
  }

  /** Stores entries (created, or rotated when the value changed) under one lock. Names are validated first. */
  async importEntries(entries: Array<{ key: string; value: string }>, opts: { scope?: SecretScope; source?: string } = {}): Promise<ImportResult> {
    const scope = opts.scope ?? GLOBAL;
    const last = new Map<string, string>();
    for (const e of entries) {
      checkSecretName(e.key);
      last.set(e.key, e.value);
    }
    for (const [k, v] of last) if (v === '') throw new AivaultError('usage', `${opts.source ?? 'import'}: ${k} has an empty value`);
    const result: ImportResult = { created: [], rotated: [], unchanged: [] };
    const pinned: Array<[string, string]> = [];
    await this.write(async (m, kek) => {
      for (const [name, value] of last) {
        const file = this.recordPath(name, scope);
        const old = this.readRecordAt(file);
        if (old) {
          if ((await this.decrypt(old, file)) === value) {
            result.unchanged.push(name);
            continue;
          }
          this.writeRecord(file, sealRecord({ id: old.id, name, scope, pinnedProvider: old.pinnedProvider, value, createdAt: old.createdAt }, kek, m.kekId));
          result.rotated.push(name);
        } else {
          const pin = this.pinFor(name);
          this.writeRecord(file, sealRecord({ name, scope, pinnedProvider: pin, value }, kek, m.kekId));
          result.created.push(name);
          if (pin) pinned.push([name, pin]);
        }
      }
    });
    this.emit({
      event: 'secret.imported',
      ...(opts.source !== undefined ? { source: opts.source } : {}),
      scope: scopeLabel(scope),
      created: result.created,
      rotated: result.rotated,
      unchanged: result.unchanged.length,
    });
    for (const [name, provider] of pinned) this.emit({ event: 'secret.pinned', name, provider });
    return result;
  }

  /** `secrets import --env-file`: dotenv syntax, nothing executed or expanded. */
  async importEnvFile(file: string, opts: { scope?: SecretScope } = {}): Promise<ImportResult> {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new AivaultError('usage', `cannot read env file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { file });
    }
    const { parseDotenv } = await import('../dotenv/parse.js');
    const entries = parseDotenv(text, file);
    if (entries.length === 0) throw new AivaultError('usage', `${file}: no KEY=VALUE entries`);
    return this.importEntries(entries, { ...opts, source: file });
  }

  // ---------------------------------------------------------------- credentials & capabilities

  listCredentials(): StoredCredential[] {
    return readCredentials(this.paths.credentials);
  }

  async createCredential(input: CredentialInput): Promise<StoredCredential> {
    const def = validateCredentialInput(input, this.registry);
    for (const name of Object.values(def.secrets)) {
      const claimant = this.registry.claimantOf(name);
      if (claimant && claimant.provider !== def.provider) {
        throw new AivaultError('secret_pinned', `secret ${name} is pinned to provider '${claimant.provider}'; a credential for '${def.provider}' cannot use it`);
      }
    }
    this.ensureDirs();
    const cred = await withLock(this.paths.lock, () => {
      for (const s of this.recordFiles()) {
        let rec: SecretRecord | undefined;
        try {
          rec = this.readRecordAt(s);
        } catch {
          continue;
        }
        if (rec && Object.values(def.secrets).includes(rec.name) && rec.pinnedProvider !== null && rec.pinnedProvider !== def.provider) {
          throw new AivaultError('secret_pinned', `secret ${rec.name} is pinned to provider '${rec.pinnedProvider}'; a credential for '${def.provider}' cannot use it`);
        }
      }
      const list = readCredentials(this.paths.credentials);
      if (list.some((c) => c.id === def.id)) throw new AivaultError('usage', `credential '${def.id}' already exists`);
      const c: StoredCredential = { ...def, createdAt: new Date().toISOString() };
      writeCredentials(this.paths.credentials, [...list, c]);
      return c;
    });
    this.emit({ event: 'credential.created', credential: cred.id, provider: cred.provider, hosts: cred.hosts, secretNames: Object.values(cred.secrets), auth: cred.auth.strategy });
    return cred;
  }

  async deleteCredential(id: string): Promise<void> {
    this.ensureDirs();
    await withLock(this.paths.lock, () => {
      const list = readCredentials(this.paths.credentials);
      if (!list.some((c) => c.id === id)) {
        if (this.registry.provider(id)) throw new AivaultError('usage', `'${id}' is a built-in credential; delete its secret instead`);
        throw new AivaultError('credential_not_found', `credential '${id}' not found`);
      }
      writeCredentials(this.paths.credentials, list.filter((c) => c.id !== id));
    });
    this.emit({ event: 'credential.deleted', credential: id });
  }

  listCustomCapabilities(): Capability[] {
    return readCapabilities(this.paths.capabilities).map(({ createdAt: _c, ...rest }) => ({ ...rest, custom: true }));
  }

  /** Per-capability policies (limits, response blocklists), by capability id. */
  listCapabilityPolicies(): Record<string, CapabilityPolicy> {
    return readPolicies(policiesFile(this.paths.root));
  }

  /** Replace (or with `null` remove) the policy of capability `id`; audited. */
  async setCapabilityPolicy(id: string, policy: CapabilityPolicy | null): Promise<void> {
    this.ensureDirs();
    await withLock(this.paths.lock, () => {
      const file = policiesFile(this.paths.root);
      const all = readPolicies(file);
      if (policy === null) delete all[id];
      else all[id] = policy;
      writePolicies(file, all);
    });
    this.emit({ event: 'capability.policy', capability: id, ...(policy ? { limits: policy.limits ?? {}, blockResponseFields: policy.blockResponseFields ?? [] } : { cleared: true }) });
  }

  async createCapability(input: CapabilityInput): Promise<Capability> {
    const def = validateCapabilityInput(input, this.registry);
    this.ensureDirs();
    const cap = await withLock(this.paths.lock, () => {
      const list = readCapabilities(this.paths.capabilities);
      if (list.some((c) => c.id === def.id)) throw new AivaultError('usage', `capability '${def.id}' already exists`);
      const c: StoredCapability = { ...def, createdAt: new Date().toISOString() };
      writeCapabilities(this.paths.capabilities, [...list, c]);
      return c;
    });
    this.emit({ event: 'capability.created', capability: cap.id, provider: cap.provider, hosts: cap.hosts, methods: cap.methods, pathPrefixes: cap.pathPrefixes });
    const { createdAt: _c, ...rest } = cap;
    return { ...rest, custom: true };
  }

  async deleteCapability(id: string): Promise<void> {
    this.ensureDirs();
    await withLock(this.paths.lock, () => {
      const list = readCapabilities(this.paths.capabilities);
      if (!list.some((c) => c.id === id)) {
        if (this.registry.capability(id)) throw new AivaultError('usage', `'${id}' is a built-in capability and cannot be deleted`);
        throw new AivaultError('capability_not_found', `capability '${id}' not found`);
      }
      writeCapabilities(this.paths.capabilities, list.filter((c) => c.id !== id));
    });
    this.emit({ event: 'capability.deleted', capability: id });
  }

  // ---------------------------------------------------------------- key management

  /**
   * `aivault init`: choose the key provider. Allowed on a new vault, or to switch an initialised
   * vault that holds no secrets yet; otherwise use rotateMaster.
   */
  async init(spec: KeyProviderSpec): Promise<VaultStatus> {
    this.ensureDirs();
    await withLock(this.paths.lock, async () => {
      const prev = this.meta();
      if (prev) {
        if (this.recordFiles().length > 0) {
          throw new AivaultError(
            'usage',
            `the vault at ${this.paths.root} is already initialised (${prev.keyProvider.type} provider) and holds secrets; use 'aivault rotate-master --provider ${spec.type}' to switch`,
          );
        }
      }
      const next = await this.writeNewMeta(spec, undefined);
      if (prev && prev.kekId !== next.kekId) await retireKek(prev, next, this.keyContext());
    });
    return this.status();
  }

  /**
   * Re-wraps every DEK under a new KEK, all or nothing: (1) add a wrap under the new key to every
   * record, (2) switch vault.json to the new key in one atomic rename (the commit point), (3) drop
   * the old wraps and retire the old key. A crash before (2) leaves the old key in charge; after
   * (2) every record already opens with the new key.
   */
  async rotateMaster(spec?: KeyProviderSpec): Promise<VaultStatus & { rotated: number }> {
    const meta = this.meta();
    if (!meta) throw new AivaultError('usage', `the vault at ${this.paths.root} is not initialised yet; nothing to rotate`);
    const oldKek = await this.unlock(meta);
    const target = spec ?? this.defaultRotationSpec(meta);
    const ctx = this.keyContext();
    const nk = await newKek(target, ctx, { reuseFileKey: false, previousKekId: meta.kekId });
    let count = 0;
    await withLock(this.paths.lock, async () => {
      const cur = this.meta();
      if (!cur || cur.kekId !== meta.kekId) throw new AivaultError('vault_locked', 'the master key changed concurrently; retry');
      const files = this.recordFiles();
      const staged: Array<{ file: string; rec: SecretRecord }> = [];
      for (const file of files) {
        const rec = this.readRecordAt(file);
        if (!rec) continue;
        staged.push({ file, rec: addWrap(rec, oldKek, meta.kekId, nk.kek, nk.kekId, file) });
      }
      await nk.stage();
      for (const s of staged) this.writeRecord(s.file, s.rec);
      const next: VaultMeta = { v: 1, keyProvider: nk.config, kekId: nk.kekId, createdAt: meta.createdAt, rotatedAt: new Date().toISOString() };
      writeMeta(this.paths.meta, next); // commit point
      this.unlocked = { kekId: nk.kekId, kek: Promise.resolve(nk.kek) };
      this.values.clear();
      for (const s of staged) {
        try {
          this.writeRecord(s.file, keepOnlyWrap(s.rec, nk.kekId));
        } catch {
          // committed already; a leftover old wrap is removed by the next rotation
        }
      }
      await retireKek(meta, next, ctx);
      count = staged.length;
      this.cleanTempFiles();
    });
    this.emit({ event: 'master.rotated', fromProvider: meta.keyProvider.type, toProvider: nk.config.type, fromFingerprint: meta.kekId, toFingerprint: nk.kekId, records: count });
    return { ...(await this.status()), rotated: count };
  }

  private defaultRotationSpec(meta: VaultMeta): KeyProviderSpec {
    switch (meta.keyProvider.type) {
      case 'file':
        return { type: 'file' };
      case 'keychain':
        return { type: 'keychain' };
      case 'env':
        throw new AivaultError('usage', "the env key provider needs the new key: aivault rotate-master --provider env --key-env NEW_VAR");
      case 'passphrase':
        throw new AivaultError('usage', 'rotating a passphrase vault needs the new passphrase');
    }
  }

  /** Removes temp files left by a crashed writer (older than a minute). */
  private cleanTempFiles(): void {
    for (const dir of [this.paths.root, this.paths.secretsDir]) {
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        if (!n.startsWith('.') || !n.endsWith('.tmp')) continue;
        const p = path.join(dir, n);
        try {
          if (Date.now() - fs.statSync(p).mtimeMs > 60_000) fs.unlinkSync(p);
        } catch {
          /* ignore */
        }
      }
    }
  }

  async status(): Promise<VaultStatus> {
    const meta = this.meta();
    const { secrets, problems } = await this.scanSecrets();
    let creds = 0;
    let caps = 0;
    try {
      creds = this.listCredentials().length;
    } catch {
      /* reported by credential list */
    }
    try {
      caps = this.listCustomCapabilities().length;
    } catch {
      /* reported by capability list */
    }
    const s: VaultStatus = {
      initialized: meta !== undefined,
      provider: meta?.keyProvider.type ?? null,
      fingerprint: meta?.kekId ?? null,
      dir: this.paths.root,
      secretCount: secrets.length,
      corruptCount: problems.length,
      customCredentials: creds,
      customCapabilities: caps,
    };
    if (!meta || meta.keyProvider.type === 'file') s.keyFile = this.paths.keyFile;
    if (meta?.keyProvider.type === 'env') s.keyEnv = meta.keyProvider.keyEnv;
    return s;
  }
}
