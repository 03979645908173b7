/**
 * `aivault credential create` auth flags (SPEC §3) → an auth spec plus the secret map. Parsing
 * only; the registry validator checks the details (src/registry/validate*.ts).
 *
 * Single-secret strategies take `--secret NAME` (or `--secret field=NAME`). Multi-secret ones name
 * each secret by flag: oauth2 --client-id-secret/--client-secret-secret/--refresh-token-secret,
 * aws-sigv4 --access-key-id-secret/--secret-access-key-secret/--session-token-secret,
 * mtls --cert-secret/--key-secret, hmac --secret (the key).
 */
import { usage } from '../args.js';

export const AUTH_OPTIONS = {
  auth: { type: 'string' },
  'header-name': { type: 'string' },
  'value-template': { type: 'string' },
  'query-param': { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  'path-prefix': { type: 'string' },
  header: { type: 'string', multiple: true },
  query: { type: 'string', multiple: true },
  grant: { type: 'string' },
  'token-url': { type: 'string' },
  'authorize-url': { type: 'string' },
  'client-id-secret': { type: 'string' },
  'client-secret-secret': { type: 'string' },
  'refresh-token-secret': { type: 'string' },
  scope: { type: 'string', multiple: true },
  'client-auth': { type: 'string' },
  region: { type: 'string' },
  service: { type: 'string' },
  'access-key-id-secret': { type: 'string' },
  'secret-access-key-secret': { type: 'string' },
  'session-token-secret': { type: 'string' },
  'hmac-algorithm': { type: 'string' },
  'hmac-header': { type: 'string' },
  'hmac-template': { type: 'string' },
  'hmac-value': { type: 'string' },
  'hmac-timestamp-header': { type: 'string' },
  'hmac-nonce-header': { type: 'string' },
  'hmac-encoding': { type: 'string' },
  'hmac-key-encoding': { type: 'string' },
  'cert-secret': { type: 'string' },
  'key-secret': { type: 'string' },
} as const;

export type AuthFlags = { [K in keyof typeof AUTH_OPTIONS]?: (typeof AUTH_OPTIONS)[K] extends { multiple: true } ? string[] | undefined : string | undefined };

const STRATEGY_FLAGS: Record<string, Array<keyof AuthFlags>> = {
  header: ['header-name', 'value-template'],
  query: ['query-param', 'value-template'],
  basic: ['username', 'password'],
  path: ['path-prefix'],
  'multi-header': ['header'],
  'multi-query': ['query'],
  oauth2: ['grant', 'token-url', 'authorize-url', 'client-id-secret', 'client-secret-secret', 'refresh-token-secret', 'scope', 'client-auth'],
  'aws-sigv4': ['region', 'service', 'access-key-id-secret', 'secret-access-key-secret', 'session-token-secret'],
  hmac: ['hmac-algorithm', 'hmac-header', 'hmac-template', 'hmac-value', 'hmac-timestamp-header', 'hmac-nonce-header', 'hmac-encoding', 'hmac-key-encoding'],
  mtls: ['cert-secret', 'key-secret'],
};
const ALL_FLAGS = [...new Set(Object.values(STRATEGY_FLAGS).flat())];
const NAMES = Object.keys(STRATEGY_FLAGS).join(', ');

/** `NAME=TEMPLATE` pairs of --header / --query. */
function pairs(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usage(`--${flag} takes NAME='TEMPLATE' (e.g. --${flag} x-api-key='{{secret}}')`);
    const name = item.slice(0, eq).trim();
    if (Object.prototype.hasOwnProperty.call(out, name)) throw usage(`--${flag} '${name}' given twice`);
    out[name] = item.slice(eq + 1);
  }
  if (Object.keys(out).length === 0) throw usage(`--auth multi-${flag} needs at least one --${flag} NAME='TEMPLATE'`);
  return out;
}

function need(f: AuthFlags, flag: keyof AuthFlags, strategy: string, example: string): string {
  const v = f[flag];
  if (typeof v !== 'string' || v === '') throw usage(`--auth ${strategy} needs --${flag} ${example}`);
  return v;
}

/**
 * The auth spec (undefined: the provider's own) and the secrets map. `secrets` holds what
 * `--secret` gave; multi-secret strategies add their named secrets to it.
 */
