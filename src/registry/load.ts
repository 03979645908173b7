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

interface RawEntry {
  file: string;
  /** provider id expected from the file name */
  id: string;
  json: unknown;
}

/**
 * Loads the registry. With an explicit `dir` every file is validated at once (all or nothing).
 * The shipped registry (no `dir`) is validated per provider on first use: `aivault exec` touches
 * two or three providers, and validating all fifty cost ~12 ms of its startup. Nothing is ever
 * used unvalidated, the cross-provider rules (duplicate ids, secret names, capability ids) are
 * still checked for every file at load, a file whose indexed fields are malformed is validated
 * (and so rejected) at load, and `npm run build` and the tests validate every shipped file.
 */
export function loadRegistry(dir?: string): Registry {
  if (dir === undefined && typeof __AIVAULT_EMBEDDED_REGISTRY__ !== 'undefined') return embeddedRegistry();
  const root = path.resolve(dir ?? defaultRegistryDir());
  const hit = cache.get(root);
  if (hit) return hit;
  const raw = readRaw(root);
  const reg = dir === undefined ? lazyRegistry(raw) : buildRegistry(raw.map(validateEntry));
  cache.set(root, reg);
  return reg;
}

/** Validates every file of a registry folder now (build step and tests). */
export function validateRegistryDir(dir: string): Registry {
  return buildRegistry(readRaw(path.resolve(dir)).map(validateEntry));
}

/**
 * The CLI bundle carries the shipped registry files' text (scripts/bundle.mjs), so `aivault exec`
 * reads no registry file at all; the entries go through exactly the same validation.
 */
declare const __AIVAULT_EMBEDDED_REGISTRY__: Array<{ name: string; text: string }> | undefined;
let embedded: Registry | undefined;
function embeddedRegistry(): Registry {
  if (!embedded) {
    embedded = lazyRegistry(__AIVAULT_EMBEDDED_REGISTRY__!.map(({ name, text }) => parseEntry(`registry/${name}`, name, text)));
  }
  return embedded;
}

function readRaw(root: string): RawEntry[] {
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
    return parseEntry(file, name, text);
  });
}

/** One provider file's JSON; the provider id expected from its name `<id>.json`. */
function parseEntry(file: string, name: string, text: string): RawEntry {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : 'parse error';
    throw new AivaultError('registry_invalid', `${file}: (file): invalid JSON: ${why}`, { file });
  }
  return { file, id: name.slice(0, -'.json'.length), json };
}

function validateEntry({ file, id, json }: RawEntry): { file: string; def: ProviderDef } {
  const def = deepFreeze(validateProvider(json, file));
  if (def.provider !== id) {
    throw new AivaultError('registry_invalid', `${file}: provider: '${def.provider}' does not match the file name '${id}.json'`, { file });
  }
  return { file, def };
}

/** The fields the lazy index reads, if they have the expected shape; undefined otherwise. */
function indexFields(json: unknown): { provider: unknown; claims: string[]; capIds: string[] } | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  const vs = o.vaultSecrets;
  const caps = o.capabilities;
  if (typeof vs !== 'object' || vs === null || Array.isArray(vs) || !Array.isArray(caps)) return undefined;
  const capIds: string[] = [];
  for (const c of caps) {
    const cid = typeof c === 'object' && c !== null ? (c as Record<string, unknown>).id : undefined;
    if (typeof cid !== 'string') return undefined;
    capIds.push(cid);
  }
  return { provider: o.provider, claims: Object.keys(vs), capIds };
}

function lazyRegistry(raw: RawEntry[]): Registry {
  const entries = new Map<string, RawEntry>();
  const claims = new Map<string, string>();
  const capOwner = new Map<string, string>();
  const done = new Map<string, { def: ProviderDef; caps: Capability[] }>();
  const validated = (id: string) => {
    let v = done.get(id);
    if (!v) {
      const { def } = validateEntry(entries.get(id)!);
      v = { def, caps: def.capabilities.map((c) => deepFreeze({ ...c, provider: def.provider, custom: false })) };
      done.set(id, v);
    }
    return v;
  };
  for (const e of raw) {
    let f = indexFields(e.json);
    if (!f || f.provider !== e.id) {
      // Malformed where the index looks: validate now, so the error names the file and field.
      const { def } = validateEntry(e);
      f = { provider: def.provider, claims: Object.keys(def.vaultSecrets), capIds: def.capabilities.map((c) => c.id) };
    }
    entries.set(e.id, e);
    for (const name of f.claims) {
      const other = claims.get(name);
      if (other !== undefined) throw new AivaultError('registry_invalid', `${e.file}: vaultSecrets.${name}: already claimed by provider '${other}'`, { file: e.file });
      claims.set(name, e.id);
    }
    for (const cid of f.capIds) {
      if (capOwner.has(cid)) throw new AivaultError('registry_invalid', `${e.file}: capabilities: duplicate capability id '${cid}'`, { file: e.file });
      capOwner.set(cid, e.id);
    }
  }
  const ids = [...entries.keys()].sort();
  const own = (m: Map<string, unknown>, k: string) => typeof k === 'string' && m.has(k);
  return {
    get providers() {
      return ids.map((id) => validated(id).def);
    },
    get capabilities() {
      return ids.flatMap((id) => validated(id).caps).sort((a, b) => (a.id < b.id ? -1 : 1));
    },
    provider: (id) => (own(entries, id) ? validated(id).def : undefined),
    claimantOf: (name) => (own(claims, name) ? validated(claims.get(name)!).def : undefined),
    capability: (cid) => (own(capOwner, cid) ? validated(capOwner.get(cid)!).caps.find((c) => c.id === cid) : undefined),
    capabilitiesOf: (p) => (own(entries, p) ? [...validated(p).caps] : []),
  };
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
