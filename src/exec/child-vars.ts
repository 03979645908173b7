/**
 * The one checker for variables the user hands the child by name (SPEC §5): `--pass-env NAME`,
 * `--set-env NAME=VALUE` and a profile's `setEnv`. Refused (AivaultError 'usage' → exit 125, before
 * any child exists):
 *   - a name a provider claims (OPENAI_API_KEY, ...): it is brokered, the child gets the run token;
 *   - an `AIVAULT_*` name: launcher settings and the run's own AIVAULT_BASE_URL/TOKEN/RUN_ID;
 *   - a name the run's `sdkEnv` sets (OPENAI_BASE_URL, ...): replacing it would point the SDK away
 *     from the broker or swap the run token for something else;
 *   - a value equal to a stored secret (vault.containsValue, also with surrounding whitespace
 *     trimmed) or containing a run secret (--env-file/--from-env provider keys).
 * Names compare case-insensitively (Windows environments are, and `openai_api_key` is a typo
 * nobody means). The check never names a value.
 */
import { AivaultError } from '../errors/aivault-error.js';
import type { ProviderDef } from '../registry/types.js';
import type { ClassifiedRunEnv } from './env-file.js';
import { isLauncherSetting } from './env.js';

export interface ChildVarsInput {
  /** --pass-env names, in order. */
  passEnv: readonly string[];
  /** --set-env / profile setEnv pairs. */
  setEnv: Readonly<Record<string, string>>;
  /** Flag to name in messages per --set-env name (default '--set-env'), e.g. 'profile setEnv'. */
  setEnvOrigin?: Readonly<Record<string, string>>;
  parentEnv: Readonly<Record<string, string | undefined>>;
  runEnv: ClassifiedRunEnv;
  claimantOf: (name: string) => ProviderDef | undefined;
  /** Providers with an allowed capability: their sdkEnv names are the run's. */
  providers: readonly Pick<ProviderDef, 'provider' | 'sdkEnv'>[];
  /** True when `value` equals a stored secret (decrypts the vault; only called when needed). */
  containsValue: (value: string) => Promise<boolean>;
}

export interface ChildVarsCheck {
  /** --pass-env name → value to give the child */
  passValues: Record<string, string>;
  /** --pass-env names that were not set anywhere (skipped, with a notice) */
  unset: string[];
}

function refuse(flag: string, name: string, why: string): never {
  throw new AivaultError('usage', `${flag} ${name}: refused, ${why}`);
}

export async function checkChildVars(input: ChildVarsInput): Promise<ChildVarsCheck> {
  const sdkOwner = new Map<string, string>();
  for (const p of input.providers) for (const k of Object.keys(p.sdkEnv ?? {})) sdkOwner.set(k.toUpperCase(), p.provider);
  const runSecrets = [...input.runEnv.ephemeral.values()].filter((v) => v !== '');

  const checkName = (flag: string, name: string): void => {
    const claimant = input.claimantOf(name) ?? input.claimantOf(name.toUpperCase());
    if (claimant) refuse(flag, name, `${name.toUpperCase()} belongs to provider '${claimant.provider}' and is brokered (use --allow ${claimant.provider}/...)`);
    if (isLauncherSetting(name)) refuse(flag, name, 'AIVAULT_* settings never reach the child (the run sets its own)');
    const owner = sdkOwner.get(name.toUpperCase());
    if (owner) refuse(flag, name, `this run sets it to point ${owner}'s SDK at the broker`);
  };
  const checkValue = async (flag: string, name: string, value: string): Promise<void> => {
    if (value === '') return;
    const trimmed = value.trim();
    const secret =
      runSecrets.some((s) => value.includes(s)) || (await input.containsValue(value)) || (trimmed !== value && trimmed !== '' && (await input.containsValue(trimmed)));
    if (secret) refuse(flag, name, 'its value is a secret aivault brokers');
  };

  const passValues: Record<string, string> = {};
  const unset: string[] = [];
  for (const name of input.passEnv) {
    checkName('--pass-env', name);
    const value = input.runEnv.withheldValues.get(name) ?? input.runEnv.passthrough[name] ?? input.parentEnv[name];
    if (value === undefined) {
      unset.push(name);
      continue;
    }
    await checkValue('--pass-env', name, value);
    passValues[name] = value;
  }
  for (const [name, value] of Object.entries(input.setEnv)) {
    const flag = input.setEnvOrigin?.[name] ?? '--set-env';
    checkName(flag, name);
    await checkValue(flag, name, value);
  }
  return { passValues, unset };
}