export function authFromFlags(f: AuthFlags, secrets: Record<string, string>): { auth: unknown; secrets: Record<string, string> } {
  const s = f.auth;
  const allowed = s === undefined ? [] : STRATEGY_FLAGS[s];
  if (s !== undefined && allowed === undefined) throw usage(`unsupported --auth '${s}' (${NAMES})`);
  for (const n of ALL_FLAGS) {
    if (f[n] === undefined || allowed!.includes(n)) continue;
    if (s === 'query' && n === 'value-template') continue;
    throw usage(s === undefined ? `--${n} needs --auth (${NAMES})` : `--${n} does not apply to --auth ${s}`);
  }
  const fields = Object.keys(secrets);
  const only = fields.length === 1 ? `{{${fields[0]}}}` : undefined;
  const template = f['value-template'] ?? only;
  const named = (map: Record<string, string | undefined>): Record<string, string> => {
    const out = { ...secrets };
    for (const [field, name] of Object.entries(map)) {
      if (name === undefined) continue;
      if (Object.prototype.hasOwnProperty.call(out, field)) throw usage(`secret field '${field}' given twice`);
      out[field] = name;
    }
    return out;
  };
  switch (s) {
    case undefined:
      return { auth: undefined, secrets };
    case 'header':
      if (f['header-name'] === undefined) throw usage('--auth header needs --header-name NAME');
      if (template === undefined) throw usage('--auth header needs --value-template (e.g. "Bearer {{secret}}")');
      return { auth: { strategy: 'header', header: f['header-name'], template }, secrets };
    case 'query':
      if (f['query-param'] === undefined) throw usage('--auth query needs --query-param NAME');
      if (template === undefined) throw usage('--auth query needs --value-template (e.g. "{{secret}}")');
      return { auth: { strategy: 'query', param: f['query-param'], template }, secrets };
    case 'basic': {
      const two = fields.includes('username') && fields.includes('password');
      return { auth: { strategy: 'basic', username: f.username ?? (two ? '{{username}}' : (only ?? '')), password: f.password ?? (two ? '{{password}}' : '') }, secrets };
    }
    case 'path':
      if (f['path-prefix'] === undefined) throw usage('--auth path needs --path-prefix (e.g. "/bot{{secret}}")');
      return { auth: { strategy: 'path', prefix: f['path-prefix'] }, secrets };
    case 'multi-header':
      return { auth: { strategy: 'multi-header', headers: pairs(f.header, 'header') }, secrets };
    case 'multi-query':
      return { auth: { strategy: 'multi-query', params: pairs(f.query, 'query') }, secrets };
    case 'oauth2': {
      const grant = need(f, 'grant', 'oauth2', 'client_credentials|refresh_token');
      const auth: Record<string, unknown> = { strategy: 'oauth2', grant, tokenUrl: need(f, 'token-url', 'oauth2', 'https://HOST/PATH') };
      if (f.scope) auth.scopes = f.scope;
      if (f['client-auth'] !== undefined) auth.clientAuth = f['client-auth'];
      if (f['authorize-url'] !== undefined) auth.authorizeUrl = f['authorize-url'];
      return {
        auth,
        secrets: named({
          clientId: need(f, 'client-id-secret', 'oauth2', 'NAME'),
          clientSecret: f['client-secret-secret'],
          refreshToken: grant === 'refresh_token' ? need(f, 'refresh-token-secret', 'oauth2 --grant refresh_token', 'NAME') : f['refresh-token-secret'],
        }),
      };
    }
    case 'aws-sigv4':
      return {
        auth: { strategy: 'aws-sigv4', region: need(f, 'region', 'aws-sigv4', 'REGION'), service: need(f, 'service', 'aws-sigv4', 'SERVICE') },
        secrets: named({
          accessKeyId: need(f, 'access-key-id-secret', 'aws-sigv4', 'NAME'),
          secretAccessKey: need(f, 'secret-access-key-secret', 'aws-sigv4', 'NAME'),
          sessionToken: f['session-token-secret'],
        }),
      };
    case 'hmac': {
      if (!fields.includes('secret')) throw usage('--auth hmac needs --secret NAME (the signing key)');
      const auth: Record<string, unknown> = { strategy: 'hmac', algorithm: need(f, 'hmac-algorithm', 'hmac', 'sha256|sha512'), header: need(f, 'hmac-header', 'hmac', 'HEADER') };
      if (f['hmac-template'] !== undefined) auth.template = f['hmac-template'];
      if (f['hmac-value'] !== undefined) auth.value = f['hmac-value'];
      if (f['hmac-timestamp-header'] !== undefined) auth.timestampHeader = f['hmac-timestamp-header'];
      if (f['hmac-nonce-header'] !== undefined) auth.nonceHeader = f['hmac-nonce-header'];
      if (f['hmac-encoding'] !== undefined) auth.encoding = f['hmac-encoding'];
      if (f['hmac-key-encoding'] !== undefined) auth.keyEncoding = f['hmac-key-encoding'];
      return { auth, secrets };
    }
    case 'mtls':
      return { auth: { strategy: 'mtls' }, secrets: named({ cert: need(f, 'cert-secret', 'mtls', 'NAME'), key: need(f, 'key-secret', 'mtls', 'NAME') }) };
    default:
      throw usage(`unsupported --auth '${s}' (${NAMES})`);
  }
}

/** Strategies whose secrets are all named by their own flags (no --secret needed). */
export function namesOwnSecrets(auth: string | undefined): boolean {
  return auth === 'oauth2' || auth === 'aws-sigv4' || auth === 'mtls';
}
