import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  loadRegistry,
  validateAuthSpec,
  validateCapabilityDef,
  validateHost,
  validateProvider,
} from '../../src/registry/load.js';
import { AivaultError } from '../../src/errors/aivault-error.js';
import { tempDir } from '../helpers/tmp.js';

function base(): Record<string, any> {
  return {
    provider: 'acme',
    displayName: 'Acme',
    category: 'ai',
    vaultSecrets: { ACME_API_KEY: 'secret' },
    auth: { strategy: 'header', header: 'authorization', template: 'Bearer {{secret}}' },
    hosts: ['api.acme.com'],
    capabilities: [{ id: 'acme/chat', methods: ['POST'], pathPrefixes: ['/v1/chat'], host: 'api.acme.com' }],
    sdkEnv: { ACME_BASE_URL: '{{baseUrl}}/v/acme', ACME_API_KEY: '{{token}}' },
  };
}

/** Asserts validateProvider rejects `mutate(base())` naming file and field. */
function rejects(name: string, mutate: (p: Record<string, any>) => void, field: string, problem?: RegExp) {
  test(`rejects: ${name}`, () => {
    const p = base();
    mutate(p);
    assert.throws(
      () => validateProvider(p, 'bad.json'),
      (e: unknown) => {
        assert.ok(e instanceof AivaultError, 'AivaultError');
        assert.equal(e.code, 'registry_invalid');
        assert.ok(e.message.startsWith(`bad.json: ${field}: `), `message '${e.message}' should start with 'bad.json: ${field}: '`);
        if (problem) assert.match(e.message, problem);
        assert.equal(e.message.includes('\n'), false);
        return true;
      },
    );
  });
}

test('the base fixture is valid and normalises host -> hosts, header lowercase', () => {
  const p = base();
  p.auth.header = 'Authorization';
  const def = validateProvider(p, 'ok.json');
  assert.deepEqual(def.capabilities[0]!.hosts, ['api.acme.com']);
  assert.equal('host' in def.capabilities[0]!, false);
  assert.equal((def.auth as { header: string }).header, 'authorization');
  assert.deepEqual(def.sdkEnv, { ACME_BASE_URL: '{{baseUrl}}/v/acme', ACME_API_KEY: '{{token}}' });
});

test('capability without host/hosts inherits the provider hosts', () => {
  const p = base();
  p.hosts = ['api.acme.com', 'eu.acme.com'];
  delete p.capabilities[0].host;
  assert.deepEqual(validateProvider(p, 'ok.json').capabilities[0]!.hosts, ['api.acme.com', 'eu.acme.com']);
});

test("path prefix '/' is allowed when written explicitly", () => {
  const p = base();
  p.capabilities[0].pathPrefixes = ['/'];
  assert.deepEqual(validateProvider(p, 'ok.json').capabilities[0]!.pathPrefixes, ['/']);
});

