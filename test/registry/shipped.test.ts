import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { defaultRegistryDir, loadRegistry, templateFields } from '../../src/registry/load.js';
import { ROOT } from '../helpers/cli.js';

const reg = loadRegistry();

test('the default registry dir is the package registry/ folder', () => {
  assert.equal(defaultRegistryDir(), path.join(ROOT, 'registry'));
});

test('shipped registry: >= 30 providers, one file each, all categories covered', () => {
  const files = fs.readdirSync(path.join(ROOT, 'registry')).filter((f) => f.endsWith('.json'));
  assert.ok(reg.providers.length >= 30, `${reg.providers.length} providers`);
  assert.equal(files.length, reg.providers.length);
  const cats = new Set(reg.providers.map((p) => p.category));
  for (const c of ['ai', 'devtools', 'communication', 'payments', 'productivity']) assert.ok(cats.has(c as never), c);
});

// SPEC §3 table, exactly.
const SPEC_ROWS: Array<{ cap: string; methods: string[]; prefixes: string[]; secret: string; host: string }> = [
  { cap: 'openai/chat-completions', methods: ['POST'], prefixes: ['/v1/chat/completions'], secret: 'OPENAI_API_KEY', host: 'api.openai.com' },
  { cap: 'openai/responses', methods: ['GET', 'POST'], prefixes: ['/v1/responses'], secret: 'OPENAI_API_KEY', host: 'api.openai.com' },
  { cap: 'openai/embeddings', methods: ['POST'], prefixes: ['/v1/embeddings'], secret: 'OPENAI_API_KEY', host: 'api.openai.com' },
  { cap: 'openai/models', methods: ['GET'], prefixes: ['/v1/models'], secret: 'OPENAI_API_KEY', host: 'api.openai.com' },
  { cap: 'anthropic/messages', methods: ['POST'], prefixes: ['/v1/messages'], secret: 'ANTHROPIC_API_KEY', host: 'api.anthropic.com' },
  { cap: 'github/repos', methods: ['GET'], prefixes: ['/repos'], secret: 'GITHUB_TOKEN', host: 'api.github.com' },
  { cap: 'gemini/models', methods: ['GET'], prefixes: ['/v1beta/models'], secret: 'GEMINI_API_KEY', host: 'generativelanguage.googleapis.com' },
  { cap: 'telegram/send-message', methods: ['POST'], prefixes: ['/sendMessage'], secret: 'TELEGRAM_BOT_TOKEN', host: 'api.telegram.org' },
];

for (const row of SPEC_ROWS) {
  test(`SPEC §3 row ${row.cap}`, () => {
    const cap = reg.capability(row.cap);
    assert.ok(cap, 'exists');
    assert.deepEqual([...cap.methods].sort(), row.methods);
    assert.deepEqual(cap.pathPrefixes, row.prefixes);
    assert.deepEqual(cap.hosts, [row.host]);
    assert.equal(cap.custom, false);
    const provider = reg.claimantOf(row.secret);
    assert.equal(provider?.provider, cap.provider);
    assert.deepEqual(provider?.vaultSecrets, { [row.secret]: 'secret' });
  });
}

test('SPEC §3 auth column', () => {
  assert.deepEqual(reg.provider('openai')!.auth, { strategy: 'header', header: 'authorization', template: 'Bearer {{secret}}' });
  assert.deepEqual(reg.provider('anthropic')!.auth, { strategy: 'header', header: 'x-api-key', template: '{{secret}}' });
  assert.deepEqual(reg.provider('github')!.auth, { strategy: 'header', header: 'authorization', template: 'Bearer {{secret}}' });
  assert.deepEqual(reg.provider('gemini')!.auth, { strategy: 'query', param: 'key', template: '{{secret}}' });
  assert.deepEqual(reg.provider('telegram')!.auth, { strategy: 'path', prefix: '/bot{{secret}}' });
});

test('sdkEnv for the official SDKs', () => {
  assert.deepEqual(reg.provider('openai')!.sdkEnv, { OPENAI_BASE_URL: '{{baseUrl}}/v/openai/v1', OPENAI_API_KEY: '{{token}}' });
  assert.deepEqual(reg.provider('anthropic')!.sdkEnv, { ANTHROPIC_BASE_URL: '{{baseUrl}}/v/anthropic', ANTHROPIC_API_KEY: '{{token}}' });
  // Every sdkEnv value uses only {{baseUrl}} / {{token}}, and base URLs point at /v/<provider>.
  for (const p of reg.providers) {
    for (const [k, v] of Object.entries(p.sdkEnv ?? {})) {
      for (const f of templateFields(v, p.provider, k)) assert.ok(f === 'baseUrl' || f === 'token', `${p.provider} ${k}`);
      if (v.startsWith('{{baseUrl}}')) assert.ok(v.startsWith(`{{baseUrl}}/v/${p.provider}`), `${p.provider} ${k}`);
    }
  }
});

test('twilio uses basic auth from two claimed secrets', () => {
  const t = reg.provider('twilio')!;
  assert.deepEqual(t.vaultSecrets, { TWILIO_ACCOUNT_SID: 'username', TWILIO_AUTH_TOKEN: 'password' });
  assert.deepEqual(t.auth, { strategy: 'basic', username: '{{username}}', password: '{{password}}' });
  assert.equal(reg.claimantOf('TWILIO_AUTH_TOKEN')?.provider, 'twilio');
});

test('every capability host is a provider host; ids are prefixed by their provider', () => {
  for (const p of reg.providers) {
    assert.ok(reg.capabilitiesOf(p.provider).length > 0, p.provider);
    for (const c of reg.capabilitiesOf(p.provider)) {
      assert.ok(c.id.startsWith(p.provider + '/'), c.id);
      assert.equal(c.provider, p.provider);
      for (const h of c.hosts) assert.ok(p.hosts.includes(h), `${c.id} ${h}`);
    }
  }
});

test('each secret name is claimed by exactly one provider', () => {
  const seen = new Map<string, string>();
  for (const p of reg.providers) {
    for (const name of Object.keys(p.vaultSecrets)) {
      assert.equal(seen.has(name), false, name);
      seen.set(name, p.provider);
      assert.equal(reg.claimantOf(name)?.provider, p.provider);
    }
  }
});

test('registry files use the canonical shape (provider id = file name)', () => {
  for (const f of fs.readdirSync(path.join(ROOT, 'registry')).filter((n) => n.endsWith('.json'))) {
    const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'registry', f), 'utf8')) as { provider: string };
    assert.equal(json.provider + '.json', f);
  }
});
