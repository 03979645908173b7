// The run-token table (issue 12: a Map keyed by the token, confirmed with timingSafeEqual): live,
// revoked, expired, never-minted and near-miss values answer as before; no entry carries the token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenTable } from '../../src/broker/tokens.js';

function flip(t: string, i: number): string {
  const c = t[i] === 'A' ? 'B' : 'A';
  return t.slice(0, i) + c + t.slice(i + 1);
}

test('lookup: live, near misses, other shapes, revoked, expired, knows()', async () => {
  const tokens = new TokenTable();
  const a = tokens.mint({ runId: 'run-a', capabilities: ['openai/models'] });
  const b = tokens.mint({ runId: 'run-b', capabilities: ['openai/*'], ttlMs: 30 });
  const live = tokens.lookup(a);
  assert.ok(live.ok);
  assert.deepEqual(live.entry.grant.capabilities, ['openai/models']);
  // the entry handed to the pipeline never holds the token
  assert.ok(!JSON.stringify(live.entry).includes(a));
  assert.ok(!JSON.stringify(live.entry, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)).includes(a));

  const NOT: Array<[string, string]> = [
    ['first char changed', flip(a, 0)],
    ['last char changed', flip(a, 42)],
    ['middle char changed', flip(a, 21)],
    ['prefix', a.slice(0, 42)],
    ['extended', a + 'A'],
    ['with spaces', ` ${a} `],
    ['Bearer form', `Bearer ${a}`],
    ['lower-cased', a.toLowerCase() === a ? flip(a, 1) : a.toLowerCase()],
    ['empty', ''],
    ['43 other chars', 'x'.repeat(43)],
    ['non-ASCII', 'é'.repeat(43)],
  ];
  for (const [why, v] of NOT) {
    assert.deepEqual(tokens.lookup(v), { ok: false, code: 'token_invalid' }, why);
    assert.equal(tokens.knows(v), false, why);
  }
  assert.equal(tokens.knows(a), true);

  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(tokens.lookup(b), { ok: false, code: 'token_expired', runId: 'run-b' });
  assert.equal(tokens.knows(b), true, 'an expired token is still known (scrubbed from logs)');
  assert.ok(tokens.lookup(a).ok, 'the other run is untouched');

  tokens.revokeRun('run-a');
  assert.deepEqual(tokens.lookup(a), { ok: false, code: 'token_expired', runId: 'run-a' });
  assert.equal(tokens.knows(a), true);
  const c = tokens.mint({ runId: 'run-c', capabilities: [] });
  assert.ok(tokens.lookup(c).ok);
  tokens.revokeAll();
  assert.deepEqual(tokens.lookup(c), { ok: false, code: 'token_expired', runId: 'run-c' });
});
