/** "Did you mean" for capability ids (issue 11 item 5): a table over the shipped registry ids. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance, suggestIds } from '../../src/registry/suggest.js';
import { loadRegistry } from '../../src/registry/load.js';

const IDS = [...loadRegistry().capabilities.map((c) => c.id), 'openai/*', 'anthropic/*'];

// [typed, expected first suggestion or null]
const CASES: Array<[string, string | null]> = [
  ['openai/chat-completion', 'openai/chat-completions'],
  ['openai/chat-completoins', 'openai/chat-completions'],
  ['openai/chat', 'openai/chat-completions'],
  ['openai/completions', 'openai/chat-completions'],
  ['OpenAI/Responses', 'openai/responses'],
  ['openai/respones', 'openai/responses'],
  ['openai/embedding', 'openai/embeddings'],
  ['anthropic/message', 'anthropic/messages'],
  ['antropic/messages', 'anthropic/messages'],
  ['telegram/sendMessage', 'telegram/send-message'],
  ['openai/', 'openai/*'],
  ['opena/*', 'openai/*'],
  ['zzzz/qqqq', null],
  ['x', null],
];
for (const [typed, want] of CASES) {
  test(`did you mean: ${typed}`, () => {
    const got = suggestIds(typed, IDS);
    if (want === null) assert.deepEqual(got, []);
    else assert.equal(got[0], want, JSON.stringify(got));
    assert.ok(got.length <= 3);
  });
}

test('did you mean: an unknown provider with a known name lists the providers that have it', () => {
  assert.ok(suggestIds('claude/messages', IDS).includes('anthropic/messages'));
});

test('edit distance (OSA)', () => {
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('abc', 'abc'), 0);
  assert.equal(editDistance('abc', 'acb'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});
