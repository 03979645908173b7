/**
 * The child's environment, built from nothing (SPEC §5). Pure: everything it reads is passed in,
 * so it is table-tested without spawning anything.
 *
 * Layers, later wins:
 *   1. the allow-list of harmless variables copied from the launcher's environment;
 *   2. non-secret names from --env-file / --from-env (already classified by env-file.ts);
 *   3. AIVAULT_BASE_URL, AIVAULT_TOKEN, AIVAULT_RUN_ID;
 *   4. the sdkEnv of every allowed provider ({{baseUrl}}, {{token}} rendered), plus the
 *      SDK config-dir isolation variables (sdk-isolation.ts);
 *   5. --pass-env values, then --set-env values (explicit user choice).
 * Nothing else: no real secret, no KEK, no AIVAULT_* launcher setting, no NODE_OPTIONS unless the
 * user names it explicitly.
 */
import type { ProviderDef } from '../registry/types.js';

/** Copied from the parent when present (exact names). */
export const ENV_ALLOWLIST: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'COLORTERM',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'TMP',
  'TEMP',
  'NO_COLOR',
  'FORCE_COLOR',
  'CI',
];

/** Additionally copied on Windows (where env names are case-insensitive). */
export const ENV_ALLOWLIST_WINDOWS: readonly string[] = [
  'SystemRoot',
  'windir',
  'ComSpec',
  'PATHEXT',
  'ProgramData',
  'APPDATA',
  'LOCALAPPDATA',
  'USERPROFILE',
];

/** Names the launcher reserves for itself in the child (layer 3). */
export const RUN_VARS = ['AIVAULT_BASE_URL', 'AIVAULT_TOKEN', 'AIVAULT_RUN_ID'] as const;

/** Whether `name` is copied from the parent environment. */
export function isAllowlisted(name: string, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'win32') {
    const up = name.toUpperCase();
    if (up === 'PATH' && name !== 'PATH') return true; // Windows spells it `Path`
    return (
      ENV_ALLOWLIST.some((n) => n.toUpperCase() === up) ||
      ENV_ALLOWLIST_WINDOWS.some((n) => n.toUpperCase() === up) ||
      up.startsWith('LC_')
    );
  }
  return ENV_ALLOWLIST.includes(name) || name.startsWith('LC_');
}

/** `AIVAULT_*` names are launcher settings (AIVAULT_DIR, AIVAULT_PASSPHRASE, AIVAULT_DEV_*, ...). */
export function isLauncherSetting(name: string): boolean {
  return name.toUpperCase().startsWith('AIVAULT_');
}

/** Names whose explicit --set-env / --pass-env earns a warning (code injection into the child). */
export function isRiskyName(name: string): boolean {
  const up = name.toUpperCase();
  return up === 'NODE_OPTIONS' || up === 'LD_PRELOAD' || up === 'LD_LIBRARY_PATH' || up.startsWith('DYLD_');
}

/** Renders `{{baseUrl}}` / `{{token}}` in an sdkEnv value. Unknown placeholders are left alone. */
export function renderSdkValue(template: string, vars: { baseUrl: string; token: string }): string {
  return template.replace(/\{\{\s*(baseUrl|token)\s*\}\}/g, (_m, k: 'baseUrl' | 'token') => vars[k]);
}

export interface ChildEnvInput {
  /** The launcher's own environment (only allow-listed names are read from it). */
  parentEnv: Readonly<Record<string, string | undefined>>;
  platform?: NodeJS.Platform;
  baseUrl: string;
  token: string;
  runId: string;
  /** Providers with at least one allowed capability, in a stable order. */
  providers: readonly Pick<ProviderDef, 'provider' | 'sdkEnv'>[];
  /** Non-secret names from --env-file / --from-env, already filtered. */
  fileEnv?: Readonly<Record<string, string>>;
  /** Extra variables that isolate SDK config-file fallbacks (e.g. ANTHROPIC_CONFIG_DIR). */
  isolationEnv?: Readonly<Record<string, string>>;
  /** --pass-env names with their (already checked) values. */
  passEnv?: Readonly<Record<string, string>>;
  /** --set-env NAME=VALUE pairs. */
  setEnv?: Readonly<Record<string, string>>;
}

/** Builds the child's environment. Returns a fresh null-prototype-free plain object. */
export function buildChildEnv(input: ChildEnvInput): Record<string, string> {
  const platform = input.platform ?? process.platform;
  const env: Record<string, string> = {};
  const put = (k: string, v: string) => {
    if (platform === 'win32') {
      // Keep one spelling per case-insensitive name: the later layer replaces the earlier one.
      for (const existing of Object.keys(env)) if (existing.toUpperCase() === k.toUpperCase()) delete env[existing];
    }
    env[k] = v;
  };
  for (const [k, v] of Object.entries(input.parentEnv)) {
    if (typeof v === 'string' && isAllowlisted(k, platform)) put(k, v);
  }
  for (const [k, v] of Object.entries(input.fileEnv ?? {})) {
    if (isLauncherSetting(k)) continue;
    put(k, v);
  }
  put('AIVAULT_BASE_URL', input.baseUrl);
  put('AIVAULT_TOKEN', input.token);
  put('AIVAULT_RUN_ID', input.runId);
  const vars = { baseUrl: input.baseUrl, token: input.token };
  for (const p of input.providers) {
    for (const [k, tpl] of Object.entries(p.sdkEnv ?? {})) put(k, renderSdkValue(tpl, vars));
  }
  for (const [k, v] of Object.entries(input.isolationEnv ?? {})) put(k, v);
  for (const [k, v] of Object.entries(input.passEnv ?? {})) put(k, v);
  for (const [k, v] of Object.entries(input.setEnv ?? {})) put(k, v);
  return env;
}
