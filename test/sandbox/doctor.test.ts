/** `aivault doctor [--json]`: sandbox availability and why not, key provider, vault, exposure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempVaultDir } from '../helpers/cli.js';
import { sandboxUnavailable } from '../exec/launch.js';
import { buildReport, renderReport, type DoctorFacts } from '../../src/doctor/report.js';

const skip = sandboxUnavailable();

test('doctor --json: sandbox available here, the vault, its key provider; no secret printed', { skip }, async () => {
  const dir = tempVaultDir();
  try {
    const put = await runCli(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-SENTINEL-doctor'], { env: { AIVAULT_DIR: dir } });
    assert.equal(put.code, 0, put.stderr);
    const r = await runCli(['doctor', '--json'], { env: { AIVAULT_DIR: dir } });
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as { sandbox: { available: boolean }; vault: { dir: string; provider: string; secretCount: number; custom: boolean }; keyProvider: string; exposure: { unsandboxed: string[]; sandboxed: string[] } };
    assert.equal(rep.sandbox.available, true);
    assert.equal(rep.vault.dir, dir);
    assert.equal(rep.vault.provider, 'file');
    assert.equal(rep.vault.custom, true);
    assert.equal(rep.vault.secretCount, 1);
    assert.match(rep.keyProvider, new RegExp(`file \\(${path.join(dir, 'kek.key').replace(/[.]/g, '\\.')}\\)`));
    assert.ok(rep.exposure.unsandboxed.some((l) => l.includes('kek.key')));
    const human = await runCli(['doctor'], { env: { AIVAULT_DIR: dir } });
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^sandbox: +available/m);
    assert.match(human.stdout, /^key provider: file/m);
    for (const out of [r.stdout, r.stderr, human.stdout, human.stderr]) assert.ok(!out.includes('SENTINEL'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('doctor without bubblewrap in PATH: not available, and says which package to install', async () => {
  const dir = tempVaultDir();
  const empty = fs.mkdtempSync(path.join(dir, 'path-'));
  try {
    const r = await runCli(['doctor', '--json'], { env: { AIVAULT_DIR: dir, PATH: empty } });
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as { sandbox: { available: boolean; reason: string } };
    assert.equal(rep.sandbox.available, false);
    assert.match(rep.sandbox.reason, /install the 'bubblewrap' package/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const facts: DoctorFacts = {
  sandbox: { platform: 'linux', uid: 1000, bwrap: '/usr/bin/bwrap', bwrapHasJsonStatus: true, bwrapHasDisableUserns: true, env: '/usr/bin/env', envHasSignalOptions: true, sh: '/bin/sh' },
  trial: { ok: true },
  vault: { dir: '/v', initialized: true, provider: 'file', keyFile: '/v/kek.key', secretCount: 2, custom: true },
  ptraceScope: '1',
  legacyTiocsti: '0',
  passphraseInEnv: false,
};

test('doctor report: a failed trial run explains the kernel settings; exposure follows the key provider', () => {
  const aa = buildReport({ ...facts, sandbox: { ...facts.sandbox, apparmorRestrictUserns: '1' }, trial: { ok: false, detail: 'setting up uid map: Permission denied' } });
  assert.equal(aa.sandbox.available, false);
  assert.match(aa.sandbox.reason ?? '', /kernel\.apparmor_restrict_unprivileged_userns=0.*Permission denied/);
  const off = buildReport({ ...facts, sandbox: { ...facts.sandbox, maxUserNamespaces: '0' } });
  assert.match(off.sandbox.reason ?? '', /user\.max_user_namespaces/);
  assert.match(buildReport(facts).exposure.unsandboxed[0]!, /key file \/v\/kek\.key/);
  assert.match(buildReport({ ...facts, vault: { ...facts.vault, provider: 'env', keyEnv: 'MY_KEK' } }).exposure.unsandboxed[0]!, /\$MY_KEK/);
  assert.match(buildReport({ ...facts, vault: { ...facts.vault, provider: 'passphrase' }, passphraseInEnv: true }).exposure.unsandboxed[0]!, /AIVAULT_PASSPHRASE/);
  assert.ok(!buildReport(facts).exposure.unsandboxed.some((l) => l.includes('ptrace')), 'ptrace_scope 1: no ptrace line');
  assert.ok(buildReport({ ...facts, ptraceScope: '0' }).exposure.unsandboxed.some((l) => l.includes('ptrace')));
  assert.match(renderReport(buildReport(facts)), /^key provider: file \(\/v\/kek\.key\)$/m);
});