// --- top level
rejects('not an object', (p) => { for (const k of Object.keys(p)) delete p[k]; Object.assign(p, { provider: 5 }); }, 'provider', /string/);
rejects('missing provider', (p) => delete p.provider, 'provider', /missing/);
rejects('bad provider id (uppercase)', (p) => (p.provider = 'Acme'), 'provider', /invalid provider id/);
rejects('bad provider id (slash)', (p) => (p.provider = 'ac/me'), 'provider', /invalid provider id/);
rejects('unknown top-level field', (p) => (p.hostz = ['x.com']), 'hostz', /unknown field/);
rejects('missing category', (p) => delete p.category, 'category', /missing/);
rejects('unknown category', (p) => (p.category = 'games'), 'category', /unknown category/);
rejects('displayName not a string', (p) => (p.displayName = 3), 'displayName', /string/);
rejects('docs not https', (p) => (p.docs = 'http://acme.com'), 'docs', /https/);
// --- vaultSecrets
rejects('missing vaultSecrets', (p) => delete p.vaultSecrets, 'vaultSecrets', /missing/);
rejects('empty vaultSecrets', (p) => (p.vaultSecrets = {}), 'vaultSecrets', /at least one/);
rejects('lowercase secret name', (p) => (p.vaultSecrets = { acme_key: 'secret' }), 'vaultSecrets.acme_key', /invalid secret name/);
rejects('secret field not a string', (p) => (p.vaultSecrets = { ACME_API_KEY: 1 }), 'vaultSecrets.ACME_API_KEY', /string/);
rejects('two secrets fill one field', (p) => (p.vaultSecrets = { A_KEY: 'secret', B_KEY: 'secret' }), 'vaultSecrets.B_KEY', /filled by two/);
// --- auth
rejects('missing auth', (p) => delete p.auth, 'auth', /missing/);
rejects('missing strategy', (p) => delete p.auth.strategy, 'auth.strategy', /missing/);
rejects('unknown strategy', (p) => (p.auth = { strategy: 'magic' }), 'auth.strategy', /unknown auth strategy 'magic'/);
rejects('template references unknown field', (p) => (p.auth.template = 'Bearer {{apiKey}}'), 'auth.template', /unknown field 'apiKey'/);
rejects('template without placeholder', (p) => (p.auth.template = 'Bearer fixed'), 'auth.template', /must reference/);
rejects('malformed placeholder', (p) => (p.auth.template = 'Bearer {{secret}'), 'auth.template', /malformed/);
rejects('invalid header name', (p) => (p.auth.header = 'x api key'), 'auth.header', /invalid header name/);
rejects('unknown auth field', (p) => (p.auth.extra = 1), 'auth.extra', /unknown field/);
rejects('query: bad param', (p) => (p.auth = { strategy: 'query', param: 'a b', template: '{{secret}}' }), 'auth.param', /invalid query parameter/);
rejects('path: prefix without /', (p) => (p.auth = { strategy: 'path', prefix: 'bot{{secret}}' }), 'auth.prefix', /start with/);
rejects('basic: no secret field used', (p) => (p.auth = { strategy: 'basic', username: 'api', password: '' }), 'auth', /basic auth must reference/);
rejects('basic: unknown field', (p) => (p.auth = { strategy: 'basic', username: '{{username}}', password: '{{secret}}' }), 'auth.username', /unknown field 'username'/);
rejects('multi-header: empty', (p) => (p.auth = { strategy: 'multi-header', headers: {} }), 'auth.headers', /empty/);
rejects('multi-query: unknown field', (p) => (p.auth = { strategy: 'multi-query', params: { key: '{{nope}}' } }), 'auth.params.key', /unknown field 'nope'/);
rejects('oauth2: token url not https', (p) => (p.auth = { strategy: 'oauth2', grant: 'client_credentials', tokenUrl: 'http://acme.com/token' }), 'auth.tokenUrl', /https/);
rejects('oauth2: unknown field', (p) => (p.auth = { strategy: 'oauth2', grant: 'client_credentials', tokenUrl: 'https://acme.com/t', clientSecret: '{{zzz}}' }), 'auth.clientSecret', /unknown field/);
// --- hosts
rejects('missing hosts', (p) => delete p.hosts, 'hosts', /missing/);
rejects('empty hosts', (p) => (p.hosts = []), 'hosts', /empty/);
rejects('host with scheme', (p) => (p.hosts = ['https://api.acme.com']), 'hosts[0]', /scheme/);
rejects('host with port', (p) => (p.hosts = ['api.acme.com:443']), 'hosts[0]', /port/);
rejects('host with path', (p) => (p.hosts = ['api.acme.com/v1']), 'hosts[0]', /path/);
rejects('host IPv4 literal', (p) => (p.hosts = ['169.254.169.254']), 'hosts[0]', /IP literal/);
rejects('host IPv6 literal', (p) => (p.hosts = ['[::1]']), 'hosts[0]', /IP literal/);
rejects('host uppercase', (p) => (p.hosts = ['API.acme.com']), 'hosts[0]', /lowercase/);
rejects('host single label', (p) => (p.hosts = ['localhost']), 'hosts[0]', /fully qualified/);
rejects('host duplicate', (p) => (p.hosts = ['api.acme.com', 'api.acme.com']), 'hosts[1]', /duplicate/);
// --- capabilities
rejects('missing capabilities', (p) => delete p.capabilities, 'capabilities', /missing/);
rejects('empty capabilities', (p) => (p.capabilities = []), 'capabilities', /empty/);
rejects('capability id not prefixed by provider/', (p) => (p.capabilities[0].id = 'other/chat'), 'capabilities[0].id', /prefixed by 'acme\/'/);
rejects('capability id without slash', (p) => (p.capabilities[0].id = 'chat'), 'capabilities[0].id', /acme\/<name>/);
rejects('capability bad name', (p) => (p.capabilities[0].id = 'acme/Chat Now'), 'capabilities[0].id', /invalid capability name/);
rejects('duplicate capability ids', (p) => p.capabilities.push({ ...p.capabilities[0] }), 'capabilities[1].id', /duplicate capability id/);
rejects('empty methods', (p) => (p.capabilities[0].methods = []), 'capabilities[0].methods', /empty/);
rejects('lowercase method', (p) => (p.capabilities[0].methods = ['post']), 'capabilities[0].methods[0]', /uppercase/);
rejects('unknown method', (p) => (p.capabilities[0].methods = ['CONNECT']), 'capabilities[0].methods[0]', /unknown HTTP method/);
rejects('empty path prefixes', (p) => (p.capabilities[0].pathPrefixes = []), 'capabilities[0].pathPrefixes', /empty/);
rejects('prefix without leading /', (p) => (p.capabilities[0].pathPrefixes = ['v1/chat']), 'capabilities[0].pathPrefixes[0]', /start with '\/'/);
rejects('prefix with ..', (p) => (p.capabilities[0].pathPrefixes = ['/v1/../admin']), 'capabilities[0].pathPrefixes[0]', /'\.\.'/);
rejects('prefix with query', (p) => (p.capabilities[0].pathPrefixes = ['/v1/chat?x=1']), 'capabilities[0].pathPrefixes[0]', /query/);
rejects('prefix with percent', (p) => (p.capabilities[0].pathPrefixes = ['/v1/%2e%2e']), 'capabilities[0].pathPrefixes[0]', /%/);
rejects('prefix with trailing slash', (p) => (p.capabilities[0].pathPrefixes = ['/v1/chat/']), 'capabilities[0].pathPrefixes[0]', /end with/);
rejects('prefix with empty segment', (p) => (p.capabilities[0].pathPrefixes = ['/v1//chat']), 'capabilities[0].pathPrefixes[0]', /empty/);
rejects('capability host not a provider host', (p) => (p.capabilities[0].host = 'evil.example.com'), 'capabilities[0].host', /not one of the provider's hosts/);
rejects('capability host and hosts both', (p) => (p.capabilities[0].hosts = ['api.acme.com']), 'capabilities[0].host', /either/);
rejects('capability host with scheme', (p) => (p.capabilities[0].host = 'https://api.acme.com'), 'capabilities[0].host', /scheme/);
rejects('capability unknown field', (p) => (p.capabilities[0].url = 'https://x.com'), 'capabilities[0].url', /unknown field/);
rejects('capability limits not positive', (p) => (p.capabilities[0].limits = { ratePerMinute: 0 }), 'capabilities[0].limits.ratePerMinute', /positive/);
// --- sdkEnv / authSlots
rejects('sdkEnv non-string value', (p) => (p.sdkEnv = { ACME_BASE_URL: 5 }), 'sdkEnv.ACME_BASE_URL', /string/);
rejects('sdkEnv references a secret', (p) => (p.sdkEnv = { ACME_API_KEY: '{{secret}}' }), 'sdkEnv.ACME_API_KEY', /unknown field 'secret'/);
rejects('sdkEnv bad name', (p) => (p.sdkEnv = { 'ACME-URL': 'x' }), 'sdkEnv.ACME-URL', /invalid environment variable name/);
rejects('sdkEnv reserved AIVAULT_ name', (p) => (p.sdkEnv = { AIVAULT_TOKEN: '{{token}}' }), 'sdkEnv.AIVAULT_TOKEN', /reserved/);
rejects('authSlots bad header', (p) => (p.authSlots = { headers: ['bad header'] }), 'authSlots.headers[0]', /invalid header name/);
rejects('authSlots unknown field', (p) => (p.authSlots = { cookies: ['a'] }), 'authSlots.cookies', /unknown field/);

test('validateHost accepts DNS names and *. wildcards, rejects the rest', () => {
  for (const ok of ['api.openai.com', 'a-b.c.io', '*.example.com', 'x1.y2.dev']) assert.equal(validateHost(ok, 'f', 'h'), ok);
  for (const bad of ['*', '*.com', 'a.*.com', '-a.com', 'a..com', 'http://a.com', 'a.com:80', '10.0.0.1', '0x7f000001', '2130706433', '::1', 'a.com.', 'user@a.com', 'a.123', ''])
    assert.throws(() => validateHost(bad, 'f', 'h'), /f: h: /, bad);
});

test('validateAuthSpec for custom credentials: fields are the caller\'s', () => {
  assert.deepEqual(validateAuthSpec({ strategy: 'query', param: 'key', template: '{{secret}}' }, 'credential create', ['secret']), {
    strategy: 'query',
    param: 'key',
    template: '{{secret}}',
  });
  assert.throws(() => validateAuthSpec({ strategy: 'header', header: 'x-k', template: '{{secret}}' }, 'credential create', []), /credential create: auth.template: template references unknown field 'secret'/);
  assert.throws(() => validateAuthSpec({ strategy: 'kerberos' }, 'credential create', ['secret']), /unknown auth strategy/);
});

test('validateCapabilityDef for custom capabilities', () => {
  const c = validateCapabilityDef({ id: 'acme/x', methods: ['GET'], pathPrefixes: ['/a'], hosts: ['api.acme.com'] }, 'capability create', { provider: 'acme' });
  assert.deepEqual(c, { id: 'acme/x', methods: ['GET'], pathPrefixes: ['/a'], hosts: ['api.acme.com'] });
  assert.throws(() => validateCapabilityDef({ id: 'acme/x', methods: ['GET'], pathPrefixes: ['/a'] }, 'capability create', { provider: 'acme' }), /capability create: capability.hosts: missing/);
  assert.throws(() => validateCapabilityDef({ id: 'acme/x', methods: [], pathPrefixes: ['/a'], host: 'a.b.com' }, 'cli', { provider: 'acme' }), /cli: capability.methods: must not be empty/);
});

test('error messages never echo a secret-looking template', () => {
  const p = base();
  p.auth.template = 'Bearer sk-SENTINEL-123 {{secret}';
  assert.throws(() => validateProvider(p, 'bad.json'), (e: unknown) => e instanceof AivaultError && !e.message.includes('SENTINEL'));
});

// --- loader (whole folder)
function tempRegistry(files: Record<string, unknown>): string {
  const dir = tempDir('aivault-reg-');
  for (const [name, json] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), typeof json === 'string' ? json : JSON.stringify(json));
  return dir;
}

