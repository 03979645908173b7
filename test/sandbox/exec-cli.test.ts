/**
 * `aivault exec --sandbox` from the command line: refusal when bubblewrap is missing or fails (125,
 * one line, no child), profile / aivault.config.json "sandbox", --no-sandbox, --sandbox-show of the
 * vault, --sandbox-readonly / --sandbox-write / --sandbox-hide.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fx, launch, NODE, sandboxUnavailable, tmpDir, vaultWith } from '../exec/launch.js';

const skip = sandboxUnavailable();
let vault = '';
let work = '';
before(async () => {
  vault = await vaultWith({ OPENAI_API_KEY: 'sk-SENTINEL-cli-sandbox' });
  work = tmpDir('aivault-sbcli-');
});
after(() => {
  fs.rmSync(vault, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

function auditStarted(): Array<Record<string, unknown>> {
  const dir = path.join(vault, 'audit');
  return fs
    .readdirSync(dir)
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.event === 'run.started');
}

test('no bubblewrap in PATH: 125, one line naming the package, the command never starts', async () => {
  const empty = fs.mkdtempSync(path.join(work, 'path-'));
  const marker = path.join(work, 'marker-nobwrap');
  for (const flags of [['--sandbox'], ['--sandbox-net=broker']]) {
    const r = await launch([...flags, '--', NODE, fx('exit.mjs'), '0', marker], { env: { AIVAULT_DIR: vault, PATH: empty } }).done;
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /bubblewrap.*install the 'bubblewrap' package/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(fs.existsSync(marker), false, 'never unsandboxed');
  }
});

test('bubblewrap failing before the command: 125 with a hint, the command never runs', async () => {
  const bin = fs.mkdtempSync(path.join(work, 'fakebwrap-'));
  // names the options the probe looks for, then fails like a kernel without user namespaces
  fs.writeFileSync(path.join(bin, 'bwrap'), '#!/bin/sh\n# --json-status-fd --disable-userns\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n', { mode: 0o755 });
  const marker = path.join(work, 'marker-fakebwrap');
  const r = await launch(['--sandbox', '--', NODE, fx('exit.mjs'), '0', marker], { env: { AIVAULT_DIR: vault, PATH: `${bin}:${process.env.PATH}` } }).done;
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /aivault: the sandbox could not start: .*user namespaces/);
  assert.equal(fs.existsSync(marker), false);
});

test('--sandbox-show cannot reveal the vault (125); --no-sandbox with --sandbox flags is a usage error (125)', async () => {
  const r = await launch(['--sandbox', '--sandbox-show', vault, '--', NODE, fx('exit.mjs'), '0'], { env: { AIVAULT_DIR: vault } }).done;
  assert.equal(r.code, 125);
  assert.match(r.stderr, /--sandbox-show .*: the vault and its key are always hidden/);
  const r2 = await launch(['--no-sandbox', '--sandbox-readonly', '--', NODE, fx('exit.mjs'), '0'], { env: { AIVAULT_DIR: vault } }).done;
  assert.equal(r2.code, 125);
  assert.match(r2.stderr, /--no-sandbox cannot be combined/);
});

test('aivault.config.json "sandbox" and a profile\'s "sandbox" turn it on; --no-sandbox turns it off; run.started records the mode', { skip }, async () => {
  const proj = fs.mkdtempSync(path.join(work, 'proj-'));
  fs.writeFileSync(path.join(proj, 'package.json'), '{}');
  fs.writeFileSync(path.join(proj, 'aivault.config.json'), JSON.stringify({ sandbox: true, profiles: { net: { sandbox: 'broker' }, open: { sandbox: false } } }));
  const cases: Array<[string[], string]> = [
    [[], 'host'],
    [['--profile', 'net'], 'broker'],
    [['--profile', 'open'], 'off'],
    [['--no-sandbox'], 'off'],
    [['--profile', 'net', '--no-sandbox'], 'off'],
    [['--sandbox-net=broker'], 'broker'],
  ];
  for (const [flags, want] of cases) {
    const r = await launch([...flags, '--', NODE, fx('exit.mjs'), '7'], { env: { AIVAULT_DIR: vault }, cwd: proj }).done;
    assert.equal(r.code, 7, `${flags.join(' ')}: ${r.stderr}`);
    assert.equal(auditStarted().pop()?.sandbox, want, flags.join(' '));
  }
  fs.writeFileSync(path.join(proj, 'aivault.config.json'), JSON.stringify({ sandbox: 'yes' }));
  const bad = await launch(['--', NODE, fx('exit.mjs'), '0'], { env: { AIVAULT_DIR: vault }, cwd: proj }).done;
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /sandbox: must be true, false or "broker"/);
});

test('--sandbox-readonly: only the cwd, --sandbox-write and a private /tmp are writable; --sandbox-hide hides', { skip }, async () => {
  const cwd = fs.mkdtempSync(path.join(work, 'ro-cwd-'));
  const extra = fs.mkdtempSync(path.join(work, 'ro-extra-'));
  // outside /tmp (which is private in read-only mode): the host's own files, read-only
  const elsewhere = fs.mkdtempSync('/var/tmp/aivault-ro-elsewhere-');
  const secretDir = fs.mkdtempSync(path.join(work, 'ro-hidden-'));
  fs.writeFileSync(path.join(secretDir, 'token'), 'SENTINEL-custom-hidden');
  const tmpName = `/tmp/aivault-ro-${process.pid}-${Date.now()}`;
  const script = `
    const fs = require('fs');
    const w = (p) => { try { fs.writeFileSync(p, 'x'); return 'ok'; } catch (e) { return e.code; } };
    const r = (p) => { try { return fs.readFileSync(p, 'utf8') || 'empty'; } catch (e) { return e.code; } };
    console.log(JSON.stringify({ cwd: w('in-cwd'), extra: w(${JSON.stringify(path.join(extra, 'f'))}), elsewhere: w(${JSON.stringify(path.join(elsewhere, 'f'))}), tmp: w(${JSON.stringify(tmpName)}), hidden: r(${JSON.stringify(path.join(secretDir, 'token'))}) }));`;
  const r = await launch(['--sandbox-readonly', '--sandbox-write', extra, '--sandbox-hide', secretDir, '--', NODE, '-e', script], { env: { AIVAULT_DIR: vault }, cwd }).done;
  fs.rmSync(elsewhere, { recursive: true, force: true });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.toString()) as Record<string, string>;
  assert.deepEqual(out, { cwd: 'ok', extra: 'ok', elsewhere: 'EROFS', tmp: 'ok', hidden: 'ENOENT' });
  assert.ok(fs.existsSync(path.join(cwd, 'in-cwd')));
  assert.ok(fs.existsSync(path.join(extra, 'f')));
  assert.equal(fs.existsSync(tmpName), false, '/tmp was private');
});

test('the child environment is the same with and without --sandbox (bubblewrap adds nothing, e.g. no PWD)', { skip }, async () => {
  const dump = 'process.stdout.write(JSON.stringify(Object.keys(process.env).sort()))';
  const keys: string[][] = [];
  for (const flags of [[], ['--sandbox'], ['--sandbox-net=broker']]) {
    const r = await launch([...flags, '--allow', 'openai/chat-completions', '--', NODE, '-e', dump], { env: { AIVAULT_DIR: vault, LANG: 'C.UTF-8' } }).done;
    assert.equal(r.code, 0, r.stderr);
    keys.push(JSON.parse(r.stdout.toString()) as string[]);
  }
  assert.ok(!keys[1]!.includes('PWD'));
  assert.deepEqual(keys[1], keys[0]);
  assert.deepEqual(keys[2], keys[0]);
  const set = await launch(['--sandbox', '--set-env', 'PWD=/somewhere', '--', NODE, '-e', 'process.stdout.write(process.env.PWD)'], { env: { AIVAULT_DIR: vault } }).done;
  assert.equal(set.stdout.toString(), '/somewhere', 'an explicit PWD is kept');
});
