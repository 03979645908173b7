/**
 * The AAD binding of `pinnedProvider`, end to end through the CLI (issue 13: it rested on one
 * in-process test). A record re-pinned on disk (to another provider, to none, to a made-up one)
 * must fail to decrypt in `aivault exec` (exit 125, one line naming the file, no secret printed;
 * the record is decrypted while the command boots, so the command runs and the broker refuses
 * that provider's requests: test/security/faults.test.ts) while other secrets keep working;
 * restoring the record restores the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, runCli, tempVaultDir } from '../helpers/cli.js';
import { sentinel } from '../helpers/leak-oracle.js';

test('a swapped pinnedProvider fails to decrypt through the CLI; other secrets keep working', async () => {
  const dir = tempVaultDir('aivault-repin-');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-repin-work-'));
  const env = { AIVAULT_DIR: dir, HOME: work };
  const openai = sentinel('repin-openai');
  const github = sentinel('repin-github');
  try {
    for (const [name, value] of [['OPENAI_API_KEY', openai], ['GITHUB_TOKEN', github]] as const) {
      const r = await runCli(['secrets', 'create', '--name', name, '--value-stdin'], { env, input: value });
      assert.equal(r.code, 0, r.stderr);
    }
    const secretsDir = path.join(dir, 'secrets');
    const file = fs
      .readdirSync(secretsDir)
      .map((f) => path.join(secretsDir, f))
      .find((f) => (JSON.parse(fs.readFileSync(f, 'utf8')) as { name?: string }).name === 'OPENAI_API_KEY');
    assert.ok(file, 'the OPENAI_API_KEY record');
    const orig = fs.readFileSync(file, 'utf8');
    assert.equal((JSON.parse(orig) as { pinnedProvider: unknown }).pinnedProvider, 'openai');
    const exit = path.join(FIXTURES, 'exec', 'exit.mjs');
    const run = (cap: string, marker: string) => runCli(['exec', '--allow', cap, '--', process.execPath, exit, '0', marker], { env, cwd: work });

    for (const pin of ['github', null, 'evil']) {
      const rec = JSON.parse(orig) as Record<string, unknown>;
      rec.pinnedProvider = pin;
      fs.writeFileSync(file, JSON.stringify(rec));
      const marker = path.join(work, `marker-${String(pin)}`);
      const r = await run('openai/chat-completions', marker);
      assert.equal(r.code, 125, `pinnedProvider ${String(pin)}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.ok(r.stderr.includes(file), `the message names the file: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      for (const out of [r.stdout, r.stderr]) assert.ok(!out.includes(openai) && !out.includes(github), 'no secret printed');
      // every other secret keeps working
      const other = await run('github/repos', path.join(work, `ok-${String(pin)}`));
      assert.equal(other.code, 0, other.stderr);
    }
    fs.writeFileSync(file, orig);
    const back = await run('openai/chat-completions', path.join(work, 'restored'));
    assert.equal(back.code, 0, back.stderr);
    assert.equal(fs.existsSync(path.join(work, 'restored')), true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
});