test('loadRegistry: invalid JSON names the file', () => {
  const dir = tempRegistry({ 'acme.json': '{"provider": "acme",' });
  assert.throws(() => loadRegistry(dir), (e: unknown) => e instanceof AivaultError && e.code === 'registry_invalid' && e.message.includes(path.join(dir, 'acme.json')) && /invalid JSON/.test(e.message));
});

test('loadRegistry: provider id must match the file name', () => {
  const dir = tempRegistry({ 'other.json': base() });
  assert.throws(() => loadRegistry(dir), /other\.json: provider: 'acme' does not match the file name/);
});

test('loadRegistry: a secret name claimed by two providers is an error', () => {
  const b = base();
  b.provider = 'beta';
  b.capabilities[0].id = 'beta/chat';
  const dir = tempRegistry({ 'acme.json': base(), 'beta.json': b });
  assert.throws(() => loadRegistry(dir), /beta\.json: vaultSecrets\.ACME_API_KEY: already claimed by provider 'acme'/);
});

test('loadRegistry: fails closed on one bad file among good ones', () => {
  const b = base();
  b.provider = 'beta';
  b.capabilities[0].id = 'beta/chat';
  b.vaultSecrets = { BETA_KEY: 'secret' };
  b.auth.strategy = 'telepathy';
  const dir = tempRegistry({ 'acme.json': base(), 'beta.json': b });
  assert.throws(() => loadRegistry(dir), /beta\.json: auth\.strategy: unknown auth strategy/);
});

