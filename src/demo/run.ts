import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeThrowawayTls } from './tls.js';
import { startMockOpenAI } from './mock-openai.js';

interface Step {
  code: number | null;
  stdout: string;
}

/**
 * `aivault demo`: the whole promise in one offline command. A throwaway vault and key, a local mock
 * of api.openai.com behind a throwaway CA (SPEC §8 overrides), and a sample skill run under
 * `aivault exec` that gets completions through the official SDK while its exfiltration attempts fail.
 */
export async function runDemo(packageRoot: string): Promise<number> {
  const say = (line = '') => process.stdout.write(line + '\n');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-demo-'));
  const bin = path.join(packageRoot, 'bin', 'aivault.js');
  const skill = path.join(packageRoot, 'fixtures', 'demo', 'skill.mjs');
  const key = `sk-demo-${randomBytes(24).toString('hex')}`;
  const tls = makeThrowawayTls(tmp, ['api.openai.com']);
  const mock = await startMockOpenAI(tls, key);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmp,
    AIVAULT_DIR: path.join(tmp, 'vault'),
    AIVAULT_DEV_RESOLVE: `api.openai.com=127.0.0.1:${mock.port}`,
    AIVAULT_DEV_CA_CERT_PATH: tls.caCertPath,
  };
  const cli = (args: string[], extra: Record<string, string> = {}, input?: string, echo = false) =>
    new Promise<Step>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], { env: { ...env, ...extra }, cwd: packageRoot, stdio: ['pipe', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (b: Buffer) => {
        stdout += b.toString();
        if (echo) process.stdout.write(b);
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout }));
      child.stdin.end(input ?? '');
    });

  try {
    say('aivault demo — everything below runs offline on this machine.');
    say(`1. A throwaway vault in ${env.AIVAULT_DIR}; store a throwaway OpenAI key (read from stdin, never printed):`);
    say('   $ aivault secrets create --name OPENAI_API_KEY --value-stdin');
    const created = await cli(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], {}, key + '\n');
    if (created.code !== 0) return fail(say, 'storing the throwaway key failed');
    say(`2. A local mock of api.openai.com on 127.0.0.1:${mock.port} with a throwaway CA (AIVAULT_DEV_RESOLVE / AIVAULT_DEV_CA_CERT_PATH).`);
    say('3. Run a sample skill; the launcher itself holds OPENAI_API_KEY in its environment, the skill must not see it:');
    say('   $ aivault exec --allow openai/chat-completions -- node fixtures/demo/skill.mjs');
    const run = await cli(['exec', '--allow', 'openai/chat-completions', '--', process.execPath, skill], { OPENAI_API_KEY: key }, undefined, true);
    say(`   exec exited with ${run.code}`);
    say('4. The run\'s audit trail:');
    say('   $ aivault audit --limit 12');
    const audit = await cli(['audit', '--limit', '12']);
    process.stdout.write(audit.stdout.replaceAll(key, '[LEAKED]'));
    const withKey = mock.seen.filter((s) => s.authorizedWithRealKey).length;
    const leaked = run.stdout.includes(key) || audit.stdout.includes(key);
    say();
    say(`Summary: the mock provider got ${mock.seen.length} request(s), ${withKey} carrying the real key (added by the broker);`);
    say(`the key ${leaked ? 'LEAKED into the skill output or audit log' : 'never appeared in the skill output or the audit log'}.`);
    return run.code === 0 && !leaked ? 0 : 1;
  } finally {
    await mock.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function fail(say: (l: string) => void, why: string): number {
  say(`demo: ${why}`);
  return 1;
}
