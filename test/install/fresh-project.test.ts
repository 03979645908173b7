/**
 * Issue 11 item 9: aivault installed into another project works. The package is packed
 * (`npm pack`, scripts skipped: `npm test` has just built the bundle, and re-bundling in place
 * would pull it from under concurrent tests), installed into an empty project from the tarball
 * with its dependencies from the npm cache (`--prefer-offline`: the registry only for what the
 * cache lacks; optional dependencies left out), and then used the documented way: `npx aivault`
 * and `aivault exec` inside an npm script, against the fake provider. devDependencies are absent,
 * so this also proves the package runs without them (`aivault demo` included).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { startFakeProvider, reply, type FakeProvider } from '../helpers/fake-provider.js';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const SECRET = 'sk-SENTINEL-fresh-project-5c1d';

function run(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string>; input?: string; timeoutMs?: number }) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TMPDIR: process.env.TMPDIR ?? '',
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      ...opts.env,
    };
    const child = spawn(cmd, args, { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

let fake: FakeProvider;
let project = '';
let installed = false;

before(async () => {
  fake = await startFakeProvider();
  const work = tempDir('aivault-install-');
  const pack = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT });
  assert.equal(pack.code, 0, pack.stderr);
  const tarball = path.join(work, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0]!.filename);
  project = path.join(work, 'fresh-project');
  fs.mkdirSync(project);
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({
      name: 'fresh-project',
      private: true,
      scripts: { ask: `aivault exec --allow openai/models -- node -e "fetch(process.env.OPENAI_BASE_URL + '/models', { headers: { authorization: 'Bearer ' + process.env.OPENAI_API_KEY } }).then(r => r.text()).then(t => console.log('models:', t))"` },
    }),
  );
  const inst = await run(NPM, ['install', '--save-dev', '--prefer-offline', '--omit=optional', '--no-package-lock', tarball], { cwd: project, timeoutMs: 180_000 });
  assert.equal(inst.code, 0, `npm install of the tarball failed:\n${inst.stderr}`);
  installed = true;
});
after(async () => {
  await fake.close();
});

test('the tarball ships the built CLI, the registry and the demo, and nothing of the dev tree', () => {
  assert.ok(installed);
  const pkg = path.join(project, 'node_modules', 'aivault');
  for (const f of ['bin/aivault.js', 'dist/bundle/aivault.cjs', 'registry/openai.json', 'fixtures/demo/skill.mjs', 'package.json', 'README.md']) {
    assert.ok(fs.existsSync(path.join(pkg, f)), `${f} is in the package`);
  }
  for (const f of ['src', 'test', 'dist/test', 'fixtures/tls', 'node_modules/typescript']) assert.ok(!fs.existsSync(path.join(pkg, f)), `${f} is not shipped`);
  assert.ok(!fs.existsSync(path.join(project, 'node_modules', 'openai')), 'no devDependency was installed');
});

test('npx aivault in the fresh project: --help, secrets create, exec (direct and from an npm script)', async () => {
  assert.ok(installed);
  const vault = tempDir('aivault-install-vault-');
  const env = { AIVAULT_DIR: vault, ...fake.devEnv() };
  const help = await run(NPX, ['--no-install', 'aivault', '--help'], { cwd: project, env });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /aivault exec/);
  const s = await run(NPX, ['--no-install', 'aivault', 'secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], { cwd: project, env, input: SECRET });
  assert.equal(s.code, 0, s.stderr);
  fake.reset();
  fake.on('GET', '/v1/models', reply.json(200, { data: [{ id: 'fresh-model' }] }));
  const child = `fetch(process.env.OPENAI_BASE_URL + '/models', { headers: { authorization: 'Bearer ' + process.env.OPENAI_API_KEY } }).then(r => r.text()).then(t => { console.log(t); process.exit(process.env.OPENAI_API_KEY === process.env.AIVAULT_TOKEN ? 3 : 4); })`;
  const e = await run(NPX, ['--no-install', 'aivault', 'exec', '--allow', 'openai/models', '--', 'node', '-e', child], { cwd: project, env });
  assert.equal(e.code, 3, `the child's exit code passes through (3 = key is the run token): ${e.stderr}`);
  assert.match(e.stdout, /fresh-model/);
  const viaScript = await run(NPM, ['run', '--silent', 'ask'], { cwd: project, env });
  assert.equal(viaScript.code, 0, viaScript.stderr);
  assert.match(viaScript.stdout, /models: .*fresh-model/);
  assert.equal(fake.requests.length, 2);
  for (const q of fake.requests) assert.equal(q.headers.authorization, `Bearer ${SECRET}`);
  assert.ok(!(e.stdout + e.stderr + viaScript.stdout + viaScript.stderr).includes(SECRET));
});

test('aivault demo runs from the installed package without devDependencies', async () => {
  assert.ok(installed);
  const r = await run(NPX, ['--no-install', 'aivault', 'demo'], { cwd: project, env: {}, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /chat completion: Hello from the local mock/);
  assert.match(r.stdout, /streamed completion \(\d+ events\)/);
  assert.match(r.stdout, /never appeared in the skill output or the audit log/);
});

test('a checkout without the built bundle: one clear line, exit 1, no stack trace', async () => {
  const dir = tempDir('aivault-unbuilt-');
  fs.cpSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true });
  const r = await run(process.execPath, [path.join(dir, 'bin', 'aivault.js'), 'status'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^aivault: not built: .*aivault\.cjs is missing.*npm install/);
  assert.doesNotMatch(r.stderr, /at .*\(|Error:/);
});

test('prepare builds the CLI bundle from a checkout (what npm runs for git installs)', async () => {
  const dir = tempDir('aivault-prepare-');
  for (const d of ['src', 'registry', 'scripts', 'bin']) fs.cpSync(path.join(ROOT, d), path.join(dir, d), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.ok(pkg.scripts.prepare, 'package.json has a prepare script');
  const p = await run(NPM, ['run', 'prepare'], { cwd: dir });
  assert.equal(p.code, 0, p.stderr);
  const v = await run(process.execPath, [path.join(dir, 'bin', 'aivault.js'), '--version'], { cwd: dir });
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
});
