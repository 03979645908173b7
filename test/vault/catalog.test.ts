import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempVaultDir } from '../helpers/cli.js';
import { openVault, type Vault } from '../../src/vault/open.js';
import { openCatalog } from '../../src/vault/catalog.js';
import { loadRegistry } from '../../src/registry/load.js';
import { AivaultError } from '../../src/errors/aivault-error.js';

async function fresh(): Promise<{ dir: string; vault: Vault }> {
  const dir = tempVaultDir();
  return { dir, vault: await openVault({ env: { AIVAULT_DIR: dir, HOME: dir } }) };
}

const registry = loadRegistry();

test('built-in credential appears once its claimed secret exists; resolveSecrets reports the pin', async () => {
  const { vault } = await fresh();
  let cat = await openCatalog({ vault, registry });
  assert.equal(cat.getCredential('openai'), undefined);
  assert.deepEqual(cat.credentialsFor('openai'), []);
  assert.deepEqual(cat.credentialStatus('openai')?.missing, ['OPENAI_API_KEY']);
  await vault.createSecret('OPENAI_API_KEY', 'sk-SENTINEL-cat');
  cat = await openCatalog({ vault, registry });
  const cred = cat.getCredential('openai')!;
  assert.deepEqual(cred.secrets, { secret: 'OPENAI_API_KEY' });
  assert.deepEqual(cred.hosts, ['api.openai.com']);
  assert.equal(cred.custom, false);
  assert.deepEqual(cat.credentialsFor('openai').map((c) => c.id), ['openai']);
  assert.deepEqual(await cat.resolveSecrets(cred), [{ field: 'secret', name: 'OPENAI_API_KEY', value: 'sk-SENTINEL-cat', pinnedProvider: 'openai' }]);
  assert.equal(cat.getCapability('openai/chat-completions')?.provider, 'openai');
  assert.ok(cat.capabilitiesOf('openai').some((c) => c.id === 'openai/models'));
});

test('opening a catalog decrypts nothing (lazy): a tampered value only fails when resolved', async () => {
  const { vault } = await fresh();
  const m = await vault.createSecret('OPENAI_API_KEY', 'sk-x');
  const rec = JSON.parse(fs.readFileSync(m.file, 'utf8'));
  rec.value = Buffer.from('A'.repeat(60)).toString('base64');
  fs.writeFileSync(m.file, JSON.stringify(rec));
  const cat = await openCatalog({ vault: await openVault({ env: { AIVAULT_DIR: path.dirname(path.dirname(m.file)), HOME: '/nonexistent' } }), registry });
  const cred = cat.getCredential('openai')!;
  await assert.rejects(cat.resolveSecrets(cred), (e: AivaultError) => e.code === 'vault_corrupt' && e.message.includes(m.file));
});

test('ephemeral secrets: win over the vault, and claimed names get the built-in credential without a vault secret', async () => {
  const { vault } = await fresh();
  await vault.createSecret('ANTHROPIC_API_KEY', 'vault-value');
  const eph = new Map([
    ['ANTHROPIC_API_KEY', 'run-value'],
    ['GITHUB_TOKEN', 'run-gh'],
  ]);
  const cat = await openCatalog({ vault, registry, ephemeral: eph });
  const a = await cat.resolveSecrets(cat.getCredential('anthropic')!);
  assert.equal(a[0]!.value, 'run-value');
  assert.equal(a[0]!.pinnedProvider, 'anthropic');
  const g = cat.getCredential('github');
  assert.ok(g, 'github credential provided by the run-only secret');
  assert.equal((await cat.resolveSecrets(g))[0]!.value, 'run-gh');
  // nothing was written
  assert.equal(vault.findSecret('GITHUB_TOKEN'), undefined);
});

