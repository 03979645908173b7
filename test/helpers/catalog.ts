/**
 * An in-memory Catalog for broker tests: the shipped registry (loadRegistry) plus a Map of secret
 * values, plus optional custom credentials/capabilities. Built-in credentials exist for every
 * provider whose claimed secrets are all present (id = provider id, like the vault's catalog);
 * those secrets are pinned to their provider.
 */
import { loadRegistry } from '../../src/registry/load.js';
import { AivaultError } from '../../src/errors/aivault-error.js';
import type { Capability, Catalog, Credential, ProviderDef, ResolvedSecret } from '../../src/registry/types.js';

export interface TestCatalogOptions {
  secrets: Record<string, string>;
  credentials?: Credential[];
  capabilities?: Capability[];
  providers?: ProviderDef[];
  /** make resolveSecrets throw vault_locked */
  locked?: boolean;
}

export interface TestCatalog extends Catalog {
  /** how many times resolveSecrets ran */
  resolveCount: number;
}

export function testCatalog(opts: TestCatalogOptions): TestCatalog {
  const reg = loadRegistry();
  const providers = new Map<string, ProviderDef>();
  for (const p of reg.providers) providers.set(p.provider, p);
  for (const p of opts.providers ?? []) providers.set(p.provider, p);
  const claimant = new Map<string, string>();
  for (const p of providers.values()) for (const name of Object.keys(p.vaultSecrets)) claimant.set(name, p.provider);

  const caps = new Map<string, Capability>();
  for (const c of reg.capabilities) caps.set(c.id, c);
  for (const p of opts.providers ?? [])
    for (const c of p.capabilities) caps.set(c.id, { ...c, provider: p.provider, custom: false, hosts: c.hosts ?? [] });
  for (const c of opts.capabilities ?? []) caps.set(c.id, c);

  const creds = new Map<string, Credential>();
  for (const p of providers.values()) {
    const names = Object.keys(p.vaultSecrets);
    if (names.length === 0 || !names.every((n) => n in opts.secrets)) continue;
    const secrets: Record<string, string> = {};
    for (const [name, field] of Object.entries(p.vaultSecrets)) secrets[field] = name;
    creds.set(p.provider, { id: p.provider, provider: p.provider, secrets, auth: p.auth, hosts: [...p.hosts], custom: false });
  }
  for (const c of opts.credentials ?? []) creds.set(c.id, c);

  const cat: TestCatalog = {
    resolveCount: 0,
    getProvider: (id) => providers.get(id),
    getCapability: (id) => caps.get(id),
    capabilitiesOf: (provider) => [...caps.values()].filter((c) => c.provider === provider),
    getCredential: (id) => creds.get(id),
    credentialsFor: (provider) => [...creds.values()].filter((c) => c.provider === provider),
    async resolveSecrets(credential: Credential): Promise<ResolvedSecret[]> {
      cat.resolveCount++;
      if (opts.locked) throw new AivaultError('vault_locked', 'the vault is locked');
      return Object.entries(credential.secrets).map(([field, name]) => {
        const value = opts.secrets[name];
        if (value === undefined) throw new AivaultError('secret_not_found', `secret ${name} is not stored`);
        const pin = claimant.get(name);
        return pin ? { field, name, value, pinnedProvider: pin } : { field, name, value };
      });
    },
  };
  return cat;
}

/** An AuditSink that keeps events in memory. */
export function memoryAudit(): { events: Array<Record<string, unknown>>; append(e: Record<string, unknown> & { event: string }): void; flush(): Promise<void> } {
  const events: Array<Record<string, unknown>> = [];
  return {
    events,
    append(e) {
      events.push({ ts: new Date().toISOString(), ...e });
    },
    async flush() {},
  };
}
