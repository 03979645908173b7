/**
 * SPEC §9 adversarial tests: a hostile command under `aivault exec --sandbox` (and
 * --sandbox-net=broker) tries to get at the key file, the vault, the launcher's environment and
 * process, the user's credential stores and session sockets, a nested aivault, and (broker mode) the
 * network, while a legitimate official-SDK call through the broker keeps working. The same child run
 * without --sandbox is the control: there every attack succeeds, so each assertion can fail.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openaiChatReply, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { BIN, FIXTURES, runCli } from '../helpers/cli.js';
import { launch, NODE, sandboxUnavailable } from '../exec/launch.js';

const VAULT_SECRET = 'sk-SENTINEL-vault-openai-51d0';
const GITHUB_SECRET = 'ghp_SENTINEL_vault_github_77aa';
const FROM_ENV_SECRET = 'sk-ant-SENTINEL-fromenv-9c1e';
const PASSPHRASE = 'SENTINEL-passphrase-launcher-3b8f';
const SSH_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nSENTINEL-ssh\n';
const AWS = '[default]\naws_secret_access_key = SENTINEL-aws\n';
const NPMRC = '//registry.npmjs.org/:_authToken=npm_SENTINEL\n';
const HOSTILE = path.join(FIXTURES, 'sandbox', 'hostile.mjs');
const skip = sandboxUnavailable();
if (skip) console.log(`# sandbox tests skipped: ${skip}`);

let fake: FakeProvider;
let dbus: net.Server;
let tcp: net.Server;
let dnsServer: dgram.Socket;
let tmp = '';

/** A DNS server on loopback answering every A query with 10.1.2.3 (a local resolver). */
function startDns(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('message', (q, rinfo) => {
    let i = 12;
    while (q[i] !== 0 && i < q.length) i += q[i]! + 1;
    const question = q.subarray(12, i + 5);
    const head = Buffer.from([q[0]!, q[1]!, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3]);
    s.send(Buffer.concat([head, question, answer]), rinfo.port, rinfo.address);
  });
  return new Promise((r) => s.bind(0, '127.0.0.1', () => r(s)));
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-hostile-'));
  fake = await startFakeProvider();
  fake.on('POST', '/v1/chat/completions', openaiChatReply);
  const runtime = path.join(tmp, 'runtime');
  fs.mkdirSync(runtime, { mode: 0o700 });
  dbus = net.createServer((c) => c.on('error', () => undefined).end('DBUS'));
  await new Promise<void>((r) => dbus.listen(path.join(runtime, 'bus'), r));
  tcp = net.createServer((c) => c.on('error', () => undefined).end('local service'));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  dnsServer = await startDns();
});
after(async () => {
  await fake.close();
  dbus.close();
  tcp.close();
  dnsServer.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Setup {
  home: string;
  vaultRoot: string;
  keyFile: string;
  env: Record<string, string>;
}

/** A user: HOME with planted credential stores, and a vault (default location or a custom one). */
async function makeUser(name: string, custom: boolean): Promise<Setup> {
  const home = path.join(tmp, `${name}-home`);
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(home, '.ssh', 'id_ed25519'), SSH_KEY, { mode: 0o600 });
  fs.mkdirSync(path.join(home, '.aws'), { mode: 0o700 });
  fs.writeFileSync(path.join(home, '.aws', 'credentials'), AWS, { mode: 0o600 });
  fs.writeFileSync(path.join(home, '.npmrc'), NPMRC, { mode: 0o600 });
  const vaultRoot = custom ? path.join(tmp, `${name}-custom-vault`) : path.join(home, '.aivault', 'vault');
  const env: Record<string, string> = { HOME: home, ...(custom ? { AIVAULT_DIR: vaultRoot } : {}) };
  for (const [n, v] of [['OPENAI_API_KEY', VAULT_SECRET], ['GITHUB_TOKEN', GITHUB_SECRET]]) {
    const r = await runCli(['secrets', 'create', '--name', n!, '--value-stdin'], { env, input: v });
    assert.equal(r.code, 0, r.stderr);
  }
  const keyFile = custom ? path.join(vaultRoot, 'kek.key') : path.join(home, '.aivault', 'keys', 'kek.key');
  assert.ok(fs.existsSync(keyFile), 'the file key provider wrote its key');
  return { home, vaultRoot, keyFile, env };
}

type Report = Record<string, string>;

async function runHostile(u: Setup, flags: string[]): Promise<{ report: Report; stderr: string; code: number | null; launcherEnvSecrets: string[] }> {
  const pidFile = path.join(tmp, `launcher-pid-${Math.random().toString(36).slice(2)}`);
  const cfg = {
    launcherPidFile: pidFile,
    readFiles: {
      kek: u.keyFile,
      'vault-json': path.join(u.vaultRoot, 'vault.json'),
      ssh: path.join(u.home, '.ssh', 'id_ed25519'),
      aws: path.join(u.home, '.aws', 'credentials'),
      npmrc: path.join(u.home, '.npmrc'),
    },
    listDirs: { vault: u.vaultRoot, 'vault-secrets': path.join(u.vaultRoot, 'secrets'), aivault: path.join(u.home, '.aivault') },
    writeFiles: {
      kek: path.join(path.dirname(u.keyFile), 'planted.key'),
      vault: path.join(u.vaultRoot, 'planted.json'),
      ssh: path.join(u.home, '.ssh', 'authorized_keys'),
      netrc: path.join(u.home, '.netrc'),
    },
    sockets: { dbus: path.join(tmp, 'runtime', 'bus') },
    tcp: { local: (tcp.address() as net.AddressInfo).port },
    dnsServer: `127.0.0.1:${(dnsServer.address() as net.AddressInfo).port}`,
    aivault: [NODE, BIN],
    customVault: u.env.AIVAULT_DIR,
    sdk: true,
  };
  const env = {
    ...u.env,
    ...fake.devEnv(),
    ANTHROPIC_API_KEY: FROM_ENV_SECRET,
    AIVAULT_PASSPHRASE: PASSPHRASE,
    XDG_RUNTIME_DIR: path.join(tmp, 'runtime'),
  };
  const l = launch([...flags, '--allow', 'openai/chat-completions,anthropic/messages', '--from-env', 'ANTHROPIC_API_KEY', '--quiet', '--', NODE, HOSTILE, JSON.stringify(cfg)], { env, cwd: tmp });
  // the launcher's pid, which the hostile child targets (it waits for this file)
  fs.writeFileSync(pidFile, String(l.child.pid));
  const r = await l.done;
  let report: Report = {};
  try {
    report = JSON.parse(r.stdout.toString()) as Report;
  } catch {
    assert.fail(`no report (exit ${r.code}): ${r.stderr} ${r.stdout.toString()}`);
  }
  return { report, stderr: r.stderr, code: r.code, launcherEnvSecrets: [FROM_ENV_SECRET, PASSPHRASE] };
}

const SENTINEL = /SENTINEL/;
const failed = (r: Report, k: string) => assert.ok(r[k]?.startsWith('err:'), `${k} must fail, got ${r[k]}`);

function assertContained(u: Setup, report: Report, mode: 'host' | 'broker'): void {
  for (const k of ['read:kek', 'read:vault-json', 'read:ssh', 'read:aws', 'read:npmrc', 'list:vault', 'list:vault-secrets', 'list:aivault']) failed(report, k);
  failed(report, 'environ:launcher');
  assert.ok(report['environ:all']?.startsWith('ok:'), 'the sandbox can read its own /proc');
  assert.ok(!SENTINEL.test(report['environ:all'] ?? ''), 'no secret in any environment or command line visible inside');
  assert.ok(!(report['proc:pids'] ?? '').split(/[:,]/).includes(String(0)) && !report['proc:pids']?.includes(',1000'), 'only the sandbox processes');
  assert.equal(report.privileges, 'ok:CapEff=0000000000000000 CapPrm=0000000000000000 CapBnd=0000000000000000 NoNewPrivs=1', 'no capabilities, no new privileges');
  failed(report, 'signal:launcher');
  failed(report, 'ptrace:launcher');
  failed(report, 'connect:dbus');
  for (const k of ['write:kek', 'write:vault', 'write:ssh', 'write:netrc']) failed(report, k);
  assert.match(report['aivault:secrets-list'] ?? '', /^err:exit1:.*no vault/i);
  assert.match(report['aivault:exec-ungranted'] ?? '', /^err:exit125:/);
  if (u.env.AIVAULT_DIR) assert.match(report['aivault:secrets-list-custom'] ?? '', /^err:exit1:.*no vault/i);
  assert.equal(report['sdk:chat'], 'ok:hello from fake openai');
  assert.equal(report['sdk:stream'], 'ok:streamed');
  if (mode === 'broker') {
    failed(report, 'tcp:local');
    failed(report, 'dns:local-resolver');
    failed(report, 'dns:system');
  } else {
    // host network: the same probes reach the host's loopback (so they can detect a leak)
    assert.equal(report['tcp:local'], 'ok:connected');
    assert.equal(report['dns:local-resolver'], 'ok:10.1.2.3');
  }
  // nothing was planted on the host
  assert.ok(!fs.existsSync(path.join(path.dirname(u.keyFile), 'planted.key')));
  assert.ok(!fs.existsSync(path.join(u.vaultRoot, 'planted.json')));
  assert.ok(!fs.existsSync(path.join(u.home, '.ssh', 'authorized_keys')));
  assert.equal(fs.readFileSync(path.join(u.home, '.netrc'), 'utf8'), '', 'the .netrc placeholder stays empty');
}

for (const custom of [false, true]) {
  describe(`hostile child, vault ${custom ? 'in a custom AIVAULT_DIR outside $HOME' : 'at its default place in $HOME'}`, { skip: skip }, () => {
    let u: Setup;
    before(async () => {
      u = await makeUser(custom ? 'custom' : 'default', custom);
    });

    test('control: without --sandbox the same attacks succeed', async () => {
      const { report } = await runHostile(u, []);
      assert.ok(report['read:kek']?.startsWith('ok:'), 'the key file is readable');
      assert.ok(report['list:vault']?.includes('vault.json'));
      assert.match(report['read:ssh'] ?? '', /SENTINEL-ssh/);
      assert.match(report['environ:launcher'] ?? '', new RegExp(FROM_ENV_SECRET));
      assert.match(report['environ:launcher'] ?? '', new RegExp(PASSPHRASE));
      assert.equal(report['signal:launcher'], 'ok:can signal');
      assert.equal(report['connect:dbus'], 'ok:connected');
      assert.ok(report[custom ? 'aivault:secrets-list-custom' : 'aivault:secrets-list']?.includes('OPENAI_API_KEY'));
      assert.equal(report['sdk:chat'], 'ok:hello from fake openai');
      for (const f of [path.join(path.dirname(u.keyFile), 'planted.key'), path.join(u.vaultRoot, 'planted.json'), path.join(u.home, '.ssh', 'authorized_keys'), path.join(u.home, '.netrc')]) fs.rmSync(f, { force: true });
    });

    for (const [flag, mode] of [['--sandbox', 'host'], ['--sandbox-net=broker', 'broker']] as const) {
      test(`${flag}: every attack fails while the official SDK works through the broker`, async () => {
        fake.requests.length = 0;
        const r = await runHostile(u, [flag]);
        assert.equal(r.code, 0, r.stderr);
        assertContained(u, r.report, mode);
        // the upstream saw the vault key only, injected by the broker
        const chats = fake.requests.filter((q) => q.path === '/v1/chat/completions');
        assert.equal(chats.length, 2);
        for (const q of chats) assert.equal(q.headers.authorization, `Bearer ${VAULT_SECRET}`);
        assert.ok(!SENTINEL.test(JSON.stringify(r.report)), 'no secret reached the child');
        assert.ok(!SENTINEL.test(r.stderr));
      });
    }
  });
}