test('workspace/group scoping: most specific wins, availability follows scope', async () => {
  const { vault } = await fresh();
  await vault.createSecret('GITHUB_TOKEN', 'ws', { scope: { kind: 'workspace', workspaceId: 'w1' } });
  assert.equal((await openCatalog({ vault, registry })).getCredential('github'), undefined);
  const c1 = await openCatalog({ vault, registry, workspaceId: 'w1', groupId: 'g' });
  assert.equal((await c1.resolveSecrets(c1.getCredential('github')!))[0]!.value, 'ws');
  await vault.createSecret('GITHUB_TOKEN', 'grp', { scope: { kind: 'group', workspaceId: 'w1', groupId: 'g' } });
  const c2 = await openCatalog({ vault, registry, workspaceId: 'w1', groupId: 'g' });
  assert.equal((await c2.resolveSecrets(c2.getCredential('github')!))[0]!.value, 'grp');
});

test('custom credential: a secret pinned (claimed) by another provider is refused', async () => {
  const { vault } = await fresh();
  await vault.createSecret('OPENAI_API_KEY', 'sk-x');
  for (const input of [
    { id: 'steal', provider: 'acme', secrets: { secret: 'OPENAI_API_KEY' }, hosts: ['api.acme.com'], auth: { strategy: 'header', header: 'x-key', template: '{{secret}}' } },
    { id: 'steal2', provider: 'github', secrets: { secret: 'OPENAI_API_KEY' } },
    // claimed even when not stored yet
    { id: 'steal3', provider: 'acme', secrets: { secret: 'ANTHROPIC_API_KEY' }, hosts: ['api.acme.com'], auth: { strategy: 'query', param: 'k', template: '{{secret}}' } },
  ]) {
    await assert.rejects(vault.createCredential(input), (e: AivaultError) => e.code === 'secret_pinned' && /pinned to provider/.test(e.message), input.id);
  }
  assert.deepEqual(vault.listCredentials(), []);
});

test('custom credential for a custom provider + custom capability: available and resolvable', async () => {
  const { vault } = await fresh();
  const cred = await vault.createCredential({
    id: 'acme-main',
    provider: 'acme',
    secrets: { secret: 'ACME_KEY' },
    hosts: ['api.acme.com'],
    auth: { strategy: 'header', header: 'X-Acme-Key', template: 'Key {{secret}}' },
  });
  assert.equal(cred.auth.strategy, 'header');
  assert.equal((cred.auth as { header: string }).header, 'x-acme-key');
  await assert.rejects(vault.createCredential({ id: 'acme-main', provider: 'acme', secrets: { secret: 'ACME_KEY' }, hosts: ['api.acme.com'], auth: cred.auth }), (e: AivaultError) => e.code === 'usage');
  const cap = await vault.createCapability({ id: 'acme/widgets', provider: 'acme', hosts: ['api.acme.com'], methods: ['get', 'POST'], pathPrefixes: ['/v1/widgets'] });
  assert.deepEqual(cap.methods, ['GET', 'POST']);
  let cat = await openCatalog({ vault, registry });
  assert.equal(cat.getCredential('acme-main'), undefined, 'not available until ACME_KEY exists');
  await vault.createSecret('ACME_KEY', 'SENTINEL-acme');
  cat = await openCatalog({ vault, registry });
  const c = cat.getCredential('acme-main')!;
  assert.equal(c.custom, true);
  assert.deepEqual(await cat.resolveSecrets(c), [{ field: 'secret', name: 'ACME_KEY', value: 'SENTINEL-acme' }]);
  assert.equal(cat.getCapability('acme/widgets')?.custom, true);
  assert.deepEqual(cat.capabilitiesOf('acme').map((x) => x.id), ['acme/widgets']);
  const p = cat.getProvider('acme')!;
  assert.deepEqual(p.hosts, ['api.acme.com']);
  await vault.deleteCapability('acme/widgets');
  await vault.deleteCredential('acme-main');
  cat = await openCatalog({ vault, registry });
  assert.equal(cat.getCapability('acme/widgets'), undefined);
  assert.equal(cat.getProvider('acme'), undefined);
  await assert.rejects(vault.deleteCredential('acme-main'), (e: AivaultError) => e.code === 'credential_not_found');
  await assert.rejects(vault.deleteCapability('openai/models'), (e: AivaultError) => e.code === 'usage');
});

