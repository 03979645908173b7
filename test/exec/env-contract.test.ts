/**
 * The child's environment end to end (SPEC §5): nothing outside the contract reaches it, checked in
 * process.env and in /proc/self/environ; --env-file/--from-env classification; .env migration from
 * dotenv-cli; --profile.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { ENV_ALLOWLIST } from '../../src/exec/env.js';
import { fx, FX, launch, NODE, runCli, tempVaultDir, tmpDir, vaultWith } from './launch.js';

const VAULT_OPENAI = 'sk-SENTINEL-vault-openai-c0ffee';
const VAULT_ANTHROPIC = 'sk-ant-SENTINEL-vault-anthropic-beef';
const HOSTILE = {
  OPENAI_API_KEY: 'sk-SENTINEL-parent-openai',
  GITHUB_TOKEN: 'ghp_SENTINEL_parent',
  AWS_SECRET_ACCESS_KEY: 'SENTINEL/aws/secret',
  NODE_OPTIONS: '--max-old-space-size=512',
  AIVAULT_PASSPHRASE: 'SENTINEL-passphrase',
  AIVAULT_DEBUG: '0',
  LD_PRELOAD: '',
  LC_ALL: 'C',
  TZ: 'UTC',
  CI: 'true',
  RANDOM_APP_SETTING: 'SENTINEL-app',
};
let vault = '';
let work = '';
let fake: FakeProvider;

before(async () => {
  vault = await vaultWith({ OPENAI_API_KEY: VAULT_OPENAI, ANTHROPIC_API_KEY: VAULT_ANTHROPIC });
  work = tmpDir();
  fake = await startFakeProvider();
  fake.on('POST', '/v1/chat/completions', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok-via-broker' }, finish_reason: 'stop' }] }));
  });
});
after(async () => {
  await fake.close();
  fs.rmSync(vault, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

interface Dump {
  env: Record<string, string>;
  environ: string[] | null;
}
const readDump = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Dump;

test('the child sees only the contract, in process.env and /proc/self/environ', async () => {
  const out = path.join(work, 'contract.json');
  const r = await launch(['--allow', 'openai/*,anthropic/messages', '--', NODE, fx('env-dump.mjs'), out], {
    env: { AIVAULT_DIR: vault, ...fake.devEnv(), ...HOSTILE },
  }).done;
  assert.equal(r.code, 0, r.stderr);
  const { env, environ } = readDump(out);
  const allowed = new Set([
    ...ENV_ALLOWLIST,
    'AIVAULT_BASE_URL', 'AIVAULT_TOKEN', 'AIVAULT_RUN_ID',
    'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY',
  ]);
  for (const k of Object.keys(env)) assert.ok(allowed.has(k) || k.startsWith('LC_'), `unexpected variable ${k}`);
  for (const k of ['NODE_OPTIONS', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AIVAULT_PASSPHRASE', 'AIVAULT_DIR', 'AIVAULT_DEV_RESOLVE', 'AIVAULT_DEV_CA_CERT_PATH', 'AIVAULT_DEBUG', 'LD_PRELOAD', 'RANDOM_APP_SETTING']) {
    assert.equal(env[k], undefined, k);
  }
  assert.equal(env.LC_ALL, 'C');
  assert.equal(env.TZ, 'UTC');
  assert.equal(env.CI, 'true');
  assert.match(env.AIVAULT_BASE_URL!, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(env.OPENAI_API_KEY, env.AIVAULT_TOKEN, 'the SDK key is the run token');
  assert.equal(env.ANTHROPIC_API_KEY, env.AIVAULT_TOKEN);
  assert.equal(env.OPENAI_BASE_URL, `${env.AIVAULT_BASE_URL}/v/openai/v1`);
  assert.equal(env.ANTHROPIC_BASE_URL, `${env.AIVAULT_BASE_URL}/v/anthropic`);
  assert.equal(env.ANTHROPIC_CONFIG_DIR, undefined, 'no ANTHROPIC_CONFIG_DIR: it only made the Python SDK warn (issue 11 item 6)');
  const all = JSON.stringify({ env, environ });
  assert.ok(!all.includes('SENTINEL'), 'no secret and no parent secret reaches the child');
  if (environ) {
    assert.deepEqual([...environ].sort(), Object.entries(env).map(([k, v]) => `${k}=${v}`).sort(), '/proc/self/environ matches process.env');
  }
});

test('--set-env/--pass-env add variables; NODE_OPTIONS only when explicit, with a warning that --quiet silences', async () => {
  const out = path.join(work, 'explicit.json');
  const args = ['--allow', 'openai/models', '--set-env', 'NODE_OPTIONS=--max-old-space-size=300', '--set-env', 'APP_MODE=a=b', '--pass-env', 'RANDOM_APP_SETTING', '--pass-env', 'NOT_SET_ANYWHERE', '--', NODE, fx('env-dump.mjs'), out];
  const r = await launch(args, { env: { AIVAULT_DIR: vault, ...HOSTILE } }).done;
  assert.equal(r.code, 0, r.stderr);
  const { env } = readDump(out);
  assert.equal(env.NODE_OPTIONS, '--max-old-space-size=300');
  assert.equal(env.APP_MODE, 'a=b');
  assert.equal(env.RANDOM_APP_SETTING, 'SENTINEL-app');
  assert.equal(env.NOT_SET_ANYWHERE, undefined);
  assert.match(r.stderr, /warning: NODE_OPTIONS/);
  assert.match(r.stderr, /NOT_SET_ANYWHERE: not set/);
  const q = await launch(['--quiet', ...args], { env: { AIVAULT_DIR: vault, ...HOSTILE } }).done;
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stderr, '');
});

test('--env-file: claimed names become run-only secrets, secret-shaped names and credential URLs are withheld', async () => {
  const emptyVault = await vaultWith({});
  try {
    const envFile = path.join(work, 'app.env');
    fs.writeFileSync(
      envFile,
      [
        'export OPENAI_API_KEY="sk-SENTINEL-dotenv-key"',
        'PORT=3000',
        "GREETING='multi",
        "line'",
        'DB_PASSWORD=SENTINEL-db-password',
        'DATABASE_URL=postgres://app:SENTINEL-pw@db:5432/app',
        'CACHE_URL=redis://cache:6379',
        'AIVAULT_DIR=/somewhere/else',
        '',
      ].join('\r\n'),
    );
    const out = path.join(work, 'envfile.json');
    fake.reset();
    fake.on('POST', '/v1/chat/completions', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    const r = await launch(['--env-file', envFile, '--allow', 'openai/chat-completions', '--', NODE, fx('env-dump.mjs'), out], {
      env: { AIVAULT_DIR: emptyVault, ...fake.devEnv() },
    }).done;
    assert.equal(r.code, 0, `the run secret satisfied the credential: ${r.stderr}`);
    const { env } = readDump(out);
    assert.equal(env.PORT, '3000');
    assert.equal(env.GREETING, 'multi\nline');
    assert.equal(env.CACHE_URL, 'redis://cache:6379');
    assert.equal(env.DB_PASSWORD, undefined);
    assert.equal(env.DATABASE_URL, undefined);
    assert.equal(env.AIVAULT_DIR, undefined);
    assert.equal(env.OPENAI_API_KEY, env.AIVAULT_TOKEN);
    assert.ok(!JSON.stringify(env).includes('SENTINEL'));
    assert.match(r.stderr, /withheld from the command: .*DB_PASSWORD \(secret-shaped name\).*DATABASE_URL \(credentials in value\)/);
    assert.ok(!r.stderr.includes('SENTINEL'), 'warnings name variables, never values');
    // never written to the vault
    const list = await runCli(['secrets', 'list', '--json'], { env: { AIVAULT_DIR: emptyVault } });
    assert.ok(!list.stdout.includes('OPENAI_API_KEY'), list.stdout);
    // the run secret is what the broker injected
    const token = env.AIVAULT_TOKEN!;
    assert.ok(token);
    // --pass-env releases a withheld name (value from the env file)
    const out2 = path.join(work, 'envfile2.json');
    const r2 = await launch(['--env-file', envFile, '--pass-env', 'DATABASE_URL', '--allow', 'openai/models', '--', NODE, fx('env-dump.mjs'), out2], {
      env: { AIVAULT_DIR: emptyVault },
    }).done;
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(readDump(out2).env.DATABASE_URL, 'postgres://app:SENTINEL-pw@db:5432/app');
    assert.match(r2.stderr, /DB_PASSWORD/);
    assert.ok(!/DATABASE_URL \(/.test(r2.stderr));
  } finally {
    fs.rmSync(emptyVault, { recursive: true, force: true });
  }
});

test('--from-env: a CI secret from the launcher env is brokered for the run and wins over the vault', async () => {
  fake.reset();
  fake.on('POST', '/v1/chat/completions', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'stop' }] }));
  });
  const r = await launch(['--from-env', 'OPENAI_API_KEY', '--allow', 'openai/chat-completions', '--', NODE, fx('sdk-openai.mjs')], {
    env: { AIVAULT_DIR: vault, ...fake.devEnv(), OPENAI_API_KEY: 'sk-SENTINEL-ci-secret' },
  }).done;
  assert.equal(r.code, 0, r.stderr);
  const chats = fake.requests.filter((q) => q.path === '/v1/chat/completions');
  assert.ok(chats.length > 0);
  for (const q of chats) assert.equal(q.headers.authorization, 'Bearer sk-SENTINEL-ci-secret');
});

test('.env migration: `dotenv -e .env -- node app.mjs` → `aivault exec --env-file .env --allow openai/* -- node app.mjs`', async () => {
  const project = path.join(FX, 'dotenv-project');
  const envFile = path.join(work, 'migrate.env');
  fs.writeFileSync(envFile, 'OPENAI_API_KEY=sk-SENTINEL-migrate\nPORT=8080\nGREETING=hello\n');
  const emptyVault = await vaultWith({});
  // Before: dotenv-cli hands the raw key to the app (here talking to a local plain-HTTP stand-in).
  const stand = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'direct' }, finish_reason: 'stop' }] }));
    });
  });
  await new Promise<void>((res) => stand.listen(0, '127.0.0.1', res));
  try {
    const dotenvBin = path.join(ROOT, 'node_modules', '.bin', 'dotenv');
    const before = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(dotenvBin, ['-e', envFile, '--', NODE, 'app.mjs'], {
        cwd: project,
        env: { PATH: process.env.PATH ?? '', OPENAI_BASE_URL: `http://127.0.0.1:${(stand.address() as AddressInfo).port}/v1` },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      c.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      c.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(before.code, 0);
    const b = JSON.parse(before.out) as Record<string, unknown>;
    assert.equal(b.rawKeyVisible, true, 'with dotenv the app holds the key');
    assert.equal(b.port, '8080');
    // After: same app, same .env, no key in the app.
    fake.reset();
    fake.on('POST', '/v1/chat/completions', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'brokered' }, finish_reason: 'stop' }] }));
    });
    const r = await launch(['--env-file', envFile, '--allow', 'openai/*', '--', 'node', 'app.mjs'], {
      cwd: project,
      env: { AIVAULT_DIR: emptyVault, ...fake.devEnv() },
    }).done;
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(r.stdout.toString()) as Record<string, unknown>;
    assert.deepEqual(a, { port: '8080', greeting: 'hello', dbPassword: null, databaseUrl: null, rawKeyVisible: false, content: 'brokered' });
    assert.equal(fake.requests[0]?.headers.authorization, 'Bearer sk-SENTINEL-migrate');
  } finally {
    stand.close();
    fs.rmSync(emptyVault, { recursive: true, force: true });
  }
});

test('--profile from package.json "aivault".profiles; command-line flags add to it', async () => {
  const project = path.join(FX, 'dotenv-project');
  const out = path.join(work, 'profile.json');
  const r = await launch(['--profile', 'dev', '--set-env', 'EXTRA=1', '--', NODE, fx('env-dump.mjs'), out], { cwd: project, env: { AIVAULT_DIR: vault } }).done;
  assert.equal(r.code, 0, r.stderr);
  const { env } = readDump(out);
  assert.equal(env.GREETING, 'from-profile');
  assert.equal(env.EXTRA, '1');
  assert.equal(env.OPENAI_BASE_URL, `${env.AIVAULT_BASE_URL}/v/openai/v1`, 'profile allow list applied');
  const o = await launch(['--profile', 'dev', '--set-env', 'GREETING=cli', '--', NODE, fx('env-dump.mjs'), out], { cwd: project, env: { AIVAULT_DIR: vault } }).done;
  assert.equal(o.code, 0, o.stderr);
  assert.equal(readDump(out).env.GREETING, 'cli');
});

test('a provider key from --env-file without a matching --allow gets a hint naming it (not its value)', async () => {
  const dir = tempVaultDir();
  const envFile = path.join(dir, 'hint.env');
  fs.writeFileSync(envFile, 'OPENAI_API_KEY=sk-SENTINEL-hint-0123456789\nPORT=1\n');
  const r = await runCli(['exec', '--env-file', envFile, '--', 'true'], { env: { AIVAULT_DIR: dir } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /OPENAI_API_KEY is brokered only for openai, and no openai capability is allowed; add --allow 'openai\/\*'/);
  assert.equal(r.stderr.includes('sk-SENTINEL-hint'), false);
  const quiet = await runCli(['exec', '--quiet', '--env-file', envFile, '--', 'true'], { env: { AIVAULT_DIR: dir } });
  assert.equal(quiet.stderr, '');
  const allowed = await runCli(['exec', '--env-file', envFile, '--allow', 'openai/models', '--', 'true'], { env: { AIVAULT_DIR: dir } });
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.doesNotMatch(allowed.stderr, /brokered only for/);
});
