/**
 * Run setup (SPEC §5), all before any child exists; every failure is an AivaultError that `exec`
 * reports on one line with exit 125: unknown capability, missing secret, locked vault, refused
 * --pass-env.
 */
import { AivaultError } from '../errors/aivault-error.js';
import type { Capability, Catalog, Credential, ProviderDef } from '../registry/types.js';
import { isLauncherSetting, isRiskyName } from './env.js';
import type { ClassifiedRunEnv } from './env-file.js';

/** The slice of the vault catalog that exec needs (src/vault/catalog.ts VaultCatalog). */
export interface ExecCatalog extends Catalog {
  credentialStatus?(id: string): { credential: Credential; available: boolean; missing: string[] } | undefined;
  allCredentials?(): Array<{ credential: Credential; available: boolean; missing: string[] }>;
}

/** Expands --allow values (ids and `provider/*`) into capabilities; unknown ones fail. */
export function resolveCapabilities(allow: readonly string[], catalog: Catalog): Capability[] {
  const out = new Map<string, Capability>();
  for (const id of allow) {
    const star = /^([^/]+)\/\*$/.exec(id);
    if (star) {
      const provider = star[1]!;
      const caps = catalog.capabilitiesOf(provider);
      if (!catalog.getProvider(provider) || caps.length === 0) {
        throw new AivaultError('capability_not_found', `--allow ${id}: unknown provider '${provider}' (see aivault capability list)`);
      }
      for (const c of caps) out.set(c.id, c);
      continue;
    }
    const cap = catalog.getCapability(id);
    if (!cap) throw new AivaultError('capability_not_found', `--allow ${id}: unknown capability (see aivault capability list)`);
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
 * Checks that every allowed provider has a usable credential, decrypting its secrets once so that
 * a locked vault or a missing/corrupt secret fails now (125) instead of at the first request.
 * Returns the credentials per provider.
 */
export async function checkCredentials(
  providers: readonly string[],
  catalog: ExecCatalog,
  credentialId: string | undefined,
): Promise<Map<string, Credential[]>> {
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

export interface PassEnvCheck {
  /** name → value to give the child */
  values: Record<string, string>;
  /** names that were not set anywhere (skipped, with a notice) */
  unset: string[];
}

/**
 * --pass-env: a claimed name, a launcher setting (AIVAULT_*), or a value equal to a stored secret
 * or to a run secret is refused. The value comes from the env files/--from-env when they define
 * the name (that is how a withheld secret-shaped entry is released), else from the launcher's env.
 * `containsValue` (which decrypts the vault) is only called when --pass-env is used.
 */
export async function checkPassEnv(
  names: readonly string[],
  parentEnv: Readonly<Record<string, string | undefined>>,
  runEnv: ClassifiedRunEnv,
  claimantOf: (name: string) => ProviderDef | undefined,
  containsValue: (value: string) => Promise<boolean>,
): Promise<PassEnvCheck> {
  const values: Record<string, string> = {};
  const unset: string[] = [];
  const runSecrets = new Set(runEnv.ephemeral.values());
  for (const name of names) {
    const claimant = claimantOf(name);
    if (claimant) {
      throw new AivaultError('usage', `--pass-env ${name}: refused, ${name} belongs to provider '${claimant.provider}' and is brokered (use --allow ${claimant.provider}/...)`);
    }
    if (isLauncherSetting(name)) throw new AivaultError('usage', `--pass-env ${name}: refused, AIVAULT_* settings never reach the child`);
    const value = runEnv.withheldValues.get(name) ?? runEnv.passthrough[name] ?? parentEnv[name];
    if (value === undefined) {
      unset.push(name);
      continue;
    }
    if (value !== '' && (runSecrets.has(value) || (await containsValue(value)))) {
      throw new AivaultError('usage', `--pass-env ${name}: refused, its value is a secret aivault brokers`);
    }
    values[name] = value;
  }
  return { values, unset };
}

/** Names among --set-env/--pass-env that deserve a warning. */
export function riskyNames(names: Iterable<string>): string[] {
  return [...names].filter(isRiskyName);
}
