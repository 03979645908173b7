/**
 * Issue 11 item 2: --set-env, a profile's setEnv and --pass-env share one checker. Table of names
 * and values that must be refused (and ones that must not), then the real CLI: exit 125 and the
 * child never starts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkChildVars, type ChildVarsInput } from '../../src/exec/child-vars.js';
import type { ProviderDef } from '../../src/registry/types.js';
import { fx, launch, NODE, tmpDir, vaultWith } from './launch.js';
import { registerSensitive } from '../helpers/suite-registry.js';

const STORED = 'sk-SENTINEL-stored-4f1e2d';
const RUN = 'sk-SENTINEL-run-9a8b7c';
const OPENAI = { provider: 'openai', sdkEnv: { OPENAI_BASE_URL: '{{baseUrl}}/v/openai/v1', OPENAI_API_KEY: '{{token}}' } } as Pick<ProviderDef, 'provider' | 'sdkEnv'>;
const CLAIMS: Record<string, string> = { OPENAI_API_KEY: 'openai', ANTHROPIC_API_KEY: 'anthropic' };

function input(over: Partial<ChildVarsInput>): ChildVarsInput {
  return {
    passEnv: [],
    setEnv: {},
    parentEnv: { FROM_PARENT: 'ok', PARENT_SECRET: STORED },
    runEnv: { ephemeral: new Map([['ANTHROPIC_API_KEY', RUN]]), passthrough: {}, withheld: [], withheldValues: new Map() },
    claimantOf: (n) => (CLAIMS[n] ? ({ provider: CLAIMS[n] } as ProviderDef) : undefined),
    providers: [OPENAI],
    containsValue: async (v) => v === STORED,
    ...over,
  };
}

// [description, setEnv, refusal pattern or null]
const SET_CASES: Array<[string, Record<string, string>, RegExp | null]> = [
  ['claimed name with the real key', { OPENAI_API_KEY: STORED }, /--set-env OPENAI_API_KEY: refused, OPENAI_API_KEY belongs to provider 'openai'/],
  ['claimed name of a provider not in the run', { ANTHROPIC_API_KEY: 'x' }, /belongs to provider 'anthropic'/],
  ['claimed name, other case', { openai_api_key: 'x' }, /belongs to provider 'openai'/],
  ['AIVAULT_TOKEN', { AIVAULT_TOKEN: 'x' }, /AIVAULT_\* settings/],
  ['AIVAULT_BASE_URL', { AIVAULT_BASE_URL: 'http://evil' }, /AIVAULT_\* settings/],
  ['aivault_dir lower case', { aivault_dir: '/tmp' }, /AIVAULT_\* settings/],
  ['the run sdkEnv base URL', { OPENAI_BASE_URL: 'https://api.openai.com/v1' }, /OPENAI_BASE_URL: refused, this run sets it/],
  ['the run sdkEnv base URL, other case', { openai_base_url: 'x' }, /refused, this run sets it/],
  ['a stored secret value', { FOO: STORED }, /FOO: refused, its value is a secret/],
  ['a stored secret value with a newline', { FOO: STORED + '\n' }, /FOO: refused, its value is a secret/],
  ['a run secret value', { BAR: RUN }, /BAR: refused, its value is a secret/],
  ['a value containing a run secret', { URL: `https://x.test/?k=${RUN}` }, /URL: refused, its value is a secret/],
  ['ordinary variable', { LOG_LEVEL: 'debug' }, null],
  ['empty value', { EMPTY: '' }, null],
  ['base URL of a provider not in the run', { ANTHROPIC_BASE_URL: 'http://x' }, null],
];
for (const [what, setEnv, want] of SET_CASES) {
  test(`child vars (--set-env): ${what}`, async () => {
    const p = checkChildVars(input({ setEnv }));
    if (want === null) await p;
    else await assert.rejects(p, (e: Error) => want.test(e.message) && !e.message.includes(STORED) && !e.message.includes(RUN));
  });
}

test('child vars: profile setEnv is named as such in the refusal', async () => {
  await assert.rejects(checkChildVars(input({ setEnv: { OPENAI_API_KEY: 'x' }, setEnvOrigin: { OPENAI_API_KEY: 'profile setEnv' } })), /^.*profile setEnv OPENAI_API_KEY: refused/);
});

test('child vars: --pass-env gets the same refusals, including the run sdkEnv names', async () => {
  await assert.rejects(checkChildVars(input({ passEnv: ['OPENAI_BASE_URL'], parentEnv: { OPENAI_BASE_URL: 'x' } })), /--pass-env OPENAI_BASE_URL: refused, this run sets it/);
  await assert.rejects(checkChildVars(input({ passEnv: ['PARENT_SECRET'] })), /--pass-env PARENT_SECRET: refused, its value is a secret/);
  await assert.rejects(checkChildVars(input({ passEnv: ['AIVAULT_TOKEN'] })), /AIVAULT_\* settings/);
  const ok = await checkChildVars(input({ passEnv: ['FROM_PARENT', 'MISSING'] }));
  assert.deepEqual(ok, { passValues: { FROM_PARENT: 'ok' }, unset: ['MISSING'] });
});

test('child vars: the vault is not decrypted when nothing needs checking', async () => {
  let calls = 0;
  await checkChildVars(input({ containsValue: async () => (calls++, false) }));
  assert.equal(calls, 0);
});

// ---- the real CLI

let vault = '';
let work = '';
before(async () => {
  vault = await vaultWith({ OPENAI_API_KEY: STORED, OTHER_STORED: 'plain-stored-value-123' });
  registerSensitive(STORED, RUN, 'plain-stored-value-123');
  work = tmpDir();
});
after(() => {
  fs.rmSync(vault, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

test('exec: refused --set-env / profile setEnv exit 125 and the child never starts', async () => {
  const marker = path.join(work, 'marker');
  const child = ['--', NODE, fx('exit.mjs'), '0', marker];
  const allow = ['--allow', 'openai/chat-completions'];
  const envFile = path.join(work, 'run.env');
  fs.writeFileSync(envFile, `ANTHROPIC_API_KEY=${RUN}\n`);
  fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ aivault: { profiles: { leaky: { allow: ['openai/chat-completions'], setEnv: { OPENAI_API_KEY: STORED } } } } }));
  const cases: Array<[string[], RegExp]> = [
    [[...allow, '--set-env', `OPENAI_API_KEY=${STORED}`, ...child], /--set-env OPENAI_API_KEY: refused/],
    [[...allow, '--set-env', 'FOO=plain-stored-value-123', ...child], /--set-env FOO: refused, its value is a secret/],
    [[...allow, '--set-env', 'OPENAI_BASE_URL=https://api.openai.com/v1', ...child], /--set-env OPENAI_BASE_URL: refused/],
    [[...allow, '--set-env', 'AIVAULT_TOKEN=x', ...child], /--set-env AIVAULT_TOKEN: refused/],
    [[...allow, '--env-file', envFile, '--set-env', `COPY=${RUN}`, ...child], /--set-env COPY: refused, its value is a secret/],
    [['--profile', 'leaky', ...child], /profile setEnv OPENAI_API_KEY: refused/],
  ];
  for (const [args, msg] of cases) {
    const r = await launch(args, { env: { AIVAULT_DIR: vault }, cwd: work }).done;
    assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!r.stderr.includes(STORED) && !r.stderr.includes(RUN), 'the message never shows a value');
    assert.equal(fs.existsSync(marker), false, `child started for ${args.join(' ')}`);
  }
});
