/**
 * Start-up is a product feature: a run without --intercept never loads the X.509 chunk (or the
 * intercept door); a run with it does. Observed with a --require hook in the launcher process that
 * records every module file Node loads and every file read (bin/load-bundle.cjs reads the bundle
 * and its chunks itself, to compile them with their code caches).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, NODE, vaultWith } from '../exec/launch.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-lazy-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function loaded(args: string[], vault: string): string[] {
  const hook = path.join(dir, 'hook.cjs');
  const out = path.join(dir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  fs.writeFileSync(
    hook,
    `const M = require('node:module'); const fs = require('node:fs'); const seen = new Set();
     const orig = M._load; M._load = function (req, parent, isMain) { try { seen.add(M._resolveFilename(req, parent, isMain)); } catch {} return orig.apply(this, arguments); };
     const read = fs.readFileSync; fs.readFileSync = function (f) { if (typeof f === 'string') seen.add(f); return read.apply(this, arguments); };
     process.on('exit', () => fs.writeFileSync(${JSON.stringify(out)}, [...seen].join('\\n')));`,
  );
  const r = spawnSync(NODE, ['-r', hook, BIN, 'exec', ...args, '--', NODE, '-e', '0'], { env: { PATH: process.env.PATH ?? '', HOME: dir, AIVAULT_DIR: vault }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // the bundle's lazy loads (node:tls, the X.509 chunk) print nothing: no loader warnings on stderr
  assert.doesNotMatch(r.stderr, /Warning/);
  return fs.readFileSync(out, 'utf8').split('\n');
}

test('exec without --intercept loads no X.509 code; with --intercept it does', async () => {
  const vault = await vaultWith({ OPENAI_API_KEY: 'sk-SENTINEL-lazy-1' });
  try {
    const plain = loaded(['--allow', 'openai/models'], vault);
    assert.ok(plain.some((f) => f.endsWith('load-bundle.cjs')), 'the hook sees the bundle loader');
    assert.ok(!plain.some((f) => /aivault-x509|@peculiar|reflect-metadata/.test(f)), plain.join('\n'));
    const icpt = loaded(['--intercept', '--allow', 'openai/models'], vault);
    assert.ok(icpt.some((f) => f.endsWith('aivault-x509.cjs')), icpt.join('\n'));
    assert.ok(plain.some((f) => f.endsWith('aivault.cjs')), 'the hook sees the bundle read');
  } finally {
    fs.rmSync(vault, { recursive: true, force: true });
  }
});
