/** withApiRoot: passthrough paths relative to a provider's API root (issue 11 item 4). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withApiRoot } from '../../src/policy/capability.js';
import { validateApiRoot } from '../../src/registry/api-root.js';
import { AivaultError } from '../../src/errors/aivault-error.js';

const ANTHROPIC = [{ pathPrefixes: ['/v1/messages'] }, { pathPrefixes: ['/v1/models'] }];
const WITH_CUSTOM = [...ANTHROPIC, { pathPrefixes: ['/messages-archive'] }, { pathPrefixes: ['/'] }];

const CASES: Array<[string, string | undefined, typeof ANTHROPIC, string, string]> = [
  // path, apiRoot, provider capabilities, expected, why
  ['/messages', '/v1', ANTHROPIC, '/v1/messages', 'AI SDK shape: root added'],
  ['/messages/count_tokens', '/v1', ANTHROPIC, '/v1/messages/count_tokens', 'deeper path'],
  ['/models', '/v1', ANTHROPIC, '/v1/models', 'GET models through the AI SDK'],
  ['/v1/messages', '/v1', ANTHROPIC, '/v1/messages', 'official SDK shape: unchanged'],
  ['/v1', '/v1', ANTHROPIC, '/v1', 'the root itself: unchanged'],
  ['/v1/v1/messages', '/v1', ANTHROPIC, '/v1/v1/messages', 'inside the root: never rewritten (no doubled-root guessing)'],
  ['/v10/messages', '/v1', ANTHROPIC, '/v1/v10/messages', 'whole segments: /v10 is not under /v1'],
  ['/', '/v1', ANTHROPIC, '/v1', 'bare slash'],
  ['/files', '/v1', ANTHROPIC, '/v1/files', 'rewritten even when nothing grants it (the denial names the real path)'],
  ['/messages', undefined, ANTHROPIC, '/messages', 'no apiRoot: unchanged'],
  ['/messages-archive/x', '/v1', WITH_CUSTOM, '/messages-archive/x', 'a capability covers it as written: unchanged'],
  ['/messages', '/v1', WITH_CUSTOM, '/messages', "a '/' capability covers everything: never rewritten"],
];

for (const [path, root, caps, want, why] of CASES) {
  test(`withApiRoot(${path}, ${root ?? '-'}) → ${want}: ${why}`, () => {
    assert.equal(withApiRoot(path, root, caps), want);
  });
}

test('validateApiRoot accepts plain paths and refuses anything else', () => {
  for (const ok of ['/v1', '/openai/v1', '/api/1.0', '/v1beta']) assert.equal(validateApiRoot(ok, 'x.json'), ok);
  for (const bad of ['v1', '/v1/', '/', '', '/v1/../x', '/./v1', '/v1?x=1', '/v%2f1', 5, null])
    assert.throws(() => validateApiRoot(bad, 'x.json'), (e: unknown) => e instanceof AivaultError && e.code === 'registry_invalid' && /apiRoot/.test(e.message));
});
