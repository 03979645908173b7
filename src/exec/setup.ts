/**
 * Run setup (SPEC §5), all before any child exists; every failure is an AivaultError that `exec`
 * reports on one line with exit 125: unknown capability, missing secret, locked vault. Refused
 * --pass-env/--set-env names are checked in child-vars.ts.
 */
import { AivaultError } from '../errors/aivault-error.js';
import type { Capability, Catalog, Credential } from '../registry/types.js';
import { didYouMean } from '../registry/suggest.js';

/** The slice of the vault catalog that exec needs (src/vault/catalog.ts VaultCatalog). */
export interface ExecCatalog extends Catalog {
  credentialStatus?(id: string): { credential: Credential; available: boolean; missing: string[] } | undefined;
  allCredentials?(): Array<{ credential: Credential; available: boolean; missing: string[] }>;
}

/**
 * Expands --allow values (ids and `provider/*`) into capabilities; unknown ones fail, with a
 * "did you mean" among `knownIds()` (called only on that error path) and the typed provider's own.
 */
export function resolveCapabilities(allow: readonly string[], catalog: Catalog, knownIds: () => string[] = () => []): Capability[] {
  const hint = (id: string): string => {
    const prov = id.split('/')[0] ?? '';
    return didYouMean(id, [...knownIds(), ...catalog.capabilitiesOf(prov).map((c) => c.id)]);
  };
  const out = new Map<string, Capability>();
  for (const id of allow) {
    const star = /^([^/]+)\/\*$/.exec(id);
    if (star) {
      const provider = star[1]!;
      const caps = catalog.capabilitiesOf(provider);
      if (!catalog.getProvider(provider) || caps.length === 0) {
        throw new AivaultError('capability_not_found', `--allow ${id}: unknown provider '${provider}'${hint(id)} (see aivault capability list)`);
      }
      for (const c of caps) out.set(c.id, c);
      continue;
    }
    const cap = catalog.getCapability(id);
    if (!cap) throw new AivaultError('capability_not_found', `--allow ${id}: unknown capability${hint(id)} (see aivault capability list)`);
    out.set(cap.id, cap);
  }
  return [...out.values()];
}

/** Providers of the allowed capabilities, in first-seen order. */
export function providersOf(caps: readonly Capability[]): string[] {
  const out: string[] = [];
  for (const c of caps) if (!out.includes(c.provider)) out.push(c.provider);
  return out;
}

function missingMessage(provider: string, catalog: ExecCatalog): string {
  const defined = catalog.allCredentials?.().filter((s) => s.credential.provider === provider) ?? [];
  const names = [...new Set(defined.flatMap((s) => s.missing))];
  const p = catalog.getProvider(provider);
  const claimed = names.length ? names : Object.keys(p?.vaultSecrets ?? {});
  const what = claimed.length ? claimed.join(', ') : 'a credential';
  return `no secret for provider '${provider}': store ${what} (aivault secrets create) or give it to this run with --env-file/--from-env`;
}

/**
 * Before the command starts (cheap, no decryption): every allowed provider has a credential whose
 * secrets are all present (stored or given to the run), and an explicit --credential exists and
 * belongs to an allowed provider. Returns the candidate credentials per provider.
 */
export function chooseCredentials(providers: readonly string[], catalog: ExecCatalog, credentialId: string | undefined): Map<string, Credential[]> {
  const out = new Map<string, Credential[]>();
  let explicit: Credential | undefined;
  if (credentialId !== undefined) {
    explicit = catalog.getCredential(credentialId);
    if (!explicit) {
      const st = catalog.credentialStatus?.(credentialId);
      if (st && !st.available) {
        throw new AivaultError('secret_not_found', `--credential ${credentialId}: missing secret ${st.missing.join(', ')} (aivault secrets create, or --env-file/--from-env)`);
      }
      throw new AivaultError('credential_not_found', `--credential ${credentialId}: no such credential (see aivault credential list)`);
    }
    if (!providers.includes(explicit.provider)) {
      throw new AivaultError('usage', `--credential ${credentialId}: provider '${explicit.provider}' has no allowed capability`);
    }
  }
  for (const p of providers) {
    const creds = explicit && explicit.provider === p ? [explicit] : catalog.credentialsFor(p);
    if (creds.length === 0) throw new AivaultError('secret_not_found', missingMessage(p, catalog));
    out.set(p, creds);
  }
  return out;
}

/** Secret names the chosen credentials read from the vault (not given to the run). */
export function storedSecretNames(chosen: Map<string, Credential[]>, runOnly: ReadonlyMap<string, string>): string[] {
  const out = new Set<string>();
  for (const creds of chosen.values()) for (const c of creds) for (const n of Object.values(c.secrets)) if (!runOnly.has(n)) out.add(n);
  return [...out];
}

/**
 * Decrypts each provider's candidate secrets once: a record that does not decrypt (corrupt file,
 * wrong key) or a secret pinned to another provider fails here. `aivault exec` runs this while
 * the command boots (README "Start-up"); the broker answers such a provider's requests with the
 * same error (vault_locked / policy_violation) and exec exits 125 after the command.
 * Returns the usable credentials per provider.
 */
export async function verifyCredentials(chosen: Map<string, Credential[]>, catalog: ExecCatalog): Promise<Map<string, Credential[]>> {
  const out = new Map<string, Credential[]>();
  for (const [p, creds] of chosen) {
    let firstError: unknown;
    const usable: Credential[] = [];
    for (const c of creds) {
      try {
        await catalog.resolveSecrets(c);
        usable.push(c);
      } catch (e) {
        firstError ??= e;
      }
    }
    if (usable.length === 0) throw firstError;
    out.set(p, usable);
  }
  return out;
}
