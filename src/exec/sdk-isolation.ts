/**
 * Some official SDKs fall back to config files when their env vars are incomplete; inside a run they
 * must only ever see the broker. For each allowed provider listed here, the child gets the named
 * variables pointed at an empty, run-private directory (removed at teardown).
 *
 * - anthropic: @anthropic-ai/sdk reads profiles/credentials from `ANTHROPIC_CONFIG_DIR`, else
 *   `$XDG_CONFIG_HOME/anthropic`, else `~/.config/anthropic` (core/credentials.js). Pointing
 *   ANTHROPIC_CONFIG_DIR at an empty dir means no local profile can replace the broker token.
 * - openai: the SDK reads only env vars (OPENAI_BASE_URL, OPENAI_API_KEY, ...); nothing to do.
 */
export const SDK_CONFIG_DIR_VARS: Readonly<Record<string, readonly string[]>> = {
  anthropic: ['ANTHROPIC_CONFIG_DIR'],
};

/** Variables to add for these providers, all pointing at `emptyDir`. */
export function isolationEnv(providers: readonly string[], emptyDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of providers) for (const name of SDK_CONFIG_DIR_VARS[p] ?? []) out[name] = emptyDir;
  return out;
}

export function needsIsolationDir(providers: readonly string[]): boolean {
  return providers.some((p) => (SDK_CONFIG_DIR_VARS[p]?.length ?? 0) > 0);
}
