/**
 * Loads and validates the provider registry (registry/*.json, one provider per file, SPEC §3).
 * Loading is all-or-nothing: any invalid file, duplicate provider id or secret name claimed by two
 * providers throws AivaultError('registry_invalid', '<file>: <field>: <problem>').
 */
import fs from 'node:fs';
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import { defaultRegistryDir } from './locate.js';
import { validateProvider } from './validate.js';
import type { Capability, ProviderDef } from './types.js';

export {
  validateProvider,
  validateCapabilityDef,
  validateAuthSpec,
  validateSdkEnv,
  validateHost,
  validateHosts,
  validateMethods,
  validatePathPrefix,
  validatePathPrefixes,
  validateHeaderName,
  validateQueryParam,
  validateProviderId,
  validateSecretName,
  validateCapabilityId,
  templateFields,
  AUTH_STRATEGIES,
  HTTP_METHODS,
  CATEGORIES,
} from './validate.js';
export { defaultRegistryDir } from './locate.js';

export interface Registry {
  /** Sorted by provider id. */
  providers: ProviderDef[];
  provider(id: string): ProviderDef | undefined;
  /** The provider that claims (pins) this secret name, if any. */
  claimantOf(secretName: string): ProviderDef | undefined;
  capability(id: string): Capability | undefined;
  /** Every built-in capability, sorted by id. */
  capabilities: Capability[];
  /** A provider's built-in capabilities (empty for unknown providers). */
  capabilitiesOf(provider: string): Capability[];
}

const cache = new Map<string, Registry>();

export function loadRegistry(dir?: string): Registry {
  const root = path.resolve(dir ?? defaultRegistryDir());
  const hit = cache.get(root);
  if (hit) return hit;
  const reg = buildRegistry(readProviders(root));
  cache.set(root, reg);
  return reg;
}

function readProviders(root: string): Array<{ file: string; def: ProviderDef }> {
  let names: string[];
  try {
    names = fs.readdirSync(root).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    throw new AivaultError('registry_invalid', `${root}: cannot read registry folder (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { file: root });
  }
  return names.map((name) => {
    const file = path.join(root, name);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new AivaultError('registry_invalid', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { file });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : 'parse error';
      throw new AivaultError('registry_invalid', `${file}: (file): invalid JSON: ${why}`, { file });
    }
    const def = deepFreeze(validateProvider(json, file));
    const expected = name.slice(0, -'.json'.length);
    if (def.provider !== expected) {
      throw new AivaultError('registry_invalid', `${file}: provider: '${def.provider}' does not match the file name '${name}'`, { file });
    }
    return { file, def };
  });
}

/** Builds the lookup structure; also used by tests and by callers holding already-validated defs. */
export function buildRegistry(entries: Array<{ file: string; def: ProviderDef }>): Registry {
  const byId = new Map<string, ProviderDef>();
  const claims = new Map<string, ProviderDef>();
  const caps = new Map<string, Capability>();
  const capsOf = new Map<string, Capability[]>();
  for (const { file, def } of entries) {
    if (byId.has(def.provider)) throw new AivaultError('registry_invalid', `${file}: provider: duplicate provider id '${def.provider}'`, { file });
    byId.set(def.provider, def);
    for (const name of Object.keys(def.vaultSecrets)) {
      const other = claims.get(name);
      if (other) throw new AivaultError('registry_invalid', `${file}: vaultSecrets.${name}: already claimed by provider '${other.provider}'`, { file });
      claims.set(name, def);
    }
    const list: Capability[] = [];
    for (const c of def.capabilities) {
      if (caps.has(c.id)) throw new AivaultError('registry_invalid', `${file}: capabilities: duplicate capability id '${c.id}'`, { file });
      const cap: Capability = deepFreeze({ ...c, provider: def.provider, custom: false });
      caps.set(c.id, cap);
      list.push(cap);
    }
    capsOf.set(def.provider, list);
  }
  const providers = [...byId.values()].sort((a, b) => (a.provider < b.provider ? -1 : 1));
  const capabilities = [...caps.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const own = (m: Map<string, unknown>, k: string) => typeof k === 'string' && m.has(k);
  return {
    providers,
    capabilities,
    provider: (id) => (own(byId, id) ? byId.get(id) : undefined),
    claimantOf: (name) => (own(claims, name) ? claims.get(name) : undefined),
    capability: (id) => (own(caps, id) ? caps.get(id) : undefined),
    capabilitiesOf: (p) => [...(capsOf.get(p) ?? [])],
  };
}

/** Loaded definitions are shared by every caller in the process: make them immutable. */
function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as Record<string, unknown>)) deepFreeze(x);
  }
  return v;
}