test('custom credential for a built-in provider may not widen its hosts; defaults to its auth and hosts', async () => {
  const { vault } = await fresh();
  await assert.rejects(vault.createCredential({ id: 'oa2', provider: 'openai', secrets: { secret: 'MY_OA' }, hosts: ['evil.example.com'] }), (e: AivaultError) => e.code === 'usage' && /not one of/.test(e.message));
  const c = await vault.createCredential({ id: 'oa2', provider: 'openai', secrets: { secret: 'MY_OA' } });
  assert.deepEqual(c.hosts, ['api.openai.com']);
  assert.equal(c.auth.strategy, 'header');
  await assert.rejects(vault.createCredential({ id: 'openai', provider: 'openai', secrets: { secret: 'MY_OA' } }), (e: AivaultError) => e.code === 'usage');
});

test('a pinned secret referenced by a custom credential of another provider is refused at resolve time too', async () => {
  const { dir, vault } = await fresh();
  await vault.createSecret('OPENAI_API_KEY', 'sk-x');
  // write a hostile credentials.json by hand (bypassing create-time checks)
  fs.writeFileSync(
    path.join(dir, 'credentials.json'),
    JSON.stringify({ v: 1, credentials: [{ id: 'evil', provider: 'acme', secrets: { secret: 'OPENAI_API_KEY' }, auth: { strategy: 'header', header: 'x', template: '{{secret}}' }, hosts: ['api.acme.com'], createdAt: new Date().toISOString() }] }),
  );
  const cat = await openCatalog({ vault, registry });
  await assert.rejects(cat.resolveSecrets(cat.getCredential('evil')!), (e: AivaultError) => e.code === 'policy_violation' && /pinned/.test(e.message));
});

test('capability create validation: empty lists, bad prefixes, built-in ids, foreign hosts', async () => {
  const { vault } = await fresh();
  const base = { id: 'acme/x', provider: 'acme', hosts: ['api.acme.com'], methods: ['GET'], pathPrefixes: ['/v1'] };
  const bad: Array<[Partial<typeof base>, RegExp]> = [
    [{ hosts: [] }, /--host/],
    [{ methods: [] }, /--method/],
    [{ pathPrefixes: [] }, /--path-prefix/],
    [{ pathPrefixes: ['v1'] }, /start with '\/'/],
    [{ pathPrefixes: ['/v1/../x'] }, /'\.\.'/],
    [{ methods: ['TRACE'] }, /unknown HTTP method/],
    [{ hosts: ['http://api.acme.com'] }, /scheme/],
    [{ id: 'openai/models', provider: 'openai', hosts: ['api.openai.com'] }, /built-in/],
    [{ id: 'openai/extra', provider: 'openai', hosts: ['evil.example.com'] }, /not one of the provider's hosts/],
    [{ id: 'other/x' }, /prefixed by 'acme\/'/],
  ];
  for (const [patch, re] of bad) {
    await assert.rejects(vault.createCapability({ ...base, ...patch }), (e: AivaultError) => e.code === 'usage' && re.test(e.message), JSON.stringify(patch));
  }
  const root = await vault.createCapability({ ...base, id: 'acme/all', pathPrefixes: ['/'] });
  assert.deepEqual(root.pathPrefixes, ['/']);
  const short = await vault.createCapability({ ...base, id: 'short' });
  assert.equal(short.id, 'acme/short');
});

test('corrupt credentials.json: catalog still opens with built-ins and reports the problem', async () => {
  const { dir, vault } = await fresh();
  await vault.createSecret('OPENAI_API_KEY', 'sk-x');
  fs.writeFileSync(path.join(dir, 'credentials.json'), '[[[');
  const cat = await openCatalog({ vault, registry });
  assert.ok(cat.getCredential('openai'));
  assert.equal(cat.problems.length, 1);
  assert.ok(cat.problems[0]!.message.includes('credentials.json'));
});