test('loadRegistry: lookups, normalised capabilities, caching, immutability', () => {
  const dir = tempRegistry({ 'acme.json': base(), 'README.md': 'not json, ignored' });
  const r = loadRegistry(dir);
  assert.equal(r.providers.length, 1);
  assert.equal(r.claimantOf('ACME_API_KEY')?.provider, 'acme');
  assert.equal(r.claimantOf('OTHER'), undefined);
  assert.equal(r.claimantOf('__proto__'), undefined);
  assert.equal(r.provider('constructor'), undefined);
  assert.deepEqual(r.capability('acme/chat'), {
    id: 'acme/chat',
    methods: ['POST'],
    pathPrefixes: ['/v1/chat'],
    hosts: ['api.acme.com'],
    provider: 'acme',
    custom: false,
  });
  assert.deepEqual(r.capabilitiesOf('acme').map((c) => c.id), ['acme/chat']);
  assert.deepEqual(r.capabilitiesOf('nope'), []);
  assert.equal(loadRegistry(dir), r, 'cached per dir');
  assert.throws(() => {
    (r.capability('acme/chat')!.pathPrefixes as string[]).push('/');
  }, TypeError);
  assert.throws(() => {
    (r.provider('acme')!.hosts as string[]).push('evil.com');
  }, TypeError);
});

test('loadRegistry: missing folder is registry_invalid', () => {
  assert.throws(() => loadRegistry(path.join(os.tmpdir(), 'aivault-no-such-registry-dir')), (e: unknown) => e instanceof AivaultError && e.code === 'registry_invalid');
});
