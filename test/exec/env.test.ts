import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildChildEnv, isAllowlisted, isLauncherSetting, isRiskyName, renderSdkValue, type ChildEnvInput } from '../../src/exec/env.js';

const SENTINEL = 'sk-SENTINEL-env-0123456789';

/** A parent environment holding everything that must NOT reach the child. */
const HOSTILE_PARENT: Record<string, string> = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/u',
  USER: 'u',
  LOGNAME: 'u',
  SHELL: '/bin/bash',
  TERM: 'xterm',
  COLORTERM: 'truecolor',
  LANG: 'en_US.UTF-8',
  LANGUAGE: 'en',
  LC_ALL: 'C',
  LC_CTYPE: 'C.UTF-8',
  TZ: 'UTC',
  TMPDIR: '/tmp',
  TMP: '/tmp',
  TEMP: '/tmp',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
  CI: 'true',
  OPENAI_API_KEY: SENTINEL,
  ANTHROPIC_API_KEY: SENTINEL,
  GITHUB_TOKEN: SENTINEL,
  AWS_SECRET_ACCESS_KEY: SENTINEL,
  AWS_ACCESS_KEY_ID: 'AKIA',
  NODE_OPTIONS: '--require /evil.js',
  LD_PRELOAD: '/evil.so',
  DYLD_INSERT_LIBRARIES: '/evil.dylib',
  AIVAULT_DIR: '/vault',
  AIVAULT_PASSPHRASE: SENTINEL,
  AIVAULT_KEK: SENTINEL,
  AIVAULT_DEV_RESOLVE: 'api.openai.com=127.0.0.1:1',
  AIVAULT_DEV_CA_CERT_PATH: '/ca.pem',
  AIVAULT_DISABLE_DISK_LOGS: '1',
  NPM_CONFIG_TOKEN: SENTINEL,
  SSH_AUTH_SOCK: '/tmp/ssh',
  DATABASE_URL: 'postgres://u:p@h/db',
  Path: 'C:\\win',
  SystemRoot: 'C:\\Windows',
  lc_lower: 'x',
  PATHX: 'x',
  XPATH: 'x',
};

const base = (over: Partial<ChildEnvInput> = {}): ChildEnvInput => ({
  parentEnv: HOSTILE_PARENT,
  platform: 'linux',
  baseUrl: 'http://127.0.0.1:4444',
  token: 'avt_TOKEN',
  runId: 'run-1',
  providers: [],
  ...over,
});

test('allow-list: exactly the harmless names survive on linux', () => {
  const env = buildChildEnv(base());
  assert.deepEqual(Object.keys(env).sort(), [
    'AIVAULT_BASE_URL', 'AIVAULT_RUN_ID', 'AIVAULT_TOKEN',
    'CI', 'COLORTERM', 'FORCE_COLOR', 'HOME', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'LOGNAME',
    'NO_COLOR', 'PATH', 'SHELL', 'TEMP', 'TERM', 'TMP', 'TMPDIR', 'TZ', 'USER',
  ]);
  assert.equal(env.PATH, '/usr/bin:/bin');
  assert.equal(env.AIVAULT_BASE_URL, 'http://127.0.0.1:4444');
  assert.equal(env.AIVAULT_TOKEN, 'avt_TOKEN');
  assert.equal(env.AIVAULT_RUN_ID, 'run-1');
  assert.ok(!Object.values(env).includes(SENTINEL));
});

test('allow-list table', () => {
  const rows: Array<[string, NodeJS.Platform, boolean]> = [
    ['PATH', 'linux', true],
    ['Path', 'linux', false],
    ['Path', 'win32', true],
    ['path', 'win32', true],
    ['LC_ALL', 'linux', true],
    ['LC_', 'linux', true],
    ['lc_all', 'linux', false],
    ['SystemRoot', 'linux', false],
    ['SystemRoot', 'win32', true],
    ['SYSTEMROOT', 'win32', true],
    ['APPDATA', 'win32', true],
    ['USERPROFILE', 'win32', true],
    ['ComSpec', 'win32', true],
    ['PATHEXT', 'win32', true],
    ['NODE_OPTIONS', 'linux', false],
    ['NODE_OPTIONS', 'win32', false],
    ['OPENAI_API_KEY', 'linux', false],
    ['AIVAULT_DIR', 'linux', false],
    ['XPATH', 'linux', false],
    ['HOMEX', 'linux', false],
    ['', 'linux', false],
  ];
  for (const [name, platform, want] of rows) assert.equal(isAllowlisted(name, platform), want, `${name} on ${platform}`);
});

