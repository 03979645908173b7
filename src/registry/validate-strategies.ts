/**
 * Validation of the multi-secret auth strategies (SPEC §3, §6): aws-sigv4, hmac, mtls, oauth2.
 * Same rules as validate.ts: fail closed, name the file and field, never quote a template.
 *
 * Secret fields are fixed per strategy (the credential's `secrets` map fills them):
 * - aws-sigv4: accessKeyId, secretAccessKey, [sessionToken]
 * - hmac:      the field named by `key` (default `secret`), plus any fields the extra `headers` use
 * - mtls:      cert, key (PEM)
 * - oauth2:    clientId, [clientSecret], [refreshToken] (refresh_token grant: required)
 */
import { AivaultError } from '../errors/aivault-error.js';
import type { AuthSpec } from './types.js';

function fail(file: string, field: string, problem: string): never {
  throw new AivaultError('registry_invalid', `${file}: ${field}: ${problem}`, { file });
}

function str(v: unknown, file: string, field: string, allowEmpty = false): string {
  if (typeof v !== 'string') fail(file, field, 'must be a string');
  if (!allowEmpty && v.length === 0) fail(file, field, 'must not be empty');
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(v)) fail(file, field, 'must not contain control characters');
  return v;
}

function keys(o: Record<string, unknown>, allowed: readonly string[], file: string, field: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(file, `${field}.${k}`, 'unknown field');
}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
const REGION = /^[a-z0-9-]{1,32}$/;
const SERVICE = /^[a-z0-9-]{1,64}$/;
const HOST = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

function header(v: unknown, file: string, field: string): string {
  const h = str(v, file, field).toLowerCase();
  if (!HEADER_NAME.test(h)) fail(file, field, `invalid header name '${h}'`);
  return h;
}

/** A template whose placeholders are all in `allowed`. */
function template(v: unknown, file: string, field: string, allowed: readonly string[], allowEmpty = false): string {
  const t = str(v, file, field, allowEmpty);
  const rest = t.replace(PLACEHOLDER, (_m, name: string) => {
    if (!allowed.includes(name.trim())) fail(file, field, `template references unknown field '${name.trim().slice(0, 40)}' (known: ${allowed.join(', ')})`);
    return '';
  });
  if (rest.includes('{{') || rest.includes('}}')) fail(file, field, 'malformed {{placeholder}}');
  return t;
}

function needFields(fields: readonly string[], required: readonly string[], file: string, field: string, strategy: string): void {
  for (const f of required) if (!fields.includes(f)) fail(file, field, `${strategy} needs a secret for field '${f}'`);
}

export const HMAC_MESSAGE_FIELDS = ['method', 'path', 'timestamp', 'timestampMs', 'nonce', 'bodyHash', 'body'] as const;
export const HMAC_VALUE_FIELDS = ['signature', 'timestamp', 'nonce'] as const;
export const HMAC_DEFAULT_TEMPLATE = '{{timestamp}}\n{{method}}\n{{path}}\n{{bodyHash}}';

