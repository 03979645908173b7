/**
 * Issue 13: every vault write path takes the vault lock. For each one the test holds the lock,
 * starts the write, checks it is still waiting (and has written nothing) after a while, releases
 * the lock, and checks the write then completes. Plus two processes racing read-modify-writes of
 * credentials.json / capabilities.json (creates and deletes): none lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempVaultDir } from '../helpers/cli.js';
import { vaultSnapshot } from '../helpers/vault-files.js';
import { withLock } from '../../src/vault/lock.js';
import { openVault } from '../../src/vault/open.js';
import type { Vault } from '../../src/vault/vault.js';

const WAIT_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freshVault(): Promise<{ dir: string; vault: Vault; env: Record<string, string> }> {
  const dir = tempVaultDir('aivault-locks-');
  const env = { AIVAULT_DIR: dir, HOME: dir };
  const vault = await openVault({ env });
  await vault.createSecret('SEED_KEY', 'seed-value'); // initialises the vault (vault.json, key)
  return { dir, vault, env };
}

interface Case {
  name: string;
  /** state the write needs, created before the lock is taken */
  setup?: (v: Vault, dir: string) => Promise<void>;
  write: (v: Vault, dir: string) => Promise<unknown>;
  /** the write's effect, checked after it completed */
  check: (v: Vault, dir: string) => Promise<void>;
}

const acmeCred = { id: 'acme-main', provider: 'acme', secrets: { secret: 'ACME_KEY' }, hosts: ['api.acme.com'], auth: { strategy: 'header', header: 'x-acme-key', template: '{{secret}}' } };
const acmeCap = { id: 'acme/widgets', provider: 'acme', hosts: ['api.acme.com'], methods: ['GET'], pathPrefixes: ['/v1/widgets'] };

const CASES: Case[] = [
  {
    name: 'secrets create',
    write: (v) => v.createSecret('NEW_KEY', 'new-value'),
    check: async (v) => assert.equal(await v.getSecretValue('NEW_KEY'), 'new-value'),
  },
  {
    name: 'secrets rotate',
    write: (v) => v.rotateSecret('SEED_KEY', 'rotated-value'),
    check: async (v) => assert.equal(await v.getSecretValue('SEED_KEY'), 'rotated-value'),
  },
  {
    name: 'secrets delete',
    write: (v) => v.deleteSecret('SEED_KEY'),
    check: async (v) => assert.equal(v.findSecret('SEED_KEY'), undefined),
  },
  {
    name: 'secrets attach (global -> workspace)',
    write: (v) => v.moveSecret('SEED_KEY', { kind: 'global' }, { kind: 'workspace', workspaceId: 'w1' }),
    check: async (v) => assert.equal(v.findSecret('SEED_KEY', { workspaceId: 'w1' })?.scope.kind, 'workspace'),
  },
  {
    name: 'secrets detach (workspace -> global)',
    setup: async (v) => void (await v.createSecret('WS_KEY', 'ws-value', { scope: { kind: 'workspace', workspaceId: 'w1' } })),
    write: (v) => v.moveSecret('WS_KEY', { kind: 'workspace', workspaceId: 'w1' }, { kind: 'global' }),
    check: async (v) => assert.equal(v.findSecret('WS_KEY')?.scope.kind, 'global'),
  },
  {
    name: 'secrets import',
    setup: async (_v, dir) => fs.writeFileSync(path.join(dir, 'import.env'), 'IMPORTED_ONE=1\nSEED_KEY=changed\n'),
    write: (v, dir) => v.importEnvFile(path.join(dir, 'import.env')),
    check: async (v) => {
      assert.equal(await v.getSecretValue('IMPORTED_ONE'), '1');
      assert.equal(await v.getSecretValue('SEED_KEY'), 'changed');
    },
  },
  {
    name: 'credential create (credentials.json)',
    write: (v) => v.createCredential(acmeCred),
    check: async (v) => assert.deepEqual(v.listCredentials().map((c) => c.id), ['acme-main']),
  },
  {
    name: 'credential delete (credentials.json)',
    setup: async (v) => void (await v.createCredential(acmeCred)),
    write: (v) => v.deleteCredential('acme-main'),
    check: async (v) => assert.deepEqual(v.listCredentials(), []),
  },
  {
    name: 'capability create (capabilities.json)',
    write: (v) => v.createCapability(acmeCap),
    check: async (v) => assert.deepEqual(v.listCustomCapabilities().map((c) => c.id), ['acme/widgets']),
  },
  {
    name: 'capability delete (capabilities.json)',
    setup: async (v) => void (await v.createCapability(acmeCap)),
    write: (v) => v.deleteCapability('acme/widgets'),
    check: async (v) => assert.deepEqual(v.listCustomCapabilities(), []),
  },
  {
    name: 'init (switching the key provider of a vault without secrets)',
    setup: async (v) => void (await v.deleteSecret('SEED_KEY')),
    write: (v) => v.init({ type: 'file' }),
    check: async (v) => {
      assert.equal((await v.status()).provider, 'file');
      await v.createSecret('AFTER_INIT', 'x');
      assert.equal(await v.getSecretValue('AFTER_INIT'), 'x');
    },
  },
  {
    name: 'rotate-master',
    write: (v) => v.rotateMaster(),
    check: async (v, dir) => {
      const fresh = await openVault({ env: { AIVAULT_DIR: dir, HOME: dir } });
      assert.equal(await fresh.getSecretValue('SEED_KEY'), 'seed-value');
      assert.notEqual(JSON.parse(fs.readFileSync(path.join(dir, 'vault.json'), 'utf8')).kekId, undefined);
      void v;
    },
  },
];

