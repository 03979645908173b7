/**
 * Some official SDKs fall back to config files when their env vars are incomplete; inside a run they
 * must only ever see the broker. For each allowed provider listed here, the child gets the named
 * variables pointed at an empty, run-private directory (removed at teardown).
 *
 * No shipped provider needs it today:
 * - anthropic: both official SDKs read profiles/credentials from `ANTHROPIC_CONFIG_DIR`, else
 *   `~/.config/anthropic`, but only when no key is in the environment: `ANTHROPIC_API_KEY` (the run
 *   token) wins over every profile (TypeScript: the constructor picks the env key before the default
 *   credential chain, client.js; Python: lib/credentials/_chain.py returns at "step 2a" when
 *   ANTHROPIC_API_KEY is set), and an `ANTHROPIC_BASE_URL` in the environment is never overridden by
 *   a profile's base_url. A run sets both, so a local profile cannot replace the broker (tested in
 *   test/exec/sdk.test.ts with a planted profile). Setting ANTHROPIC_CONFIG_DIR anyway only made
 *   the Python SDK warn on every client ("ANTHROPIC_API_KEY ... takes precedence over ...
 *   auto-discovery": its _has_auto_discoverable_credentials() fires on the variable's mere presence).
 * - openai: the SDK reads only env vars (OPENAI_BASE_URL, OPENAI_API_KEY, ...); nothing to do.
 */
export const SDK_CONFIG_DIR_VARS: Readonly<Record<string, readonly string[]>> = {};

/** Variables to add for these providers, all pointing at `emptyDir`. */
export function isolationEnv(providers: readonly string[], emptyDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of providers) for (const name of SDK_CONFIG_DIR_VARS[p] ?? []) out[name] = emptyDir;
  return out;
}

export function needsIsolationDir(providers: readonly string[]): boolean {
  return providers.some((p) => (SDK_CONFIG_DIR_VARS[p]?.length ?? 0) > 0);
}
