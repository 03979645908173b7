/**
 * --env-file / --from-env (SPEC §5). Entries are classified:
 *   - a name a provider claims (OPENAI_API_KEY, ...) → an in-memory secret for this run only
 *     (handed to the catalog, never written to the vault, never put in the child env);
 *   - a secret-shaped name, or a value carrying credentials (URL with user:password@) → withheld
 *     with a warning naming it, unless --pass-env names it;
 *   - AIVAULT_* names → withheld (launcher settings never reach the child);
 *   - anything else → passed to the child.
 * Later files override earlier ones; --from-env entries override files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import { isLauncherSetting } from './env.js';

export const SECRET_SHAPED_NAME = /KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|AUTH|SESSION|COOKIE/i;

/** A URL with a non-empty password in its userinfo (`scheme://user:pass@host`), anywhere in the value. */
const CREDENTIAL_URL = /[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*:[^\s/?#@]+@/i;

export function isSecretShapedName(name: string): boolean {
  return SECRET_SHAPED_NAME.test(name);
}

export function carriesCredentials(value: string): boolean {
  return CREDENTIAL_URL.test(value);
}

export interface RunEnvEntry {
  key: string;
  value: string;
  /** Where it came from, for messages: a file path or `--from-env`. */
  source: string;
}

export type WithheldReason = 'secret-shaped name' | 'credentials in value' | 'launcher setting';

export interface ClassifiedRunEnv {
  /** Claimed secret name → value: run-only secrets for the catalog. */
  ephemeral: Map<string, string>;
  /** Passed to the child. */
  passthrough: Record<string, string>;
  /** Withheld names (values never reported) with the reason. */
  withheld: Array<{ name: string; reason: WithheldReason }>;
  /** Every withheld value by name, so that --pass-env NAME can release it. */
  withheldValues: Map<string, string>;
}

/**
 * Pure classification. `claimed(name)` tells whether a provider claims the name.
 * Later entries override earlier ones with the same key.
 */
export function classifyRunEnv(entries: readonly RunEnvEntry[], claimed: (name: string) => boolean): ClassifiedRunEnv {
  const last = new Map<string, string>();
  for (const e of entries) {
    last.delete(e.key); // keep insertion order = order of last definition
    last.set(e.key, e.value);
  }
  const out: ClassifiedRunEnv = { ephemeral: new Map(), passthrough: {}, withheld: [], withheldValues: new Map() };
  for (const [key, value] of last) {
    if (claimed(key)) {
      out.ephemeral.set(key, value);
      continue;
    }
    let reason: WithheldReason | undefined;
    if (isLauncherSetting(key)) reason = 'launcher setting';
    else if (isSecretShapedName(key)) reason = 'secret-shaped name';
    else if (carriesCredentials(value)) reason = 'credentials in value';
    if (reason) {
      out.withheld.push({ name: key, reason });
      out.withheldValues.set(key, value);
    } else {
      out.passthrough[key] = value;
    }
  }
  return out;
}

export type DotenvParser = (text: string, file?: string) => Array<{ key: string; value: string; line?: number }>;

/**
 * Reads the env files (in order) and the --from-env names from the launcher's environment.
 * A missing or unreadable file, or a --from-env name that is not set, is an exec setup error.
 */
export function readRunEnv(
  files: readonly string[],
  fromEnv: readonly string[],
  parentEnv: Readonly<Record<string, string | undefined>>,
  parseDotenv: DotenvParser,
  cwd: string = process.cwd(),
): RunEnvEntry[] {
  const entries: RunEnvEntry[] = [];
  for (const f of files) {
    const abs = path.resolve(cwd, f);
    let text: string;
    try {
      text = fs.readFileSync(abs, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new AivaultError('exec_setup', `cannot read env file ${f} (${code})`, { file: abs });
    }
    for (const { key, value } of parseDotenv(text, f)) entries.push({ key, value, source: f });
  }
  for (const name of fromEnv) {
    const v = parentEnv[name];
    if (v === undefined) throw new AivaultError('exec_setup', `--from-env ${name}: not set in the environment`);
    entries.push({ key: name, value: v, source: '--from-env' });
  }
  return entries;
}