export function validateStrategy(o: Record<string, unknown>, strategy: string, file: string, field: string, fields: readonly string[]): AuthSpec {
  switch (strategy) {
    case 'aws-sigv4': {
      keys(o, ['strategy', 'region', 'service', 'serviceByHost'], file, field);
      const region = str(o.region, file, `${field}.region`);
      if (!REGION.test(region)) fail(file, `${field}.region`, `invalid AWS region '${region}'`);
      const service = str(o.service, file, `${field}.service`);
      if (!SERVICE.test(service)) fail(file, `${field}.service`, `invalid AWS service '${service}'`);
      needFields(fields, ['accessKeyId', 'secretAccessKey'], file, field, 'aws-sigv4');
      for (const f of fields) if (!['accessKeyId', 'secretAccessKey', 'sessionToken'].includes(f)) fail(file, field, `aws-sigv4 has no secret field '${f}' (accessKeyId, secretAccessKey, sessionToken)`);
      const out: Record<string, unknown> = { strategy, region, service };
      if (o.serviceByHost !== undefined) {
        if (typeof o.serviceByHost !== 'object' || o.serviceByHost === null || Array.isArray(o.serviceByHost)) fail(file, `${field}.serviceByHost`, 'must be an object');
        const m: Record<string, string> = {};
        for (const [h, s] of Object.entries(o.serviceByHost as Record<string, unknown>)) {
          if (!HOST.test(h)) fail(file, `${field}.serviceByHost`, `invalid host '${h.slice(0, 80)}'`);
          const sv = str(s, file, `${field}.serviceByHost.${h}`);
          if (!SERVICE.test(sv)) fail(file, `${field}.serviceByHost.${h}`, `invalid AWS service '${sv}'`);
          m[h] = sv;
        }
        out.serviceByHost = m;
      }
      return out as AuthSpec;
    }
    case 'hmac': {
      keys(o, ['strategy', 'algorithm', 'header', 'template', 'value', 'timestampHeader', 'nonceHeader', 'encoding', 'key', 'keyEncoding', 'headers'], file, field);
      const algorithm = str(o.algorithm ?? 'sha256', file, `${field}.algorithm`);
      if (algorithm !== 'sha256' && algorithm !== 'sha512') fail(file, `${field}.algorithm`, "must be 'sha256' or 'sha512'");
      const out: Record<string, unknown> = { strategy, algorithm, header: header(o.header, file, `${field}.header`) };
      out.template = o.template === undefined ? HMAC_DEFAULT_TEMPLATE : template(o.template, file, `${field}.template`, HMAC_MESSAGE_FIELDS);
      if (!/\{\{\s*timestamp(Ms)?\s*\}\}|\{\{\s*nonce\s*\}\}/.test(out.template as string)) fail(file, `${field}.template`, 'must include {{timestamp}} or {{nonce}} (replay protection)');
      out.value = o.value === undefined ? '{{signature}}' : template(o.value, file, `${field}.value`, HMAC_VALUE_FIELDS);
      if (!(out.value as string).includes('{{signature}}')) fail(file, `${field}.value`, 'must include {{signature}}');
      out.timestampHeader = o.timestampHeader === undefined ? 'x-timestamp' : o.timestampHeader === '' ? '' : header(o.timestampHeader, file, `${field}.timestampHeader`);
      if (o.nonceHeader !== undefined) out.nonceHeader = header(o.nonceHeader, file, `${field}.nonceHeader`);
      const enc = str(o.encoding ?? 'hex', file, `${field}.encoding`);
      if (enc !== 'hex' && enc !== 'base64') fail(file, `${field}.encoding`, "must be 'hex' or 'base64'");
      out.encoding = enc;
      const key = str(o.key ?? 'secret', file, `${field}.key`);
      if (!fields.includes(key)) fail(file, `${field}.key`, `no secret fills field '${key}'`);
      out.key = key;
      const ke = str(o.keyEncoding ?? 'utf8', file, `${field}.keyEncoding`);
      if (!['utf8', 'base64', 'hex'].includes(ke)) fail(file, `${field}.keyEncoding`, "must be 'utf8', 'base64' or 'hex'");
      out.keyEncoding = ke;
      if (o.headers !== undefined) {
        if (typeof o.headers !== 'object' || o.headers === null || Array.isArray(o.headers)) fail(file, `${field}.headers`, 'must be an object');
        const m: Record<string, string> = {};
        for (const [h, t] of Object.entries(o.headers as Record<string, unknown>)) m[header(h, file, `${field}.headers`)] = template(t, file, `${field}.headers.${h}`, fields);
        out.headers = m;
      }
      return out as AuthSpec;
    }
    case 'mtls': {
      keys(o, ['strategy'], file, field);
      needFields(fields, ['cert', 'key'], file, field, 'mtls');
      return { strategy: 'mtls' } as AuthSpec;
    }
    case 'oauth2': {
      keys(o, ['strategy', 'grant', 'tokenUrl', 'authorizeUrl', 'scopes', 'clientAuth'], file, field);
      const grant = str(o.grant, file, `${field}.grant`);
      if (grant !== 'refresh_token' && grant !== 'client_credentials') fail(file, `${field}.grant`, "must be 'refresh_token' or 'client_credentials'");
      const u = str(o.tokenUrl, file, `${field}.tokenUrl`);
      let parsed: URL | undefined;
      try {
        parsed = new URL(u);
      } catch {
        parsed = undefined;
      }
      if (!parsed || parsed.protocol !== 'https:') fail(file, `${field}.tokenUrl`, 'must be an https URL');
      if (parsed.port !== '' || parsed.username !== '' || parsed.password !== '' || parsed.hash !== '') fail(file, `${field}.tokenUrl`, 'must use the default port and carry no userinfo or fragment');
      needFields(fields, ['clientId'], file, field, 'oauth2');
      if (grant === 'refresh_token') needFields(fields, ['refreshToken'], file, field, 'oauth2 refresh_token grant');
      if (grant === 'client_credentials') needFields(fields, ['clientSecret'], file, field, 'oauth2 client_credentials grant');
      const out: Record<string, unknown> = { strategy, grant, tokenUrl: parsed.href };
      if (o.authorizeUrl !== undefined) {
        let a: URL | undefined;
        try {
          a = new URL(str(o.authorizeUrl, file, `${field}.authorizeUrl`));
        } catch {
          a = undefined;
        }
        if (!a || a.protocol !== 'https:') fail(file, `${field}.authorizeUrl`, 'must be an https URL');
        out.authorizeUrl = a.href;
      }
      if (o.scopes !== undefined) {
        if (!Array.isArray(o.scopes)) fail(file, `${field}.scopes`, 'must be an array of strings');
        out.scopes = o.scopes.map((s, i) => {
          const v = str(s, file, `${field}.scopes[${i}]`);
          if (/\s/.test(v)) fail(file, `${field}.scopes[${i}]`, 'must not contain whitespace');
          return v;
        });
      }
      if (o.clientAuth !== undefined) {
        const ca = str(o.clientAuth, file, `${field}.clientAuth`);
        if (ca !== 'basic' && ca !== 'body') fail(file, `${field}.clientAuth`, "must be 'basic' or 'body'");
        out.clientAuth = ca;
      }
      return out as AuthSpec;
    }
    default:
      fail(file, `${field}.strategy`, `unknown auth strategy '${strategy.slice(0, 40)}'`);
  }
}
