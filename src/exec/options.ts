/**
 * Normalised `aivault exec` options (SPEC §5). The CLI layer (src/cli/commands/exec.ts) only splits
 * argv and calls parse(); everything that gives the values meaning lives here. All failures are
 * AivaultError('usage'), which `exec` reports with exit 125.
 */
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import { parseDuration } from './duration.js';
import type { ProfileDef } from './profile.js';
import { resolveSandbox, type RawSandboxArgs, type SandboxOptions } from './sandbox-options.js';

/** What the command line gave, as parsed (strings, repeatable flags as arrays). */
export interface RawExecArgs {
  allow?: string[];
  credential?: string;
  passEnv?: string[];
  setEnv?: string[];
  envFile?: string[];
  fromEnv?: string[];
  timeout?: string;
  workspaceId?: string;
  groupId?: string;
  quiet?: boolean;
  profile?: string;
  /** --sandbox, --sandbox-*, --no-sandbox (see sandbox-options.ts) */
  sandbox?: RawSandboxArgs;
  intercept?: boolean;
  egress?: string;
  egressAllow?: string[];
  /** argv after `--`, byte-exact. */
  command: string[];
}

export interface ExecOptions {
  /** Capability ids or `provider/*`, deduplicated, in order. */
  allow: string[];
  credential?: string;
  passEnv: string[];
  /** --set-env pairs (profile first, then CLI; later wins per name). */
  setEnv: Record<string, string>;
  /** Names in setEnv that came from the profile → 'profile setEnv' (for messages). */
  setEnvOrigin?: Record<string, string>;
  /** Absolute paths, in order (later files override earlier). */
  envFiles: string[];
  fromEnv: string[];
  timeoutMs?: number;
  workspaceId?: string;
  groupId?: string;
  quiet: boolean;
  /** undefined: not sandboxed */
  sandbox?: SandboxOptions;
  /** --intercept (SPEC §10): the broker is also the child's HTTPS proxy. */
  intercept: boolean;
  /** Hosts outside the grant through the proxy: tunnelled (allow) or refused (deny). */
  egress: 'allow' | 'deny';
  /** --egress-allow hosts (or `*.domain`), lower-case. */
  egressAllow: string[];
  command: string[];
}

/**
 * The egress default. Hook for `--sandbox-net=broker` (SPEC §9): there the proxy is the only way
 * out and hosts outside the grant are refused unless --egress-allow names them, so a sandbox mode
 * of `broker` makes the default `deny`.
 */
export function defaultEgress(sandboxNet: string | undefined): 'allow' | 'deny' {
  return sandboxNet === 'broker' ? 'deny' : 'allow';
}

function parseEgress(v: string): 'allow' | 'deny' {
  if (v === 'allow' || v === 'deny') return v;
  throw new AivaultError('usage', `--egress: expected allow or deny, got '${v.slice(0, 40)}'`);
}

function parseEgressHost(h: string): string {
  const host = h.trim().toLowerCase();
  if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(host) && !/^[0-9.]+$|^[0-9a-f:]+$/.test(host))
    throw new AivaultError('usage', `--egress-allow: '${h.slice(0, 80)}' is not a host name (HOST or *.DOMAIN, no scheme or port)`);
  return host;
}

export function validateEnvName(name: string, flag: string): string {
  if (name === '' || name.includes('=') || name.includes('\0')) {
    throw new AivaultError('usage', `${flag}: invalid variable name '${name.replace(/\0/g, '\\0')}'`);
  }
  return name;
}

/** Splits a repeatable flag's values on commas, trims, drops empties, deduplicates. */
export function splitList(values: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    for (const part of v.split(',')) {
      const t = part.trim();
      if (t && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

export function parseSetEnv(pair: string): [string, string] {
  const i = pair.indexOf('=');
  if (i <= 0) throw new AivaultError('usage', `--set-env: expected NAME=VALUE, got '${pair.split('=')[0] ?? ''}'`);
  const name = validateEnvName(pair.slice(0, i), '--set-env');
  const value = pair.slice(i + 1);
  if (value.includes('\0')) throw new AivaultError('usage', `--set-env ${name}: value contains a NUL byte`);
  return [name, value];
}

/**
 * Merges a profile (may be undefined) with the command line. Lists add (profile first), scalars
 * given on the command line override the profile's, --set-env overrides the profile's per name.
 * `profileDir` resolves the profile's env-file paths; `cwd` the command line's.
 */
export function resolveExecOptions(
  raw: RawExecArgs,
  profile?: ProfileDef,
  profileDir?: string,
  cwd: string = process.cwd(),
  projectSandbox?: boolean | 'broker',
): ExecOptions {
  if (raw.command.length === 0) throw new AivaultError('usage', "missing command: aivault exec [options] -- COMMAND [ARGS...]");
  const allow = splitList([...(profile?.allow ?? []), ...(raw.allow ?? [])]);
  const passEnv = splitList([...(profile?.passEnv ?? []), ...(raw.passEnv ?? [])]).map((n) => validateEnvName(n, '--pass-env'));
  const fromEnv = splitList([...(profile?.fromEnv ?? []), ...(raw.fromEnv ?? [])]).map((n) => validateEnvName(n, '--from-env'));
  const setEnv: Record<string, string> = {};
  const setEnvOrigin: Record<string, string> = {};
  for (const [k, v] of Object.entries(profile?.setEnv ?? {})) {
    setEnv[validateEnvName(k, 'profile setEnv')] = v;
    setEnvOrigin[k] = 'profile setEnv';
  }
  for (const pair of raw.setEnv ?? []) {
    const [k, v] = parseSetEnv(pair);
    delete setEnv[k];
    delete setEnvOrigin[k];
    setEnv[k] = v;
  }
  const envFiles = [
    ...(profile?.envFile ?? []).map((f) => path.resolve(profileDir ?? cwd, f)),
    ...(raw.envFile ?? []).map((f) => path.resolve(cwd, f)),
  ];
  const timeoutText = raw.timeout ?? (profile?.timeout === undefined ? undefined : String(profile.timeout));
  const opts: ExecOptions = {
    allow,
    passEnv,
    setEnv,
    envFiles,
    fromEnv,
    quiet: raw.quiet ?? profile?.quiet ?? false,
    intercept: raw.intercept ?? profile?.intercept ?? false,
    egress: 'allow',
    egressAllow: splitList([...(profile?.egressAllow ?? []), ...(raw.egressAllow ?? [])]).map(parseEgressHost),
    command: raw.command,
  };
  if (Object.keys(setEnvOrigin).length) opts.setEnvOrigin = setEnvOrigin;
  if (!opts.intercept && (raw.egress !== undefined || (raw.egressAllow?.length ?? 0) > 0))
    throw new AivaultError('usage', '--egress and --egress-allow apply to the proxy: add --intercept');
  const credential = raw.credential ?? profile?.credential;
  if (credential !== undefined) opts.credential = credential;
  if (timeoutText !== undefined) opts.timeoutMs = parseDuration(timeoutText);
  const ws = raw.workspaceId ?? profile?.workspaceId;
  if (ws !== undefined) opts.workspaceId = ws;
  const grp = raw.groupId ?? profile?.groupId;
  if (grp !== undefined) opts.groupId = grp;
  const sandbox = resolveSandbox(raw.sandbox ?? {}, profile?.sandbox ?? projectSandbox, cwd);
  if (sandbox) opts.sandbox = sandbox;
  opts.egress = parseEgress(raw.egress ?? profile?.egress ?? defaultEgress(sandbox?.net));
  return opts;
}
