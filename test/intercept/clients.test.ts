/**
 * Real clients nobody here wrote, under `aivault exec --intercept`, with hard-coded provider URLs
 * and the placeholder key from their usual variable: curl, python3 urllib.request and requests, Node with
 * undici's ProxyAgent, and `git ls-remote` over HTTPS (a fake smart-HTTP endpoint). Each succeeds,
 * the upstream (the local fake provider, SPEC §8) receives exactly the real credential, and the
 * child's environment and files hold no secret. After the run the CA files are gone and no file
 * ever held a private key.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { fx, launch, NODE, sandboxUnavailable, vaultWith } from '../exec/launch.js';

const GITHUB_SECRET = 'ghp_SENTINEL_intercept_github_5d1e';
const OPENAI_SECRET = 'sk-SENTINEL-intercept-openai-77aa';
let fake: FakeProvider;
let vault = '';
let tmp = '';
const tmps: string[] = [];

function pkt(s: string): string {
  return (s.length + 4).toString(16).padStart(4, '0') + s;
}
const SHA = '0123456789abcdef0123456789abcdef01234567';

before(async () => {
  fake = await startFakeProvider();
  vault = await vaultWith({ GITHUB_TOKEN: GITHUB_SECRET, OPENAI_API_KEY: OPENAI_SECRET });
});
after(async () => {
  await fake.close();
  fs.rmSync(vault, { recursive: true, force: true });
  for (const d of tmps) fs.rmSync(d, { recursive: true, force: true });
});

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

async function run(script: string, allow = 'github/repos,openai/models', extra: string[] = []) {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-icpt-'));
  tmps.push(tmp);
  const r = await launch(['--intercept', ...extra, '--allow', allow, '--', 'sh', '-c', script], {
    env: { AIVAULT_DIR: vault, TMPDIR: tmp, ...fake.devEnv() },
  }).done;
  return r;
}

function assertClean(r: { stdout: Buffer; stderr: string }): void {
  const all = r.stdout.toString() + r.stderr;
  assert.ok(!all.includes(GITHUB_SECRET) && !all.includes(OPENAI_SECRET), 'no secret in anything the child saw or printed');
  assert.ok(!all.includes('PRIVATE KEY'), 'no private key in any file the child can read');
  assert.deepEqual(fs.readdirSync(tmp), [], 'the run temp dir (CA files) is removed at teardown');
}

test('curl with a hard-coded https://api.github.com URL and $GITHUB_TOKEN', { skip: !has('curl') && 'curl not installed' }, async () => {
  fake.reset();
  const r = await run(
    'curl -sS --fail-with-body -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/repos/octo/hello; echo; ' +
      // the child's whole world: env and the CA files it was given
      'echo "files: $(ls "$(dirname "$SSL_CERT_FILE")" | tr "\\n" " ")"; env; cat "$SSL_CERT_FILE" "$NODE_EXTRA_CA_CERTS"',
  );
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.toString();
  assert.match(out, /"path":"\/repos\/octo\/hello"/);
  assert.equal(fake.requests.length, 1);
  assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${GITHUB_SECRET}`, 'upstream got exactly the real credential');
  assert.match(out, /^GITHUB_TOKEN=ghp_[A-Za-z0-9_-]{43}$/m, 'the placeholder has the GitHub shape');
  assert.match(out, /^GH_TOKEN=ghp_/m);
  assert.match(out, /^OPENAI_API_KEY=sk-[A-Za-z0-9_-]{43}$/m);
  assert.match(out, /^HTTPS_PROXY=http:\/\/aivault:[A-Za-z0-9_-]{43}@127\.0\.0\.1:\d+$/m);
  assert.match(out, /^NO_PROXY=127\.0\.0\.1,localhost$/m);
  assert.match(out, /^OPENAI_BASE_URL=http:\/\/127\.0\.0\.1:\d+\/v\/openai\/v1$/m, 'base-URL sdkEnv stays');
  for (const v of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'DENO_CERT']) assert.match(out, new RegExp(`^${v}=.*ca-bundle\\.pem$`, 'm'));
  assert.match(out, /^NODE_EXTRA_CA_CERTS=.*run-ca\.pem$/m);
  assert.match(out, /^files: ca-bundle\.pem run-ca\.pem $/m, 'the run dir holds the two certificate files only');
  assertClean(r);
});

test('python3 urllib.request (honours HTTPS_PROXY and SSL_CERT_FILE)', { skip: !has('python3') && 'python3 not installed' }, async () => {
  fake.reset();
  const py = [
    'import os, urllib.request',
    "req = urllib.request.Request('https://api.openai.com/v1/models', headers={'Authorization': 'Bearer ' + os.environ['OPENAI_API_KEY']})",
    'print(urllib.request.urlopen(req).read().decode())',
  ].join('\n');
  const r = await run(`python3 -c "$0"; env`.replace('$0', py.replace(/"/g, '\\"')));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /"path":"\/v1\/models"/);
  assert.equal(fake.requests.length, 1);
  assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${OPENAI_SECRET}`);
  assertClean(r);
});

const hasRequests = spawnSync('python3', ['-c', 'import requests']).status === 0;
test('python3 requests (honours HTTPS_PROXY and REQUESTS_CA_BUNDLE)', { skip: !hasRequests && 'python3 requests not installed' }, async () => {
  fake.reset();
  const py = "import os, requests; r = requests.get('https://api.github.com/repos/octo/hello', headers={'Authorization': 'token ' + os.environ['GH_TOKEN']}); print(r.status_code, r.text)";
  const r = await run(`python3 -c "${py}"`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /^200 .*"path":"\/repos\/octo\/hello"/);
  assert.equal(fake.requests.length, 1);
  assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${GITHUB_SECRET}`, 'gh-style `token <x>` placeholder replaced by the real credential');
  assertClean(r);
});

test('Node with undici ProxyAgent (NODE_EXTRA_CA_CERTS trusts the run CA)', async () => {
  fake.reset();
  const r = await run(`"${NODE}" "${fx('intercept-undici.mjs')}"`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.toString()), { status: 200, path: '/repos/octo/hello' });
  assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${GITHUB_SECRET}`);
  assertClean(r);
});

test('git ls-remote over HTTPS against a smart-HTTP endpoint', { skip: !has('git') && 'git not installed' }, async () => {
  fake.reset();
  // a git smart-HTTP endpoint (protocol v0 advertisement) that only answers the real credential
  fake.on('GET', '/repos/octo/hello.git/info/refs', (req, res) => {
    if (req.headers.authorization !== `Bearer ${GITHUB_SECRET}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement', 'cache-control': 'no-cache' });
    res.end(pkt('# service=git-upload-pack\n') + '0000' + pkt(`${SHA} HEAD\0symref=HEAD:refs/heads/main\n`) + pkt(`${SHA} refs/heads/main\n`) + '0000');
  });
  const r = await run('GIT_TERMINAL_PROMPT=0 git -c credential.helper= ls-remote https://api.github.com/repos/octo/hello.git');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), new RegExp(`^${SHA}\\tHEAD$`, 'm'));
  assert.match(r.stdout.toString(), new RegExp(`^${SHA}\\trefs/heads/main$`, 'm'));
  assert.ok(fake.requests.length >= 1);
  for (const q of fake.requests) assert.equal(q.headers.authorization, `Bearer ${GITHUB_SECRET}`);
  assertClean(r);
});

test('a host outside the grant is tunnelled, and refused under --egress=deny', { skip: !has('curl') && 'curl not installed' }, async () => {
  fake.reset();
  // api.anthropic.com is not granted: the tunnel reaches the fake provider, whose test certificate
  // the child does not trust (its bundle has the system roots and the run CA): curl fails with a
  // certificate error, the proof that the broker did not intercept it.
  const a = await run('curl -sS https://api.anthropic.com/v1/messages; echo "exit=$?"');
  assert.match(a.stdout.toString(), /exit=60/, a.stderr);
  assert.equal(fake.requests.length, 0);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-icpt-'));
  tmps.push(tmp);
  const b = await launch(['--intercept', '--egress=deny', '--allow', 'github/repos', '--', 'sh', '-c', 'curl -sS https://api.anthropic.com/v1/messages; echo "exit=$?"'], {
    env: { AIVAULT_DIR: vault, TMPDIR: tmp, ...fake.devEnv() },
  }).done;
  assert.match(b.stdout.toString(), /exit=56/, b.stderr);
  assert.match(b.stderr, /403/);
});

const noSandbox = sandboxUnavailable();
test(
  '--intercept with --sandbox-net=broker: curl reaches a granted host through the relayed proxy; any other host is refused (host_not_allowed) and nothing else leaves',
  { skip: (!has('curl') && 'curl not installed') || (noSandbox && `sandbox unavailable: ${noSandbox}`) },
  async () => {
    fake.reset();
    const r = await run(
      'curl -sS --fail-with-body -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/repos/octo/hello; echo " granted=$?"; ' +
        // a host outside the grant: the proxy must refuse the CONNECT (no direct route exists in the sandbox)
        'curl -sS -o /dev/null -w "other=%{http_connect}\\n" https://example.com/ 2>&1; ' +
        'curl -sS --noproxy "*" --connect-timeout 3 -o /dev/null https://example.com/ 2>/dev/null; echo "direct=$?"',
      'github/repos',
      ['--sandbox-net=broker'],
    );
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.toString();
    assert.match(out, /"path":"\/repos\/octo\/hello"/);
    assert.match(out, / granted=0/);
    assert.match(out, /other=403/, 'the CONNECT to a host outside the grant is answered 403');
    assert.doesNotMatch(out, /direct=0/, 'no route out of the sandbox except the broker');
    assert.equal(fake.requests.length, 1, 'the upstream saw the granted request only');
    assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${GITHUB_SECRET}`);
    assertClean(r);
  },
);
