import type { CapabilityPolicy } from './policy-store.js';
import { AivaultError } from '../errors/aivault-error.js';
import type { Registry } from '../registry/load.js';
import type { Capability, Catalog, Credential, ProviderDef, ResolvedSecret } from '../registry/types.js';
import type { ScopeQuery } from './scope.js';
import type { Vault } from './vault.js';

export interface CatalogOptions {
  vault: Vault;
  registry: Registry;
  /** run-only secrets (exec --env-file / --from-env): name -> value; win over the vault's */
  ephemeral?: Map<string, string>;
  workspaceId?: string;
  groupId?: string;
}

export interface CredentialStatus {
  credential: Credential;
  available: boolean;
  /** secret names neither in the vault (for this workspace/group) nor given to the run */
  missing: string[];
}

/** The vault's Catalog: built-ins + custom entries, with availability and lazy decryption. */
export interface VaultCatalog extends Catalog {
  /** custom credential/capability files that could not be read (their entries are left out) */
  readonly problems: AivaultError[];
  /** every defined credential (built-in per provider + custom), available or not */
  allCredentials(): CredentialStatus[];
  /** every effective capability, sorted by id */
  allCapabilities(): Capability[];
  /** availability of a defined credential (built-in or custom), even when unavailable */
  credentialStatus(id: string): CredentialStatus | undefined;
}

function builtinCredential(p: ProviderDef): Credential {
  const secrets: Record<string, string> = {};
  for (const [name, field] of Object.entries(p.vaultSecrets)) secrets[field] = name;
  return { id: p.provider, provider: p.provider, secrets, auth: p.auth, hosts: [...p.hosts], custom: false };
}

const LOCK_CODES = new Set(['passphrase_wrong', 'keychain_unavailable', 'vault_locked']);