test('windows: one spelling per case-insensitive name, later layers replace', () => {
  const env = buildChildEnv(base({ platform: 'win32', parentEnv: { Path: 'C:\\a', windir: 'C:\\W' }, setEnv: { PATH: 'C:\\b' } }));
  assert.equal(env.PATH, 'C:\\b');
  assert.equal(env.Path, undefined);
  assert.equal(env.windir, 'C:\\W');
});

test('sdkEnv of allowed providers is rendered after AIVAULT_* and never holds the real key', () => {
  const env = buildChildEnv(
    base({
      providers: [
        { provider: 'openai', sdkEnv: { OPENAI_BASE_URL: '{{baseUrl}}/v/openai/v1', OPENAI_API_KEY: '{{token}}' } },
        { provider: 'anthropic', sdkEnv: { ANTHROPIC_BASE_URL: '{{ baseUrl }}/v/anthropic', ANTHROPIC_API_KEY: '{{token}}' } },
        { provider: 'nosdk' },
      ],
    }),
  );
  assert.equal(env.OPENAI_BASE_URL, 'http://127.0.0.1:4444/v/openai/v1');
  assert.equal(env.OPENAI_API_KEY, 'avt_TOKEN');
  assert.equal(env.ANTHROPIC_BASE_URL, 'http://127.0.0.1:4444/v/anthropic');
  assert.equal(env.ANTHROPIC_API_KEY, 'avt_TOKEN');
  assert.equal(env.GITHUB_TOKEN, undefined);
});

test('layer order: file env < AIVAULT_* < sdkEnv < isolation < pass-env < set-env', () => {
  const env = buildChildEnv(
    base({
      providers: [{ provider: 'openai', sdkEnv: { OPENAI_BASE_URL: '{{baseUrl}}/v1' } }],
      fileEnv: { TZ: 'file', OPENAI_BASE_URL: 'https://api.openai.com/v1', AIVAULT_TOKEN: 'file-token', AIVAULT_DIR: '/x', APP: 'file', BOTH: 'file' },
      isolationEnv: { ANTHROPIC_CONFIG_DIR: '/empty' },
      passEnv: { BOTH: 'pass', DEBUG: 'pass' },
      setEnv: { DEBUG: 'set', NODE_OPTIONS: '--max-old-space-size=64' },
    }),
  );
  assert.equal(env.TZ, 'file', 'env file overrides allow-listed parent value');
  assert.equal(env.OPENAI_BASE_URL, 'http://127.0.0.1:4444/v1', 'env file cannot redirect the SDK away from the broker');
  assert.equal(env.AIVAULT_TOKEN, 'avt_TOKEN', 'env file cannot replace the run token');
  assert.equal(env.AIVAULT_DIR, undefined, 'AIVAULT_* from env files never reach the child');
  assert.equal(env.APP, 'file');
  assert.equal(env.BOTH, 'pass');
  assert.equal(env.DEBUG, 'set');
  assert.equal(env.ANTHROPIC_CONFIG_DIR, '/empty');
  assert.equal(env.NODE_OPTIONS, '--max-old-space-size=64', 'explicit --set-env is honoured');
});

test('NODE_OPTIONS / LD_PRELOAD only when explicitly set', () => {
  assert.equal(buildChildEnv(base()).NODE_OPTIONS, undefined);
  assert.equal(buildChildEnv(base()).LD_PRELOAD, undefined);
  assert.equal(buildChildEnv(base({ passEnv: { NODE_OPTIONS: 'x' } })).NODE_OPTIONS, 'x');
});

test('name classifiers', () => {
  for (const n of ['AIVAULT_DIR', 'AIVAULT_DEV_RESOLVE', 'aivault_passphrase']) assert.ok(isLauncherSetting(n), n);
  for (const n of ['AIVAULTDIR', 'MY_AIVAULT_DIR']) assert.ok(!isLauncherSetting(n), n);
  for (const n of ['NODE_OPTIONS', 'LD_PRELOAD', 'DYLD_INSERT_LIBRARIES', 'DYLD_LIBRARY_PATH', 'ld_preload']) assert.ok(isRiskyName(n), n);
  for (const n of ['NODE_ENV', 'PRELOAD', 'PATH']) assert.ok(!isRiskyName(n), n);
});

test('renderSdkValue leaves unknown placeholders alone', () => {
  assert.equal(renderSdkValue('{{baseUrl}}|{{token}}|{{other}}', { baseUrl: 'B', token: 'T' }), 'B|T|{{other}}');
  assert.equal(renderSdkValue('$&{{token}}', { baseUrl: 'B', token: '$&x' }), '$&$&x', 'replacement patterns are not interpreted');
});

test('parent values that are not strings are ignored', () => {
  const env = buildChildEnv(base({ parentEnv: { PATH: undefined, HOME: '/h' } }));
  assert.equal('PATH' in env, false);
  assert.equal(env.HOME, '/h');
});
