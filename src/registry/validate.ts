/**
 * Fail-closed validation of provider definitions (registry/*.json) and of the pieces users supply
 * for custom credentials/capabilities. Every error names the file (or the command the entry came
 * from) and the field: AivaultError('registry_invalid', '<file>: <field>: <problem>').
 * Errors never quote template contents (a template could be mistyped with a real secret in it).
 */
import { AivaultError } from '../errors/aivault-error.js';
import { validateApiRoot } from './api-root.js';
import type { AuthSpec, AuthStrategyName, CapabilityDef, CapabilityLimits, ProviderDef } from './types.js';
import { validateStrategy } from './validate-strategies.js';

export const AUTH_STRATEGIES: readonly AuthStrategyName[] = [
  'header',
  'query',
  'path',
  'basic',
  'multi-header',
  'multi-query',
  'oauth2',
  'aws-sigv4',
  'hmac',
  'mtls',
];

/** Methods a capability may allow. TRACE and CONNECT are deliberately absent. */
export const HTTP_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export const CATEGORIES: readonly ProviderDef['category'][] = [
  'ai',
  'devtools',
  'communication',
  'payments',
  'productivity',
  'data',
  'other',
];

const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CAPABILITY_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,127}$/;
const TEMPLATE_FIELD = /^[a-z][A-Za-z0-9_]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** RFC 9110 token, lowercase. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
const QUERY_PARAM = /^[A-Za-z0-9._~-]{1,128}$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Placeholders the sdkEnv values may use. */
const SDK_ENV_FIELDS = ['baseUrl', 'token'];

function fail(file: string, field: string, problem: string): never {
  throw new AivaultError('registry_invalid', `${file}: ${field}: ${problem}`, { file });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function record(v: unknown, file: string, field: string): Record<string, unknown> {
  if (!isRecord(v)) fail(file, field, 'must be an object');
  return v;
}

function str(v: unknown, file: string, field: string, opts: { allowEmpty?: boolean } = {}): string {
  if (typeof v !== 'string') fail(file, field, 'must be a string');
  if (!opts.allowEmpty && v.length === 0) fail(file, field, 'must not be empty');
  if (/[\u0000-\u001f\u007f]/.test(v)) fail(file, field, 'must not contain control characters');
  return v;
}

function strList(v: unknown, file: string, field: string): string[] {
  if (!Array.isArray(v)) fail(file, field, 'must be an array of strings');
  if (v.length === 0) fail(file, field, 'must not be empty');
  const seen = new Set<string>();
  return v.map((item, i) => {
    const s = str(item, file, `${field}[${i}]`);
    if (seen.has(s)) fail(file, `${field}[${i}]`, `duplicate entry '${s}'`);
    seen.add(s);
    return s;
  });
}

function noUnknownKeys(obj: Record<string, unknown>, allowed: readonly string[], file: string, field: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(file, field ? `${field}.${k}` : k, 'unknown field');
  }
}

/** The `{{field}}` placeholders of a template; malformed braces are an error. */
export function templateFields(template: string, file: string, field: string): string[] {
  const out: string[] = [];
  const rest = template.replace(/\{\{([^{}]*)\}\}/g, (_m, name: string) => {
    if (!TEMPLATE_FIELD.test(name) && !SDK_ENV_FIELDS.includes(name)) fail(file, field, 'malformed {{placeholder}}');
    out.push(name);
    return '';
  });
  if (rest.includes('{{') || rest.includes('}}')) fail(file, field, 'malformed {{placeholder}}');
  return out;
}

function checkTemplate(
  v: unknown,
  file: string,
  field: string,
  fields: readonly string[],
  opts: { allowEmpty?: boolean; needsPlaceholder?: boolean } = {},
): string {
  const t = str(v, file, field, { allowEmpty: opts.allowEmpty === true });
  const used = templateFields(t, file, field);
  for (const name of used) {
    if (!fields.includes(name)) fail(file, field, `template references unknown field '${name}' (known: ${fields.join(', ') || 'none'})`);
  }
  if (opts.needsPlaceholder && used.length === 0) fail(file, field, 'template must reference a secret field, e.g. {{secret}}');
  return t;
}