export async function openCatalog(opts: CatalogOptions): Promise<VaultCatalog> {
  const { vault, registry } = opts;
  const eph = opts.ephemeral ?? new Map<string, string>();
  const where: ScopeQuery = {};
  if (opts.workspaceId !== undefined) where.workspaceId = opts.workspaceId;
  if (opts.groupId !== undefined) where.groupId = opts.groupId;
  const problems: AivaultError[] = [];

  let customCreds: Credential[] = [];
  try {
    customCreds = vault.listCredentials().map((c) => ({ id: c.id, provider: c.provider, secrets: c.secrets, auth: c.auth, hosts: c.hosts, custom: true }));
  } catch (e) {
    if (e instanceof AivaultError) problems.push(e);
    else throw e;
  }
  let customCaps: Capability[] = [];
  try {
    customCaps = vault.listCustomCapabilities();
  } catch (e) {
    if (e instanceof AivaultError) problems.push(e);
    else throw e;
  }

  // Built-in credentials (id = provider id) are derived on demand: deriving all of them would
  // validate the whole registry, which `aivault exec` does not need (startup time).
  const builtins = new Map<string, Credential | undefined>();
  const builtin = (id: string): Credential | undefined => {
    if (!builtins.has(id)) {
      const p = registry.provider(id);
      builtins.set(id, p && Object.keys(p.vaultSecrets).length > 0 ? builtinCredential(p) : undefined);
    }
    return builtins.get(id);
  };
  const customById = new Map<string, Credential>();
  for (const c of customCreds) customById.set(c.id, c);
  const definedCred = (id: string): Credential | undefined => builtin(id) ?? customById.get(id);
  const allDefined = (): Credential[] => {
    const out = registry.providers.map((p) => builtin(p.provider)).filter((c): c is Credential => c !== undefined);
    for (const c of customCreds) if (!builtin(c.id)) out.push(c);
    return out;
  };
  const definedFor = (provider: string): Credential[] => {
    const out: Credential[] = [];
    const b = builtin(provider);
    if (b) out.push(b);
    for (const c of customCreds) if (c.provider === provider && !builtin(c.id)) out.push(c);
    return out;
  };

  const has = new Map<string, boolean>();
  const present = (name: string): boolean => {
    if (eph.has(name)) return true;
    let v = has.get(name);
    if (v === undefined) {
      v = vault.secretExists(name, where);
      has.set(name, v);
    }
    return v;
  };
  const statusOf = (c: Credential): CredentialStatus => {
    const missing = Object.values(c.secrets).filter((n) => !present(n));
    return { credential: c, available: missing.length === 0, missing };
  };
  const availableCred = (id: string): Credential | undefined => {
    const c = definedCred(id);
    return c && statusOf(c).available ? c : undefined;
  };

  const customCapsOf = (p: string) => customCaps.filter((c) => c.provider === p);
  // per-capability policy (capability policy set): limits and response blocklists over the definition
  let policies: Record<string, CapabilityPolicy> = {};
  try {
    policies = vault.listCapabilityPolicies();
  } catch (e) {
    if (e instanceof AivaultError) problems.push(e);
    else throw e;
  }
  const withPolicy = (c: Capability | undefined): Capability | undefined => {
    const p = c && policies[c.id];
    if (!c || !p) return c;
    const out: Capability = { ...c };
    if (p.limits) out.limits = { ...c.limits, ...p.limits };
    if (p.blockResponseFields) out.blockResponseFields = [...p.blockResponseFields];
    return out;
  };
  const customProviders = new Map<string, ProviderDef>();
  const synthProvider = (id: string): ProviderDef | undefined => {
    const caps = customCapsOf(id);
    const creds = customCreds.filter((c) => c.provider === id);
    if (caps.length === 0 && creds.length === 0) return undefined;
    let p = customProviders.get(id);
    if (!p) {
      const hosts = [...new Set([...creds.flatMap((c) => c.hosts), ...caps.flatMap((c) => c.hosts)])];
      p = {
        provider: id,
        displayName: id,
        category: 'other',
        vaultSecrets: {},
        auth: creds[0]?.auth ?? { strategy: 'header', header: 'authorization', template: 'Bearer {{secret}}' },
        hosts,
        capabilities: caps.map(({ provider: _p, custom: _c, ...def }) => def),
      };
      customProviders.set(id, p);
    }
    return p;
  };

  const catalog: VaultCatalog = {
    problems,
    getProvider: (id) => registry.provider(id) ?? synthProvider(id),
    getCapability: (id) => withPolicy(registry.capability(id) ?? customCaps.find((c) => c.id === id)),
    capabilitiesOf: (p) => [...registry.capabilitiesOf(p), ...customCapsOf(p)].map((c) => withPolicy(c)!),
    getCredential: (id) => availableCred(id),
    credentialsFor: (p) => definedFor(p).filter((c) => statusOf(c).available),
    allCredentials: () => allDefined().map(statusOf).sort((a, b) => (a.credential.id < b.credential.id ? -1 : 1)),
    allCapabilities: () => [...registry.capabilities, ...customCaps].map((c) => withPolicy(c)!).sort((a, b) => (a.id < b.id ? -1 : 1)),
    credentialStatus: (id) => {
      const c = definedCred(id);
      return c ? statusOf(c) : undefined;
    },
    async resolveSecrets(cred: Credential): Promise<ResolvedSecret[]> {
      const out: ResolvedSecret[] = [];
      for (const [field, name] of Object.entries(cred.secrets)) {
        let value: string;
        let pinned: string | undefined;
        const e = eph.get(name);
        if (e !== undefined) {
          value = e;
          pinned = registry.claimantOf(name)?.provider;
        } else {
          try {
            const r = await vault.readSecret(name, where);
            value = r.value;
            pinned = r.meta.pinnedProvider ?? undefined;
          } catch (err) {
            if (err instanceof AivaultError && LOCK_CODES.has(err.code) && err.code !== 'vault_locked') {
              throw new AivaultError('vault_locked', err.message, { cause: err });
            }
            throw err;
          }
        }
        if (pinned !== undefined && pinned !== cred.provider) {
          throw new AivaultError('policy_violation', `secret ${name} is pinned to provider '${pinned}' and cannot be used by credential '${cred.id}'`);
        }
        const rs: ResolvedSecret = { field, name, value };
        if (pinned !== undefined) rs.pinnedProvider = pinned;
        out.push(rs);
      }
      return out;
    },
    async updateSecret(cred, field, fn) {
      const name = cred.secrets[field];
      if (name === undefined) throw new AivaultError('policy_violation', `credential '${cred.id}' has no secret for field '${field}'`);
      const e = eph.get(name);
      if (e !== undefined) {
        // a run-only secret (--env-file / --from-env): rotated in memory for this run
        const next = await fn(e);
        if (next !== undefined) eph.set(name, next);
        return next ?? e;
      }
      const meta = vault.findSecret(name, where);
      if (meta?.pinnedProvider && meta.pinnedProvider !== cred.provider)
        throw new AivaultError('policy_violation', `secret ${name} is pinned to provider '${meta.pinnedProvider}' and cannot be used by credential '${cred.id}'`);
      return vault.updateSecretLocked(name, where, fn);
    },
  };
  return catalog;
}
