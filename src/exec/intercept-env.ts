/**
 * The child's environment under `exec --intercept` (SPEC §10), and the CA files it points at.
 *
 * - HTTPS_PROXY / HTTP_PROXY (and lower-case) = http://aivault:<token>@127.0.0.1:<port>,
 *   NO_PROXY / no_proxy = 127.0.0.1,localhost (base-URL sdkEnv traffic goes to the broker directly).
 * - A CA bundle (system roots + the run CA) in SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE,
 *   GIT_SSL_CAINFO, DENO_CERT; NODE_EXTRA_CA_CERTS = the run CA alone (Node adds it to its roots).
 * - Placeholders: a provider's key variables hold its placeholderPrefix + the run token. Key
 *   variables: its claimed secret name when it claims exactly one, its sdkEnv entries that are
 *   exactly `{{token}}`, and its `keyEnv` list.
 * Pure except writeCaFiles.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ProviderDef } from '../registry/types.js';

export const PROXY_VARS = ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'] as const;
export const NO_PROXY_VARS = ['NO_PROXY', 'no_proxy'] as const;
export const CA_BUNDLE_VARS = ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'DENO_CERT'] as const;
export const CA_ONLY_VARS = ['NODE_EXTRA_CA_CERTS'] as const;
/** Every name the proxy layer sets (refused for --pass-env/--set-env like sdkEnv names). */
export const INTERCEPT_VARS: readonly string[] = [...PROXY_VARS, ...NO_PROXY_VARS, ...CA_BUNDLE_VARS, ...CA_ONLY_VARS];

/** Well-known system bundle locations (Debian/Ubuntu/Alpine, Fedora/RHEL, openSUSE, macOS Homebrew). */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

export type KeyProvider = Pick<ProviderDef, 'vaultSecrets' | 'sdkEnv' | 'placeholderPrefix' | 'keyEnv'>;

/** The key variable names of a provider. */
export function keyVarsOf(p: KeyProvider): string[] {
  const out: string[] = [];
  const add = (n: string): void => {
    if (!out.includes(n)) out.push(n);
  };
  const claimed = Object.keys(p.vaultSecrets ?? {});
  if (claimed.length === 1) add(claimed[0]!);
  for (const [k, v] of Object.entries(p.sdkEnv ?? {})) if (/^\s*\{\{\s*token\s*\}\}\s*$/.test(v)) add(k);
  for (const k of p.keyEnv ?? []) add(k);
  return out;
}

export function placeholderOf(p: KeyProvider, token: string): string {
  return (p.placeholderPrefix ?? '') + token;
}

export interface InterceptEnvInput {
  port: number;
  token: string;
  caPath: string;
  bundlePath: string;
  providers: readonly KeyProvider[];
}

export function interceptEnv(i: InterceptEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  const proxy = `http://aivault:${i.token}@127.0.0.1:${i.port}`;
  for (const k of PROXY_VARS) env[k] = proxy;
  for (const k of NO_PROXY_VARS) env[k] = '127.0.0.1,localhost';
  for (const k of CA_BUNDLE_VARS) env[k] = i.bundlePath;
  for (const k of CA_ONLY_VARS) env[k] = i.caPath;
  for (const p of i.providers) for (const k of keyVarsOf(p)) env[k] = placeholderOf(p, i.token);
  return env;
}

/** The system's trusted roots as PEM: the distribution bundle when present, else Node's own list. */
export function systemRootsPem(rootCertificates: readonly string[]): string {
  for (const f of SYSTEM_BUNDLES) {
    try {
      const text = fs.readFileSync(f, 'utf8');
      if (text.includes('BEGIN CERTIFICATE')) return text.endsWith('\n') ? text : text + '\n';
    } catch {
      /* next */
    }
  }
  return rootCertificates.join('\n') + '\n';
}

/** Writes run-ca.pem (the run CA) and ca-bundle.pem (roots + run CA), 0644, in the run's temp dir. */
export function writeCaFiles(dir: string, caPem: string, rootsPem: string): { caPath: string; bundlePath: string } {
  const caPath = path.join(dir, 'run-ca.pem');
  const bundlePath = path.join(dir, 'ca-bundle.pem');
  fs.writeFileSync(caPath, caPem, { mode: 0o644 });
  fs.writeFileSync(bundlePath, rootsPem + caPem, { mode: 0o644 });
  return { caPath, bundlePath };
}

/** --pass-env/--set-env/profile setEnv may not replace what the proxy layer sets (SPEC §5: names the run sets). */
export function refusedOverride(names: Iterable<string>, providers: readonly KeyProvider[]): string | undefined {
  const keyVars = new Set(providers.flatMap(keyVarsOf));
  for (const n of names) if (INTERCEPT_VARS.includes(n) || keyVars.has(n)) return n;
  return undefined;
}
