/**
 * AWS Signature Version 4 (SPEC §6 `aws-sigv4`). Pure: no I/O, no clock (the caller passes the
 * time), never logs. Proven against AWS's published `aws-sig-v4-test-suite`
 * (fixtures/aws-sig-v4-test-suite, test/auth/sigv4-suite.test.ts).
 *
 * - Canonical URI: S3 uses the (single) URI-encoded path as sent; every other service normalises
 *   the path (empty and '.' segments dropped, '..' pops) and URI-encodes each segment of it once
 *   more (AWS's "double encoding" of the wire path).
 * - Canonical query: every `k=v` pair percent-decoded, re-encoded with RFC 3986 unreserved
 *   characters kept, sorted by key then value; a bare `k` is `k=`.
 * - Canonical headers: names lower-cased, values trimmed with inner whitespace runs collapsed,
 *   repeated headers joined with ',', sorted by name.
 * - Payload hash: hex SHA-256 of the body, or `UNSIGNED-PAYLOAD` (only S3 accepts it, over TLS).
 */
import { createHash, createHmac } from 'node:crypto';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ALGORITHM = 'AWS4-HMAC-SHA256';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigV4Request {
  method: string;
  /** the path as sent on the wire (S3) or as given to the signer (other services) */
  path: string;
  /** raw query string, without '?' */
  query: string;
  /** every header to sign, in any order and case; repeats allowed */
  headers: Array<[string, string]>;
  /** hex SHA-256 of the payload, or UNSIGNED-PAYLOAD */
  payloadHash: string;
}

export interface SigV4Scope {
  region: string;
  service: string;
  /** YYYYMMDDTHHMMSSZ */
  amzDate: string;
}

export interface SigV4Result {
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
  signedHeaders: string;
  authorization: string;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** `Date` → `YYYYMMDDTHHMMSSZ`. */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function isUnreserved(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
}

/** AWS UriEncode: every UTF-8 byte except A-Z a-z 0-9 - . _ ~ as %XX (upper-case hex). */
export function uriEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += isUnreserved(b) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

/** Percent-decode, leaving malformed escapes as they are (never throws). */
export function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/%([0-9A-Fa-f]{2})/g, (m, h: string) => {
      const c = parseInt(h, 16);
      return c < 0x80 ? String.fromCharCode(c) : m;
    });
  }
}

/** A wire path with every segment decoded and re-encoded the AWS way ('/' kept). */
export function awsEncodePath(path: string): string {
  return path
    .split('/')
    .map((seg) => uriEncode(percentDecode(seg)))
    .join('/');
}

export function canonicalUri(path: string, service: string): string {
  if (service === 's3') return path === '' ? '/' : path;
  const segs: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segs.pop();
    else segs.push(seg);
  }
  const trailing = segs.length > 0 && path.endsWith('/') ? '/' : '';
  return '/' + segs.map(uriEncode).join('/') + trailing;
}

export function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs: Array<[string, string]> = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq === -1 ? part : part.slice(0, eq);
    const v = eq === -1 ? '' : part.slice(eq + 1);
    pairs.push([uriEncode(percentDecode(k)), uriEncode(percentDecode(v))]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

export function canonicalHeaders(headers: Array<[string, string]>): { text: string; signed: string } {
  const map = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const n = name.toLowerCase().trim();
    const v = value.trim().replace(/\s+/g, ' ');
    const list = map.get(n);
    if (list) list.push(v);
    else map.set(n, [v]);
  }
  const names = [...map.keys()].sort();
  return { text: names.map((n) => `${n}:${map.get(n)!.join(',')}\n`).join(''), signed: names.join(';') };
}

export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac('AWS4' + secretAccessKey, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

export function signV4(req: SigV4Request, scope: SigV4Scope, creds: SigV4Credentials): SigV4Result {
  const h = canonicalHeaders(req.headers);
  const canonicalRequest = [req.method.toUpperCase(), canonicalUri(req.path, scope.service), canonicalQuery(req.query), h.text, h.signed, req.payloadHash].join('\n');
  const date = scope.amzDate.slice(0, 8);
  const credentialScope = `${date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [ALGORITHM, scope.amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', signingKey(creds.secretAccessKey, date, scope.region, scope.service)).update(stringToSign, 'utf8').digest('hex');
  const authorization = `${ALGORITHM} Credential=${creds.accessKeyId}/${credentialScope}, SignedHeaders=${h.signed}, Signature=${signature}`;
  return { canonicalRequest, stringToSign, signature, signedHeaders: h.signed, authorization };
}
