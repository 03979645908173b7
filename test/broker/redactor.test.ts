import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StreamRedactor, REDACTED } from '../../src/broker/redactor.js';

function runSplit(values: string[], input: Buffer, cuts: number[]): { out: string; pieces: Buffer[] } {
  const r = new StreamRedactor(values);
  const pieces: Buffer[] = [];
  let last = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    pieces.push(r.push(input.subarray(last, c)));
    last = c;
  }
  pieces.push(r.push(input.subarray(last)));
  pieces.push(r.end());
  return { out: Buffer.concat(pieces).toString('utf8'), pieces };
}

test('redacts every occurrence whatever the chunk borders (property)', () => {
  const secret = 'sk-SENTINEL-abc123';
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant(secret), fc.string({ maxLength: 8 }), fc.constant('sk-SENT')), { maxLength: 12 }),
      fc.array(fc.nat(200), { maxLength: 8 }),
      (items, rawCuts) => {
        const text = items.join('');
        const input = Buffer.from(text);
        const cuts = rawCuts.map((c) => c % (input.length + 1));
        const { out } = runSplit([secret], input, cuts);
        assert.equal(out.includes(secret), false);
        assert.equal(out, text.split(secret).join(REDACTED));
      },
    ),
    { numRuns: 400 },
  );
});

test('secret split byte by byte is still redacted', () => {
  const secret = 'ghp_SENTINEL_value';
  const input = Buffer.from(`{"token":"${secret}","again":"${secret}"}`);
  const cuts = Array.from({ length: input.length }, (_, i) => i);
  const { out } = runSplit([secret], input, cuts);
  assert.equal(out, `{"token":"${REDACTED}","again":"${REDACTED}"}`);
});

test('a chunk that cannot start a secret is emitted at once (no holdback for streams)', () => {
  const r = new StreamRedactor(['sk-SENTINEL-abc123']);
  assert.equal(r.push(Buffer.from('data: {"a":1}\n\n')).toString(), 'data: {"a":1}\n\n');
  // ends with a possible prefix: held back
  assert.equal(r.push(Buffer.from('data: sk-SEN')).toString(), 'data: ');
  assert.equal(r.push(Buffer.from('TINEL-abc123 ok\n\n')).toString(), `${REDACTED} ok\n\n`);
  assert.equal(r.end().length, 0);
});

test('held bytes that turn out harmless are emitted at the end', () => {
  const r = new StreamRedactor(['sk-SENTINEL-abc123']);
  assert.equal(r.push(Buffer.from('tail sk-SEN')).toString(), 'tail ');
  assert.equal(r.end().toString(), 'sk-SEN');
});

test('several needles: a value containing another is covered by the inner one; longest wins at one position', () => {
  const r = new StreamRedactor(['abc', 'xabcdef', 'zz', 'zzq']);
  const out = Buffer.concat([r.push(Buffer.from('xabcdefy zz abc zzq')), r.end()]).toString();
  assert.equal(out, `x${REDACTED}defy ${REDACTED} ${REDACTED} ${REDACTED}q`);
  assert.equal(r.redactString('k=abcdef; zz'), `k=${REDACTED}def; ${REDACTED}`);
  const s = new StreamRedactor(['ab1', 'ab12']);
  assert.equal(Buffer.concat([s.push(Buffer.from('-ab12-')), s.end()]).toString(), `-${REDACTED}2-`);
  const t = new StreamRedactor(['sk-1', 'c2stMQ==']);
  assert.equal(Buffer.concat([t.push(Buffer.from('sk-1 c2stMQ== ')), t.end()]).toString(), `${REDACTED} ${REDACTED} `);
});

test('no needles: pass-through, same buffer', () => {
  const r = new StreamRedactor([]);
  const b = Buffer.from('hello');
  assert.equal(r.push(b), b);
  assert.equal(r.active, false);
});
