/**
 * Envelope mode (SPEC §6): `POST /aivault/proxy` with
 * `{"capability", "credential"?, "request": {"method", "path", "headers"?, "body"? | "bodyBase64"?}}`.
 * A `url` field anywhere the caller could name a destination → policy_violation; any other
 * unknown field or a wrong type → invalid_request.
 * A body that is a JSON object or array, sent without a content-type, goes upstream as
 * `application/json` (curl-style envelopes and `aivault invoke --body '{...}'` rarely name one, and
 * JSON APIs answer 400/415 without it). A caller's content-type is never changed.
 */
import { deny } from './errors.js';

export interface Envelope {
  capability: string;
  credential?: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
}

const TOP = new Set(['capability', 'credential', 'request']);
const REQ = new Set(['method', 'path', 'headers', 'body', 'bodyBase64']);
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseEnvelope(raw: Buffer, maxBodyBytes: number): Envelope {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw deny('invalid_request', 'envelope is not valid JSON');
  }
  if (!isObject(json)) throw deny('invalid_request', 'envelope must be a JSON object');
  const req = json.request;
  if (Object.prototype.hasOwnProperty.call(json, 'url') || (isObject(req) && Object.prototype.hasOwnProperty.call(req, 'url')))
    throw deny('policy_violation', "the envelope may not name a 'url': the destination comes from policy");
  for (const k of Object.keys(json)) if (!TOP.has(k)) throw deny('invalid_request', `unknown envelope field '${k.slice(0, 40)}'`);
  if (typeof json.capability !== 'string' || json.capability === '') throw deny('invalid_request', "envelope field 'capability' must be a non-empty string");
  if (json.credential !== undefined && (typeof json.credential !== 'string' || json.credential === ''))
    throw deny('invalid_request', "envelope field 'credential' must be a non-empty string");
  if (!isObject(req)) throw deny('invalid_request', "envelope field 'request' must be an object");
  for (const k of Object.keys(req)) if (!REQ.has(k)) throw deny('invalid_request', `unknown request field '${k.slice(0, 40)}'`);
  if (typeof req.method !== 'string' || !METHOD.test(req.method)) throw deny('invalid_request', "request field 'method' must be an HTTP method");
  if (typeof req.path !== 'string' || req.path === '') throw deny('invalid_request', "request field 'path' must be a non-empty string");
  const headers: Record<string, string | string[]> = {};
  if (req.headers !== undefined) {
    if (!isObject(req.headers)) throw deny('invalid_request', "request field 'headers' must be an object");
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string') headers[k.toLowerCase()] = v;
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) headers[k.toLowerCase()] = v as string[];
      else throw deny('invalid_request', 'request header values must be strings');
    }
  }
  if (req.body !== undefined && req.bodyBase64 !== undefined) throw deny('invalid_request', "give either 'body' or 'bodyBase64', not both");
  let body: Buffer | undefined;
  if (req.body !== undefined) {
    if (typeof req.body !== 'string') throw deny('invalid_request', "request field 'body' must be a string");
    body = Buffer.from(req.body, 'utf8');
  } else if (req.bodyBase64 !== undefined) {
    if (typeof req.bodyBase64 !== 'string' || !BASE64.test(req.bodyBase64)) throw deny('invalid_request', "request field 'bodyBase64' must be base64");
    body = Buffer.from(req.bodyBase64, 'base64');
  }
  if (body && body.length > maxBodyBytes) throw deny('body_too_large', 'request body exceeds the limit');
  if (body && headers['content-type'] === undefined && isJsonDocument(body)) headers['content-type'] = 'application/json';
  const env: Envelope = { capability: json.capability, method: req.method.toUpperCase(), path: req.path, headers };
  if (json.credential !== undefined) env.credential = json.credential as string;
  if (body) env.body = body;
  return env;
}

/** True for a body that is a JSON object or array (bare scalars like `42` could be anything). */
function isJsonDocument(body: Buffer): boolean {
  const text = body.toString('utf8').trimStart();
  if (!text.startsWith('{') && !text.startsWith('[')) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