for (const c of CASES) {
  test(`${c.name} waits for the vault lock, then completes once it is released`, async () => {
    const { dir, vault } = await freshVault();
    try {
      await c.setup?.(vault, dir);
      const lockFile = path.join(dir, '.lock');
      let release!: () => void;
      let holding!: () => void;
      const held = new Promise<void>((r) => (holding = r));
      const holder = withLock(lockFile, () => {
        holding();
        return new Promise<void>((r) => (release = r));
      });
      await held;
      const before = vaultSnapshot(dir);
      let settled: 'pending' | 'done' | 'failed' = 'pending';
      let failure: unknown;
      const write = c.write(vault, dir).then(
        () => (settled = 'done'),
        (e: unknown) => {
          settled = 'failed';
          failure = e;
        },
      );
      await sleep(WAIT_MS);
      assert.equal(settled, 'pending', `${c.name} did not wait for the lock (${String(failure)})`);
      assert.deepEqual(vaultSnapshot(dir), before, `${c.name} wrote while another process held the lock`);
      release();
      await holder;
      await write;
      assert.equal(settled, 'done', `${c.name} failed after the lock was released: ${String(failure)}`);
      await c.check(vault, dir);
      assert.equal(fs.existsSync(lockFile), false, 'the lock is released afterwards');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** A node process running `body` against the vault once `go` exists. */
function racer(dir: string, go: string, body: string): Promise<{ code: number | null; stderr: string }> {
  const modUrl = new URL('../../src/vault/open.js', import.meta.url).href;
  const script = `import fs from 'node:fs';
import { openVault } from ${JSON.stringify(modUrl)};
const v = await openVault({ env: { AIVAULT_DIR: ${JSON.stringify(dir)}, HOME: ${JSON.stringify(dir)} } });
while (!fs.existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 5));
${body}`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('two processes racing read-modify-writes of credentials.json and capabilities.json lose nothing (creates and deletes)', async () => {
  const { dir } = await freshVault();
  const go = path.join(dir, 'go');
  const N = 20;
  try {
    const helpers = `const cred = (id) => ({ id, provider: 'acme', secrets: { secret: 'ACME_KEY' }, hosts: ['api.acme.com'], auth: { strategy: 'header', header: 'x-acme-key', template: '{{secret}}' } });
const cap = (id) => ({ id, provider: 'acme', hosts: ['api.acme.com'], methods: ['GET'], pathPrefixes: ['/v1'] });
const N = ${N};`;
    // A only creates; B creates, and creates-then-deletes temporary entries in between
    const a = racer(dir, go, `${helpers}
for (let i = 0; i < N; i++) { await v.createCredential(cred('a-' + i)); await v.createCapability(cap('acme/a-' + i)); }`);
    const b = racer(dir, go, `${helpers}
for (let i = 0; i < N; i++) {
  await v.createCredential(cred('tmp-' + i)); await v.createCredential(cred('b-' + i)); await v.deleteCredential('tmp-' + i);
  await v.createCapability(cap('acme/tmp-' + i)); await v.createCapability(cap('acme/b-' + i)); await v.deleteCapability('acme/tmp-' + i);
}`);
    await sleep(300); // both processes are up and waiting
    fs.writeFileSync(go, '');
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const v = await openVault({ env: { AIVAULT_DIR: dir, HOME: dir } });
    const want = (p: string) => Array.from({ length: N }, (_, i) => [`${p}a-${i}`, `${p}b-${i}`]).flat().sort();
    assert.deepEqual(v.listCredentials().map((c) => c.id).sort(), want(''));
    assert.deepEqual(v.listCustomCapabilities().map((c) => c.id).sort(), want('acme/'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
