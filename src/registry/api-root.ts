/**
 * `apiRoot` (optional, per provider): the path under which all of a provider's API lives, e.g.
 * `/v1` for Anthropic. SDKs disagree about whether the base URL includes it: @anthropic-ai/sdk
 * appends `/v1/messages` to ANTHROPIC_BASE_URL, the Vercel AI SDK (@ai-sdk/anthropic) appends
 * `/messages` because its default base URL ends in `/v1`. With `apiRoot` the broker reads a
 * passthrough path outside the root, that no capability of the provider covers as written,
 * relative to the root (src/policy/capability.ts withApiRoot), so both work with one base URL.
 */
import { AivaultError } from '../errors/aivault-error.js';

const ROOT = /^(\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+$/;

export function validateApiRoot(v: unknown, file: string): string {
  const bad = (why: string) => new AivaultError('registry_invalid', `${file}: apiRoot: ${why}`, { file });
  if (typeof v !== 'string') throw bad('must be a string');
  if (!ROOT.test(v) || v.split('/').some((s) => s === '.' || s === '..')) throw bad("must be a path like '/v1' (plain segments, no trailing '/')");
  return v;
}
