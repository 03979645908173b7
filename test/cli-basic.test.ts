import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, tempVaultDir } from './helpers/cli.js';

test('unknown command: one line, exit 2', async () => {
  const r = await runCli(['frobnicate']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});

test('--help prints usage to stdout and exits 0', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /aivault exec/);
  assert.equal(r.stderr, '');
});

test('COMMAND --help prints that command\'s usage and exits 0 (exec included)', async () => {
  for (const [cmd, want] of [['secrets', /aivault secrets create/], ['exec', /aivault exec \[options\] -- COMMAND/], ['credential', /--value-template/]] as const) {
    const r = await runCli([cmd, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, want);
    assert.doesNotMatch(r.stdout, /aivault audit/);
  }
});

test('--help after -- belongs to the child command, not to exec', async () => {
  const r = await runCli(['exec', '--', 'printf', '%s\\n', '--help'], { env: { AIVAULT_DIR: tempVaultDir() } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '--help');
});