/** A lowercase DNS name or a `*.example.com` wildcard. No scheme, port, path or IP literal. */
export function validateHost(v: unknown, file: string, field: string): string {
  const h = str(v, file, field);
  if (h.includes('://')) fail(file, field, `host must not include a scheme: '${h}'`);
  if (h.includes('[') || h.split(':').length > 2) fail(file, field, `host must not be an IP literal: '${h}'`);
  if (h.includes(':')) fail(file, field, `host must not include a port: '${h}'`);
  if (/[/?#@\\]/.test(h)) fail(file, field, `host must not include a path, query or userinfo: '${h}'`);
  if (h !== h.toLowerCase()) fail(file, field, `host must be lowercase: '${h}'`);
  if (/^[0-9.]+$/.test(h) || /^(0x[0-9a-f]+|[0-9]+)$/.test(h)) fail(file, field, `host must not be an IP literal: '${h}'`);
  const labels = h.split('.');
  const wildcard = labels[0] === '*';
  const name = wildcard ? labels.slice(1) : labels;
  if (name.length < 2) fail(file, field, `host must be a fully qualified DNS name: '${h}'`);
  if (h.length > 253) fail(file, field, 'host is too long');
  for (const label of name) {
    if (!DNS_LABEL.test(label)) fail(file, field, `invalid DNS name: '${h}'`);
  }
  if (/^[0-9]+$/.test(name[name.length - 1]!)) fail(file, field, `host must not be an IP literal: '${h}'`);
  return h;
}

export function validateHosts(v: unknown, file: string, field: string): string[] {
  return strList(v, file, field).map((h, i) => validateHost(h, file, `${field}[${i}]`));
}

export function validateMethods(v: unknown, file: string, field: string): string[] {
  return strList(v, file, field).map((m, i) => {
    if (!HTTP_METHODS.includes(m)) {
      fail(file, `${field}[${i}]`, HTTP_METHODS.includes(m.toUpperCase()) ? `method must be uppercase: '${m}'` : `unknown HTTP method '${m}' (allowed: ${HTTP_METHODS.join(' ')})`);
    }
    return m;
  });
}

/**
 * A path prefix as the caller writes it. Must start with '/'; '/' itself is allowed (it has to be
 * written explicitly: an empty list is an error, never "everything"). No query, fragment, percent
 * encoding, backslash, empty / '.' / '..' segment or trailing '/'.
 */
export function validatePathPrefix(v: unknown, file: string, field: string): string {
  const p = str(v, file, field);
  if (!p.startsWith('/')) fail(file, field, `path prefix must start with '/': '${p}'`);
  if (p === '/') return p;
  if (/[?#]/.test(p)) fail(file, field, `path prefix must not contain a query or fragment: '${p}'`);
  if (/[%\\\s]/.test(p)) fail(file, field, `path prefix must not contain '%', '\\' or whitespace: '${p}'`);
  if (p.endsWith('/')) fail(file, field, `path prefix must not end with '/': '${p}'`);
  for (const seg of p.slice(1).split('/')) {
    if (seg === '' || seg === '.' || seg === '..') fail(file, field, `path prefix has an empty, '.' or '..' segment: '${p}'`);
  }
  return p;
}

export function validatePathPrefixes(v: unknown, file: string, field: string): string[] {
  return strList(v, file, field).map((p, i) => validatePathPrefix(p, file, `${field}[${i}]`));
}

export function validateHeaderName(v: unknown, file: string, field: string): string {
  const h = str(v, file, field);
  if (!HEADER_NAME.test(h.toLowerCase())) fail(file, field, `invalid header name '${h}'`);
  return h.toLowerCase();
}

export function validateQueryParam(v: unknown, file: string, field: string): string {
  const q = str(v, file, field);
  if (!QUERY_PARAM.test(q)) fail(file, field, `invalid query parameter name '${q}'`);
  return q;
}

export function validateProviderId(v: unknown, file: string, field = 'provider'): string {
  const id = str(v, file, field);
  if (!PROVIDER_ID.test(id)) fail(file, field, `invalid provider id '${id}' (lowercase letters, digits, '-')`);
  return id;
}

export function validateSecretName(v: unknown, file: string, field: string): string {
  const n = str(v, file, field);
  if (!SECRET_NAME.test(n)) fail(file, field, `invalid secret name '${n}' (uppercase letters, digits, '_')`);
  return n;
}

/** `provider/name`, where provider must be the owning provider. */
export function validateCapabilityId(v: unknown, file: string, field: string, provider: string): string {
  const id = str(v, file, field);
  const slash = id.indexOf('/');
  if (slash < 0) fail(file, field, `capability id must be '${provider}/<name>': '${id}'`);
  if (id.slice(0, slash) !== provider) fail(file, field, `capability id must be prefixed by '${provider}/': '${id}'`);
  if (!CAPABILITY_NAME.test(id.slice(slash + 1))) fail(file, field, `invalid capability name in '${id}' (lowercase letters, digits, '.', '_', '-')`);
  return id;
}

function limits(v: unknown, file: string, field: string): CapabilityLimits {
  const o = record(v, file, field);
  const keys = ['ratePerMinute', 'maxRequestBytes', 'maxResponseBytes', 'timeoutMs'] as const;
  noUnknownKeys(o, keys, file, field);
  const out: CapabilityLimits = {};
  for (const k of keys) {
    const n = o[k];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) fail(file, `${field}.${k}`, 'must be a positive integer');
    out[k] = n;
  }
  return out;
}

/**
 * One capability. Accepts `host` (string) or `hosts` (list); without either, the provider's hosts
 * are used when given. When `providerHosts` is given, every capability host must be one of them
 * (a capability never widens where a provider's secret may go).
 */
export function validateCapabilityDef(
  json: unknown,
  file: string,
  opts: { provider: string; providerHosts?: readonly string[]; field?: string },
): CapabilityDef {
  const field = opts.field ?? 'capability';
  const o = record(json, file, field);
  noUnknownKeys(o, ['id', 'methods', 'pathPrefixes', 'host', 'hosts', 'description', 'limits'], file, field);
  const id = validateCapabilityId(o.id, file, `${field}.id`, opts.provider);
  const methods = validateMethods(o.methods, file, `${field}.methods`);
  const pathPrefixes = validatePathPrefixes(o.pathPrefixes, file, `${field}.pathPrefixes`);
  if (o.host !== undefined && o.hosts !== undefined) fail(file, `${field}.host`, "give either 'host' or 'hosts', not both");
  let hosts: string[];
  if (o.host !== undefined) hosts = [validateHost(o.host, file, `${field}.host`)];
  else if (o.hosts !== undefined) hosts = validateHosts(o.hosts, file, `${field}.hosts`);
  else if (opts.providerHosts && opts.providerHosts.length > 0) hosts = [...opts.providerHosts];
  else fail(file, `${field}.hosts`, 'missing');
  if (opts.providerHosts) {
    for (const [i, h] of hosts.entries()) {
      if (!opts.providerHosts.includes(h)) fail(file, o.host !== undefined ? `${field}.host` : `${field}.hosts[${i}]`, `host '${h}' is not one of the provider's hosts`);
    }
  }
  const cap: CapabilityDef = { id, methods, pathPrefixes, hosts };
  if (o.description !== undefined) cap.description = str(o.description, file, `${field}.description`);
  if (o.limits !== undefined) cap.limits = limits(o.limits, file, `${field}.limits`);
  return cap;
}

function templateMap(
  v: unknown,
  file: string,
  field: string,
  fields: readonly string[],
  nameCheck: (n: unknown, f: string, fl: string) => string,
): Record<string, string> {
  const o = record(v, file, field);
  const entries = Object.entries(o);
  if (entries.length === 0) fail(file, field, 'must not be empty');
  const out: Record<string, string> = {};
  for (const [k, t] of entries) {
    const name = nameCheck(k, file, `${field}.${k}`);
    if (Object.prototype.hasOwnProperty.call(out, name)) fail(file, `${field}.${k}`, 'duplicate name');
    out[name] = checkTemplate(t, file, `${field}.${k}`, fields, { needsPlaceholder: false });
  }
  if (!Object.values(out).some((t) => templateFields(t, file, field).length > 0)) {
    fail(file, field, 'no template references a secret field, e.g. {{secret}}');
  }
  return out;
}

/**
 * An auth spec (SPEC §6). `fields` are the template fields the credential's secrets fill (the
 * values of a provider's `vaultSecrets`, e.g. ['secret'] or ['username', 'password']); a template
 * referencing anything else is an error. Header names are normalised to lowercase.
 */
export function validateAuthSpec(json: unknown, file: string, fields: readonly string[], field = 'auth'): AuthSpec {
  const o = record(json, file, field);
  if (o.strategy === undefined) fail(file, `${field}.strategy`, 'missing');
  const strategy = str(o.strategy, file, `${field}.strategy`);
  if (!(AUTH_STRATEGIES as readonly string[]).includes(strategy)) {
    fail(file, `${field}.strategy`, `unknown auth strategy '${strategy}' (known: ${AUTH_STRATEGIES.join(', ')})`);
  }
  switch (strategy as AuthStrategyName) {
    case 'header':
      noUnknownKeys(o, ['strategy', 'header', 'template'], file, field);
      return {
        strategy: 'header',
        header: validateHeaderName(o.header, file, `${field}.header`),
        template: checkTemplate(o.template, file, `${field}.template`, fields, { needsPlaceholder: true }),
      };
    case 'query':
      noUnknownKeys(o, ['strategy', 'param', 'template'], file, field);
      return {
        strategy: 'query',
        param: validateQueryParam(o.param, file, `${field}.param`),
        template: checkTemplate(o.template, file, `${field}.template`, fields, { needsPlaceholder: true }),
      };
    case 'path': {
      noUnknownKeys(o, ['strategy', 'prefix'], file, field);
      const prefix = checkTemplate(o.prefix, file, `${field}.prefix`, fields, { needsPlaceholder: true });
      if (!prefix.startsWith('/')) fail(file, `${field}.prefix`, "path auth prefix must start with '/'");
      if (prefix.endsWith('/')) fail(file, `${field}.prefix`, "path auth prefix must not end with '/'");
      if (/[?#\\\s]/.test(prefix)) fail(file, `${field}.prefix`, 'path auth prefix must not contain a query, fragment, backslash or whitespace');
      return { strategy: 'path', prefix };
    }
    case 'basic': {
      noUnknownKeys(o, ['strategy', 'username', 'password'], file, field);
      const username = checkTemplate(o.username, file, `${field}.username`, fields, { allowEmpty: true });
      const password = checkTemplate(o.password, file, `${field}.password`, fields, { allowEmpty: true });
      if (templateFields(username, file, field).length + templateFields(password, file, field).length === 0) {
        fail(file, field, 'basic auth must reference a secret field in username or password');
      }
      return { strategy: 'basic', username, password };
    }
    case 'multi-header':
      noUnknownKeys(o, ['strategy', 'headers'], file, field);
      return { strategy: 'multi-header', headers: templateMap(o.headers, file, `${field}.headers`, fields, validateHeaderName) };
    case 'multi-query':
      noUnknownKeys(o, ['strategy', 'params'], file, field);
      return { strategy: 'multi-query', params: templateMap(o.params, file, `${field}.params`, fields, validateQueryParam) };
    default:
      // oauth2 / aws-sigv4 / hmac / mtls: validate-strategies.ts
      return validateStrategy(o, strategy, file, field, fields);
  }
}

/** Env var name -> value template using only {{baseUrl}} and {{token}}. */
export function validateSdkEnv(v: unknown, file: string, field = 'sdkEnv'): Record<string, string> {
  const o = record(v, file, field);
  const out: Record<string, string> = {};
  for (const [k, t] of Object.entries(o)) {
    if (!ENV_NAME.test(k)) fail(file, `${field}.${k}`, 'invalid environment variable name');
    if (k.toUpperCase().startsWith('AIVAULT_')) fail(file, `${field}.${k}`, 'AIVAULT_* variables are reserved');
    if (typeof t !== 'string') fail(file, `${field}.${k}`, 'must be a string');
    out[k] = checkTemplate(t, file, `${field}.${k}`, SDK_ENV_FIELDS, { allowEmpty: true });
  }
  return out;
}

const PROVIDER_KEYS = [
  '$schema',
  'provider',
  'displayName',
  'category',
  'vaultSecrets',
  'auth',
  'hosts',
  'capabilities',
  'sdkEnv',
  'apiRoot',
  'authSlots',
  'placeholderPrefix',
  'keyEnv',
  'docs',
] as const;

/** A placeholder prefix (SPEC §10): what a provider's tools check a key starts with (`sk-`, `ghp_`). */
const PLACEHOLDER_PREFIX = /^[A-Za-z0-9_-]{1,24}$/;

/** Validates one registry file's JSON; `file` is used in error messages. Fails closed. */
export function validateProvider(json: unknown, file: string): ProviderDef {
  const o = record(json, file, '(top level)');
  noUnknownKeys(o, PROVIDER_KEYS, file, '');
  if (o.provider === undefined) fail(file, 'provider', 'missing');
  const provider = validateProviderId(o.provider, file);
  const displayName = o.displayName === undefined ? provider : str(o.displayName, file, 'displayName');
  if (o.category === undefined) fail(file, 'category', 'missing');
  const category = str(o.category, file, 'category') as ProviderDef['category'];
  if (!CATEGORIES.includes(category)) fail(file, 'category', `unknown category '${category}' (known: ${CATEGORIES.join(', ')})`);

  if (o.vaultSecrets === undefined) fail(file, 'vaultSecrets', 'missing');
  const vs = record(o.vaultSecrets, file, 'vaultSecrets');
  const vaultSecrets: Record<string, string> = {};
  const fieldsSeen = new Set<string>();
  if (Object.keys(vs).length === 0) fail(file, 'vaultSecrets', 'must claim at least one secret name');
  for (const [name, f] of Object.entries(vs)) {
    validateSecretName(name, file, `vaultSecrets.${name}`);
    const fieldName = str(f, file, `vaultSecrets.${name}`);
    if (!TEMPLATE_FIELD.test(fieldName)) fail(file, `vaultSecrets.${name}`, `invalid template field '${fieldName}'`);
    if (fieldsSeen.has(fieldName)) fail(file, `vaultSecrets.${name}`, `template field '${fieldName}' is filled by two secrets`);
    fieldsSeen.add(fieldName);
    vaultSecrets[name] = fieldName;
  }
  const fields = [...fieldsSeen];

  if (o.auth === undefined) fail(file, 'auth', 'missing');
  const auth = validateAuthSpec(o.auth, file, fields, 'auth');

  if (o.hosts === undefined) fail(file, 'hosts', 'missing');
  const hosts = validateHosts(o.hosts, file, 'hosts');
  if (auth.strategy === 'oauth2' && !hosts.includes(new URL(auth.tokenUrl).hostname)) fail(file, 'auth.tokenUrl', "the token URL's host must be one of the provider's hosts");

  if (o.capabilities === undefined) fail(file, 'capabilities', 'missing');
  if (!Array.isArray(o.capabilities)) fail(file, 'capabilities', 'must be an array');
  if (o.capabilities.length === 0) fail(file, 'capabilities', 'must not be empty');
  const ids = new Set<string>();
  const capabilities = o.capabilities.map((c, i) => {
    const cap = validateCapabilityDef(c, file, { provider, providerHosts: hosts, field: `capabilities[${i}]` });
    if (ids.has(cap.id)) fail(file, `capabilities[${i}].id`, `duplicate capability id '${cap.id}'`);
    ids.add(cap.id);
    return cap;
  });

  const def: ProviderDef = { provider, displayName, category, vaultSecrets, auth, hosts, capabilities };
  if (o.sdkEnv !== undefined) def.sdkEnv = validateSdkEnv(o.sdkEnv, file, 'sdkEnv');
  if (o.apiRoot !== undefined) def.apiRoot = validateApiRoot(o.apiRoot, file);
  if (o.authSlots !== undefined) {
    const a = record(o.authSlots, file, 'authSlots');
    noUnknownKeys(a, ['headers', 'queryParams'], file, 'authSlots');
    const slots: NonNullable<ProviderDef['authSlots']> = {};
    if (a.headers !== undefined) slots.headers = strList(a.headers, file, 'authSlots.headers').map((h, i) => validateHeaderName(h, file, `authSlots.headers[${i}]`));
    if (a.queryParams !== undefined) slots.queryParams = strList(a.queryParams, file, 'authSlots.queryParams').map((q, i) => validateQueryParam(q, file, `authSlots.queryParams[${i}]`));
    def.authSlots = slots;
  }
  if (o.placeholderPrefix !== undefined) {
    const p = str(o.placeholderPrefix, file, 'placeholderPrefix');
    if (!PLACEHOLDER_PREFIX.test(p)) fail(file, 'placeholderPrefix', 'must be 1-24 characters of A-Z a-z 0-9 _ -');
    def.placeholderPrefix = p;
  }
  if (o.keyEnv !== undefined) {
    def.keyEnv = strList(o.keyEnv, file, 'keyEnv').map((k, i) => {
      if (!ENV_NAME.test(k)) fail(file, `keyEnv[${i}]`, 'invalid environment variable name');
      if (k.toUpperCase().startsWith('AIVAULT_')) fail(file, `keyEnv[${i}]`, 'AIVAULT_* variables are reserved');
      return k;
    });
  }
  if (o.docs !== undefined) {
    const d = str(o.docs, file, 'docs');
    if (!d.startsWith('https://')) fail(file, 'docs', 'must be an https URL');
    def.docs = d;
  }
  return def;
}
