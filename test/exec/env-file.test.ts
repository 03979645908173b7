import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { carriesCredentials, classifyRunEnv, isSecretShapedName, readRunEnv, type RunEnvEntry } from '../../src/exec/env-file.js';
import { parseDotenv } from '../../src/dotenv/parse.js';
import { tempDir } from '../helpers/tmp.js';

const claimed = (n: string) => ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GITHUB_TOKEN'].includes(n);
const e = (key: string, value: string, source = '.env'): RunEnvEntry => ({ key, value, source });

test('secret-shaped names table', () => {
  const yes = ['API_KEY', 'apikey', 'MY_SECRET', 'GH_TOKEN', 'DB_PASSWORD', 'DB_PASSWD', 'GOOGLE_CREDENTIALS', 'PRIVATE_PEM', 'AUTH_HEADER', 'OAUTH_ID', 'SESSION_ID', 'COOKIE_JAR', 'monkey'];
  const no = ['PORT', 'NODE_ENV', 'LOG_LEVEL', 'DATABASE_HOST', 'PATH', 'APP_NAME'];
  for (const n of yes) assert.ok(isSecretShapedName(n), n);
  for (const n of no) assert.ok(!isSecretShapedName(n), n);
});

test('credential-carrying values table', () => {
  const yes = ['postgres://user:pass@db:5432/x', 'redis://:hunter2@cache:6379', 'see https://a:b@host/x', 'amqp://guest:guest@localhost'];
  const no = ['postgres://db:5432/x', 'https://user@host/x', 'http://host:8080/x', 'mailto:me@example.com', 'a:b@c', 'plain', ''];
  for (const v of yes) assert.ok(carriesCredentials(v), v);
  for (const v of no) assert.ok(!carriesCredentials(v), v);
});

test('classification: claimed → ephemeral, secret-shaped/credential URL/AIVAULT_* → withheld, rest → passthrough', () => {
  const c = classifyRunEnv(
    [
      e('OPENAI_API_KEY', 'sk-SENTINEL-1'),
      e('PORT', '3000'),
      e('STRIPE_SECRET', 'sk_live_x'),
      e('DATABASE_URL', 'postgres://u:p@h/d'),
      e('AIVAULT_DIR', '/elsewhere'),
      e('LOG_LEVEL', 'debug'),
    ],
    claimed,
  );
  assert.deepEqual([...c.ephemeral], [['OPENAI_API_KEY', 'sk-SENTINEL-1']]);
  assert.deepEqual(c.passthrough, { PORT: '3000', LOG_LEVEL: 'debug' });
  assert.deepEqual(c.withheld, [
    { name: 'STRIPE_SECRET', reason: 'secret-shaped name' },
    { name: 'DATABASE_URL', reason: 'credentials in value' },
    { name: 'AIVAULT_DIR', reason: 'launcher setting' },
  ]);
  assert.equal(c.withheldValues.get('STRIPE_SECRET'), 'sk_live_x');
});

test('later entries override earlier ones (files in order, then --from-env)', () => {
  const c = classifyRunEnv(
    [e('PORT', '1', 'a.env'), e('OPENAI_API_KEY', 'old', 'a.env'), e('PORT', '2', 'b.env'), e('OPENAI_API_KEY', 'new', '--from-env')],
    claimed,
  );
  assert.equal(c.passthrough.PORT, '2');
  assert.equal(c.ephemeral.get('OPENAI_API_KEY'), 'new');
});

test('a value moving between classes follows the last definition', () => {
  const c = classifyRunEnv([e('URL', 'https://a:b@h'), e('URL', 'https://h')], claimed);
  assert.deepEqual(c.passthrough, { URL: 'https://h' });
  assert.deepEqual(c.withheld, []);
});

test('readRunEnv: files in order, --from-env from the launcher env, errors name the file/var', () => {
  const dir = tempDir('aivault-envfile-');
  try {
    fs.writeFileSync(path.join(dir, 'a.env'), 'export A=1\r\nB="two\nlines"\n# c\n');
    fs.writeFileSync(path.join(dir, 'b.env'), "A='3'\n");
    const entries = readRunEnv(['a.env', 'b.env'], ['CI_SECRET'], { CI_SECRET: 'x' }, parseDotenv, dir);
    assert.deepEqual(
      entries.map((x) => [x.key, x.value, x.source]),
      [['A', '1', 'a.env'], ['B', 'two\nlines', 'a.env'], ['A', '3', 'b.env'], ['CI_SECRET', 'x', '--from-env']],
    );
    assert.throws(() => readRunEnv(['missing.env'], [], {}, parseDotenv, dir), (err: Error & { code?: string }) => err.code === 'exec_setup' && /missing\.env/.test(err.message));
    assert.throws(() => readRunEnv([], ['NOPE'], {}, parseDotenv, dir), /--from-env NOPE: not set/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
