/** Response blocklists (src/broker/json-filter.ts): table cases, every chunk split, SSE, fail-closed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonFieldFilter, SseFieldFilter, parseFieldPath } from '../../src/broker/json-filter.js';

function run(input: string, paths: string[], chunk = 0): string {
  const f = new JsonFieldFilter(paths.map(parseFieldPath));
  const b = Buffer.from(input);
  const parts: Buffer[] = [];
  if (chunk === 0) parts.push(f.push(b));
  else for (let i = 0; i < b.length; i += chunk) parts.push(f.push(b.subarray(i, i + chunk)));
  parts.push(f.end());
  return Buffer.concat(parts).toString();
}

const cases: Array<[string, string[], unknown]> = [
  ['{"a":1,"b":2}', ['a'], { b: 2 }],
  ['{"a":1,"b":2}', ['b'], { a: 1 }],
  ['{"a":1,"b":{"c":[1,2,{"d":"}"}]},"e":"x"}', ['b'], { a: 1, e: 'x' }],
  ['{"choices":[{"message":{"content":"hi","tool_calls":[{"id":"1","function":{"arguments":"{\\"x\\":1}"}}]}},{"message":{"tool_calls":null,"content":"yo"}}]}', ['choices[].message.tool_calls'], { choices: [{ message: { content: 'hi' } }, { message: { content: 'yo' } }] }],
  ['{"data":[{"id":1,"email":"a@b.c","name":"A"},{"email":"x@y.z"},{"id":3}]}', ['data[].email'], { data: [{ id: 1, name: 'A' }, {}, { id: 3 }] }],
  [' { "usage" : { "t" : 1 } , "id" : "x" } ', ['usage'], { id: 'x' }],
  ['[{"secret":1,"ok":true},{"ok":false,"secret":"s"}]', ['[].secret'], [{ ok: true }, { ok: false }]],
  ['{"a":{"a":{"a":1}}}', ['a.a.a'], { a: { a: {} } }],
  ['{"x":"a\\"b","y":[true,false,null,-1.5e+3]}', ['z'], { x: 'a"b', y: [true, false, null, -1500] }],
  ['{"emails":1,"email":2,"e\\u006dail":3}', ['email'], { emails: 1 }],
];

for (const [input, paths, expected] of cases) {
  test(`blocklist ${paths.join(',')} on ${input.slice(0, 50)}`, () => {
    const whole = run(input, paths);
    assert.deepEqual(JSON.parse(whole), expected);
    for (const size of [1, 2, 3, 7]) assert.equal(run(input, paths, size), whole, `chunk size ${size}`);
  });
}

test('field paths', () => {
  assert.deepEqual(parseFieldPath('choices[].message.tool_calls'), ['choices', '[]', 'message', 'tool_calls']);
  assert.deepEqual(parseFieldPath('[].x'), ['[]', 'x']);
  assert.deepEqual(parseFieldPath('m[][]'), ['m', '[]', '[]']);
  for (const bad of ['', 'a..b', 'a[', 'a]b', '.a']) assert.throws(() => parseFieldPath(bad), bad);
});

test('malformed JSON fails closed: nothing after the first bad byte', () => {
  const out = run('{"a":1,"secret":"x" junk "secret":"y"}', ['nothing']);
  assert.equal(out.includes('y'), false);
});

test('SSE: each data line filtered; [DONE], comments and event lines pass', () => {
  const input = ': hi\nevent: chunk\ndata: {"choices":[{"delta":{"tool_calls":[{"x":1}],"content":"a"}}]}\n\ndata:{"choices":[{"delta":{"tool_calls":[]}}]}\n\ndata: [DONE]\n\n';
  const f = new SseFieldFilter([parseFieldPath('choices[].delta.tool_calls')]);
  const whole = Buffer.concat([f.push(Buffer.from(input)), f.end()]).toString();
  assert.equal(whole, ': hi\nevent: chunk\ndata: {"choices":[{"delta":{"content":"a"}}]}\n\ndata:{"choices":[{"delta":{}}]}\n\ndata: [DONE]\n\n');
  const g = new SseFieldFilter([parseFieldPath('choices[].delta.tool_calls')]);
  const split = Buffer.concat([...Buffer.from(input)].map((c) => g.push(Buffer.of(c))).concat(g.end())).toString();
  assert.equal(split, whole);
});
