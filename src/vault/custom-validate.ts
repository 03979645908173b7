import { normalizeHostInput } from '../registry/host-input.js';
import { AivaultError } from '../errors/aivault-error.js';
import {
  validateAuthSpec,
  validateCapabilityDef,
  validateHosts,
  validateProviderId,
  type Registry,
} from '../registry/load.js';
import type { AuthSpec } from '../registry/types.js';
import type { StoredCapability, StoredCredential } from './custom-store.js';
import { checkSecretName } from './record.js';

/** What `credential create` supplies. `auth`/`hosts` default to the provider's when it is built in. */
export interface CredentialInput {
  id: string;
  provider: string;
  /** template field -> secret name, e.g. {secret: 'MY_KEY'} */
  secrets: Record<string, string>;
  auth?: unknown;
  hosts?: string[];
}

/** What `capability create` supplies. */
export interface CapabilityInput {
  id: string;
  provider: string;
  hosts: string[];
  methods: string[];
  pathPrefixes: string[];
  description?: string;
}

const CRED_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const FIELD = /^[a-z][A-Za-z0-9_]{0,63}$/;

/** Validation errors in user input are usage errors (exit 2), same messages as the registry's. */
function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof AivaultError && e.code === 'registry_invalid') throw new AivaultError('usage', e.message);
    throw e;
  }
}

export function validateCredentialInput(input: CredentialInput, registry: Registry): Omit<StoredCredential, 'createdAt'> {
  const where = 'credential create';
  return asUsage(() => {
    if (!CRED_ID.test(input.id)) throw new AivaultError('usage', `${where}: id: invalid credential id '${input.id}' (lowercase letters, digits, . _ -)`);
    if (registry.provider(input.id)) {
      throw new AivaultError('usage', `${where}: id: '${input.id}' is the built-in credential of provider '${input.id}'; choose another id`);
    }
    const provider = validateProviderId(input.provider, where, 'provider');
    const builtin = registry.provider(provider);
    const fields = Object.keys(input.secrets);
    if (fields.length === 0) throw new AivaultError('usage', `${where}: --secret is required`);
    for (const f of fields) if (!FIELD.test(f)) throw new AivaultError('usage', `${where}: secret field '${f}' is invalid (e.g. secret, username, password)`);
    for (const n of Object.values(input.secrets)) checkSecretName(n);
    let auth: AuthSpec;
    if (input.auth !== undefined) auth = validateAuthSpec(input.auth, where, fields, 'auth');
    else if (builtin) auth = validateAuthSpec(builtin.auth, where, fields, 'auth (the provider\'s)');
    else throw new AivaultError('usage', `${where}: --auth is required for custom provider '${provider}'`);
    let hosts: string[];
    if (input.hosts !== undefined && input.hosts.length > 0) hosts = validateHosts(input.hosts.map(normalizeHostInput), where, 'hosts');
    else if (builtin) hosts = [...builtin.hosts];
    else throw new AivaultError('usage', `${where}: --host is required for custom provider '${provider}'`);
    if (builtin) {
      for (const h of hosts) {
        if (!builtin.hosts.includes(h)) throw new AivaultError('usage', `${where}: host '${h}' is not one of provider '${provider}' hosts (${builtin.hosts.join(', ')})`);
      }
    }
    if (auth.strategy === 'oauth2') {
      const th = new URL(auth.tokenUrl).hostname;
      if (!hosts.includes(th) && !(builtin?.hosts ?? []).includes(th))
        throw new AivaultError('usage', `${where}: --token-url host '${th}' must be one of the credential's hosts (${hosts.join(', ')}) or its provider's`);
    }
    return { id: input.id, provider, secrets: { ...input.secrets }, auth, hosts };
  });
}

export function validateCapabilityInput(input: CapabilityInput, registry: Registry): Omit<StoredCapability, 'createdAt'> {
  const where = 'capability create';
  return asUsage(() => {
    const provider = validateProviderId(input.provider, where, 'provider');
    const id = input.id.includes('/') ? input.id : `${provider}/${input.id}`;
    if (registry.capability(id)) throw new AivaultError('usage', `${where}: id: '${id}' is a built-in capability`);
    const builtin = registry.provider(provider);
    if (input.hosts.length === 0) throw new AivaultError('usage', `${where}: --host is required (at least one)`);
    if (input.methods.length === 0) throw new AivaultError('usage', `${where}: --method is required (at least one)`);
    if (input.pathPrefixes.length === 0) throw new AivaultError('usage', `${where}: --path-prefix is required (at least one; '/' allows every path)`);
    const def = validateCapabilityDef(
      {
        id,
        hosts: input.hosts.map(normalizeHostInput),
        methods: input.methods.map((m) => m.toUpperCase()),
        pathPrefixes: input.pathPrefixes,
        ...(input.description !== undefined ? { description: input.description } : {}),
      },
      where,
      builtin ? { provider, providerHosts: builtin.hosts } : { provider },
    );
    return { ...def, provider };
  });
}
