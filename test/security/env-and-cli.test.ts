/**
 * Attack catalog, part 1: a malicious child looks for the secret in its environment and through
 * every aivault CLI command it can run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { attack, assertNoLeak, BIN, makeLab, sentinel, type Lab } from './helpers/harness.js';

let provider: FakeProvider;
let lab: Lab;

before(async () => {
  provider = await startFakeProvider();
  lab = await makeLab(provider, { OPENAI_API_KEY: sentinel('openai'), ANTHROPIC_API_KEY: sentinel('anthropic') });
});
after(async () => {
  lab.cleanup();
  await provider.close();
});

test('env dump + base64: the secret is in neither process.env nor /proc/self/environ, in no encoding', async () => {
  const r = await attack(lab, { allow: ['openai/chat-completions', 'anthropic/messages'], plan: { readFiles: ['/proc/self/environ', '/proc/{{PPID}}/cmdline'] } });
  assert.equal(r.code, 0, r.stderr);
  // the child did get a working setup (so the scan is meaningful)
  assert.match(r.seen.env.AIVAULT_TOKEN ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.equal(r.seen.env.OPENAI_API_KEY, r.seen.env.AIVAULT_TOKEN, 'the SDK key slot holds the run token');
  assert.ok(r.seen.environ && r.seen.environ.includes('AIVAULT_TOKEN='), 'the child read /proc/self/environ');
  // launcher-only settings never reach the child
  for (const k of ['AIVAULT_DIR', 'AIVAULT_DEV_RESOLVE', 'AIVAULT_DEV_CA_CERT_PATH']) assert.equal(r.seen.env[k], undefined, k);
  assertNoLeak(r.observed, lab.secrets);
  assert.equal(provider.requests.length, 0);
});

test('env dump: the launcher process itself (/proc/<launcher>/environ) does not hold vault secrets', async () => {
  const r = await attack(lab, { allow: ['openai/chat-completions'], plan: { readFiles: ['/proc/{{PPID}}/environ'] } });
  assert.equal(r.code, 0, r.stderr);
  const environ = Object.values(r.seen.files)[0];
  assert.ok(environ && environ.includes('AIVAULT_DIR='), 'same-user child can read the launcher environ (documented)');
  assertNoLeak(r.observed, lab.secrets);
});

const CLI_READS: string[][] = [
  ['status'],
  ['status', '--json'],
  ['secrets', 'list'],
  ['secrets', 'list', '--json'],
  ['capability', 'list', '--json'],
  ['capability', 'describe', 'openai/chat-completions'],
  ['credential', 'list'],
  ['credential', 'list', '--json'],
  ['audit', '--json'],
  ['audit', '--limit', '50'],
];

test('every CLI command run by the child without the launcher AIVAULT_DIR: no secret (it sees an empty vault)', async () => {
  const r = await attack(lab, {
    allow: ['openai/chat-completions'],
    plan: { cli: CLI_READS.map((args) => ({ bin: BIN, args })) },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.seen.cli.length, CLI_READS.length);
  const list = r.seen.cli.find((c) => c.args.join(' ') === 'secrets list --json')!;
  assert.doesNotMatch(list.stdout, /OPENAI_API_KEY/, 'the child does not even find the vault');
  assertNoLeak(r.observed, lab.secrets);
});

test('every CLI command run by the child WITH the vault path (same OS user): metadata only, never a value', async () => {
  const r = await attack(lab, {
    allow: ['openai/chat-completions'],
    plan: {
      cli: [
        ...CLI_READS.map((args) => ({ bin: BIN, args, env: { AIVAULT_DIR: lab.dir } })),
        // a nested exec that tries to pass the claimed name or print its env
        { bin: BIN, args: ['exec', '--pass-env', 'OPENAI_API_KEY', '--allow', 'openai/chat-completions', '--', 'env'], env: { AIVAULT_DIR: lab.dir, OPENAI_API_KEY: 'x' } },
        { bin: BIN, args: ['exec', '--allow', 'openai/chat-completions', '--', 'env'], env: { AIVAULT_DIR: lab.dir } },
      ],
    },
  });
  assert.equal(r.code, 0, r.stderr);
  const list = r.seen.cli.find((c) => c.args.join(' ') === 'secrets list --json')!;
  assert.match(list.stdout, /OPENAI_API_KEY/, 'the command did read the real vault');
  const audit = r.seen.cli.find((c) => c.args.join(' ') === 'audit --json')!;
  assert.match(audit.stdout, /run\.started/);
  const passEnv = r.seen.cli[CLI_READS.length]!;
  assert.equal(passEnv.code, 125, 'pass-env of a claimed name is refused');
  assertNoLeak(r.observed, lab.secrets);
});
