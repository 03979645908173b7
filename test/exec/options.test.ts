import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseDuration } from '../../src/exec/duration.js';
import { parseSetEnv, resolveExecOptions, splitList } from '../../src/exec/options.js';
import { parseExecArgv } from '../../src/cli/commands/exec.js';
import { exitCodeOf } from '../../src/exec/exit-code.js';

test('durations', () => {
  const rows: Array<[string, number]> = [['500ms', 500], ['30s', 30_000], ['5m', 300_000], ['1h', 3_600_000], ['2', 2000], ['1.5s', 1500], ['0.25', 250], [' 10s ', 10_000]];
  for (const [t, ms] of rows) assert.equal(parseDuration(t), ms, t);
  for (const bad of ['', '0', '0s', '-1', '1d', 's', '1 h m', '1e3', 'abc', '99999999h']) {
    assert.throws(() => parseDuration(bad), (e: Error & { code?: string }) => e.code === 'usage', bad);
  }
});

test('splitList: repeatable + comma lists, trimmed, deduplicated', () => {
  assert.deepEqual(splitList(['a,b', ' c ', 'a', ',,']), ['a', 'b', 'c']);
  assert.deepEqual(splitList(undefined), []);
});

test('--set-env parsing keeps everything after the first =', () => {
  assert.deepEqual(parseSetEnv('A=b=c'), ['A', 'b=c']);
  assert.deepEqual(parseSetEnv('A='), ['A', '']);
  for (const bad of ['=x', 'A', '']) assert.throws(() => parseSetEnv(bad), /--set-env/);
});

test('argv: options before --, command after it byte-exact', () => {
  const raw = parseExecArgv(['--allow', 'openai/chat-completions,openai/models', '--allow', 'github/repos', '-q', '--timeout', '5s', '--set-env', 'X=1', '--', 'node', '--allow', '--', ' spaced arg ', '']);
  assert.deepEqual(raw.allow, ['openai/chat-completions,openai/models', 'github/repos']);
  assert.equal(raw.quiet, true);
  assert.deepEqual(raw.command, ['node', '--allow', '--', ' spaced arg ', '']);
  assert.throws(() => parseExecArgv(['--allow', 'x', 'node']), /missing '--'/);
  assert.throws(() => parseExecArgv(['--bogus', '--', 'node']), (e: Error & { code?: string }) => e.code === 'usage');
  assert.throws(() => parseExecArgv(['stray', '--', 'node']), /unexpected argument 'stray'/);
});

test('profile merge: lists add, CLI scalars win, set-env per name', () => {
  const o = resolveExecOptions(
    { command: ['node'], allow: ['github/repos'], setEnv: ['B=cli'], timeout: '10s', envFile: ['cli.env'] },
    { allow: ['openai/*'], setEnv: { A: 'p', B: 'p' }, timeout: '5m', credential: 'openai', envFile: ['.env'], passEnv: ['DEBUG'], quiet: true },
    '/proj',
    '/proj/sub',
  );
  assert.deepEqual(o.allow, ['openai/*', 'github/repos']);
  assert.deepEqual(o.setEnv, { A: 'p', B: 'cli' });
  assert.equal(o.timeoutMs, 10_000);
  assert.equal(o.credential, 'openai');
  assert.deepEqual(o.envFiles, [path.resolve('/proj/.env'), path.resolve('/proj/sub/cli.env')]);
  assert.deepEqual(o.passEnv, ['DEBUG']);
  assert.equal(o.quiet, true);
  const p = resolveExecOptions({ command: ['x'] }, { timeout: 3 });
  assert.equal(p.timeoutMs, 3000, 'numeric profile timeout = seconds');
  assert.throws(() => resolveExecOptions({ command: [] }), /missing command/);
  assert.throws(() => resolveExecOptions({ command: ['x'], passEnv: ['A=B'] }), /--pass-env/);
});

test('exit codes: child code, 128+N for signals', () => {
  assert.equal(exitCodeOf(0, null), 0);
  assert.equal(exitCodeOf(42, null), 42);
  assert.equal(exitCodeOf(null, 'SIGTERM'), 143);
  assert.equal(exitCodeOf(null, 'SIGKILL'), 137);
  assert.equal(exitCodeOf(null, 'SIGINT'), 130);
});
