/**
 * The launcher's V8 code cache (bin/load-bundle.cjs, scripts/code-cache.mjs; README "Start-up"):
 * used when it was made for this bundle, ignored when it names another bundle, survived when its
 * bytes are garbage (V8 rejects it), and the CLI works the same in every case.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-code-cache-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A copy of the launcher and the bundle (the bundle's externals come from the checkout). */
function copy(name: string): string {
  const d = path.join(dir, name);
  fs.cpSync(path.join(ROOT, 'bin'), path.join(d, 'bin'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist', 'bundle'), path.join(d, 'dist', 'bundle'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(d, 'node_modules'), 'dir');
  return d;
}

/** Runs `aivault --version` through loadBundle and reports whether a cache was offered and taken. */
function load(d: string): { version: string; cache: string } {
  const loader = path.join(d, 'bin', 'load-bundle.cjs');
  const code = `process.argv = [process.argv[0], 'aivault', '--version'];
    const r = require(${JSON.stringify(loader)}).loadBundle();
    process.on('exit', () => process.stderr.write(r.cacheRejected === undefined ? 'none' : r.cacheRejected ? 'rejected' : 'used'));`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(r.status, 0, r.stderr);
  return { version: r.stdout.trim(), cache: r.stderr.trim() };
}

test('the build makes a code cache for its bundle, and the launcher uses it', () => {
  const cache = path.join(ROOT, 'dist', 'bundle', 'aivault.cjs.cache');
  assert.ok(fs.existsSync(cache), 'npm run build wrote dist/bundle/aivault.cjs.cache');
  const head = fs.readFileSync(path.join(ROOT, 'dist', 'bundle', 'aivault.cjs'), 'utf8').split('\n')[0]!;
  const id = /^\/\/ aivault-bundle ([0-9a-f]+)$/.exec(head)?.[1];
  assert.ok(id, `the bundle names its content hash: ${head}`);
  assert.equal(fs.readFileSync(cache).subarray(0, 100).toString('latin1').split('\n')[0], `aivault-code-cache ${id}`);
  const r = load(copy('good'));
  assert.match(r.version, /^\d+\.\d+\.\d+$/);
  assert.equal(r.cache, 'used');
  // --intercept's X.509 chunk has its own, tied to the chunk's content hash
  const chunk = path.join(ROOT, 'dist', 'bundle', 'aivault-x509.cjs');
  const chunkId = /^\/\/ aivault-bundle ([0-9a-f]+)$/.exec(fs.readFileSync(chunk, 'utf8').split('\n')[0]!)?.[1];
  assert.ok(chunkId);
  assert.equal(fs.readFileSync(`${chunk}.cache`).subarray(0, 100).toString('latin1').split('\n')[0], `aivault-code-cache ${chunkId}`);
});

test('a cache made for another bundle is never offered to V8; the CLI still runs', () => {
  const d = copy('stale');
  const file = path.join(d, 'dist', 'bundle', 'aivault.cjs.cache');
  const bytes = fs.readFileSync(file);
  const nl = bytes.indexOf(10);
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`aivault-code-cache ${'0'.repeat(32)}`, 'latin1'), bytes.subarray(nl)]));
  const r = load(d);
  assert.match(r.version, /^\d+\.\d+\.\d+$/);
  assert.equal(r.cache, 'none');
});

test('a cache with garbage bytes for this bundle is rejected by V8; the CLI still runs; no cache at all also works', () => {
  const d = copy('garbage');
  const file = path.join(d, 'dist', 'bundle', 'aivault.cjs.cache');
  const bytes = fs.readFileSync(file);
  const nl = bytes.indexOf(10);
  fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, nl + 1), Buffer.alloc(bytes.length - nl - 1, 0x5a)]));
  const r = load(d);
  assert.match(r.version, /^\d+\.\d+\.\d+$/);
  assert.equal(r.cache, 'rejected');
  fs.rmSync(file);
  const none = load(d);
  assert.match(none.version, /^\d+\.\d+\.\d+$/);
  assert.equal(none.cache, 'none');
});
