/**
 * Harness for the attack catalog: a temp vault (and temp HOME, so nothing touches the real
 * ~/.aivault) holding unique sentinel secrets, the shared fake provider, and `aivault exec`
 * running the malicious child (test/security/children/attacker.ts) with a plan.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { BIN, ROOT, runCli, tempVaultDir } from '../../helpers/cli.js';
import type { FakeProvider } from '../../helpers/fake-provider.js';
import { tempDir } from '../../helpers/tmp.js';
import { findLeak, secretForms, sentinel } from '../../helpers/leak-oracle.js';
import { registerSensitive } from '../../helpers/suite-registry.js';

export { BIN, ROOT, secretForms, sentinel };
/** The compiled attacker child. */
export const ATTACKER = path.join(ROOT, 'dist', 'test', 'security', 'children', 'attacker.js');

export interface Lab {
  dir: string;
  home: string;
  secrets: Record<string, string>;
  /** launcher env (vault dir, temp HOME, dev overrides) */
  env(extra?: Record<string, string>): Record<string, string>;
  cleanup(): void;
}

/** A vault with the given secrets stored through the real CLI. */
export async function makeLab(provider: FakeProvider, secrets: Record<string, string>): Promise<Lab> {
  const dir = tempVaultDir('aivault-sec-');
  const home = tempDir('aivault-sec-home-');
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    AIVAULT_DIR: dir,
    HOME: home,
    ...provider.devEnv(),
    ...extra,
  });
  registerSensitive(...Object.values(secrets));
  for (const [name, value] of Object.entries(secrets)) {
    const r = await runCli(['secrets', 'create', '--name', name, '--value-stdin'], { env: env(), input: value });
    if (r.code !== 0) throw new Error(`secrets create ${name}: ${r.stderr}`);
  }
  return {
    dir,
    home,
    secrets,
    env,
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface AttackResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seen: {
    env: Record<string, string | undefined>;
    environ: string | null;
    files: Record<string, string | null>;
    results: Array<{ name: string; status: number; headers: string; body: string; raw: string; error?: string }>;
    cli: Array<{ args: string[]; code: number | null; stdout: string; stderr: string }>;
  };
  /** everything the child could observe, as one string */
  observed: string;
  result(name: string): AttackResult['seen']['results'][number];
}

export interface AttackOpts {
  allow: string[];
  plan: Record<string, unknown>;
  execArgs?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Run the attacker under `aivault exec`; resolves when the launcher exits. */
export function attack(lab: Lab, opts: AttackOpts): Promise<AttackResult> {
  const work = tempDir('aivault-sec-run-');
  const planFile = path.join(work, 'plan.json');
  const outFile = path.join(work, 'seen.json');
  fs.writeFileSync(planFile, JSON.stringify(opts.plan));
  const args = [BIN, 'exec', ...opts.allow.flatMap((a) => ['--allow', a]), ...(opts.execArgs ?? []), '--', process.execPath, ATTACKER, planFile, outFile];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...lab.env(opts.env) }, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let seenText = '{}';
      try {
        seenText = fs.readFileSync(outFile, 'utf8');
      } catch {
        /* child never wrote */
      }
      let childError = '';
      try {
        childError = fs.readFileSync(outFile + '.error', 'utf8');
      } catch {
        /* none */
      }
      fs.rmSync(work, { recursive: true, force: true });
      const seen = { env: {}, environ: null, files: {}, results: [], cli: [], ...(JSON.parse(seenText) as object) } as AttackResult['seen'];
      // the suite-wide audit scan checks no audit file ever holds this run's token
      registerSensitive(seen.env.AIVAULT_TOKEN);
      const stdout = Buffer.concat(out).toString('latin1');
      const stderr = Buffer.concat(err).toString('latin1');
      resolve({
        code,
        stdout,
        stderr: stderr + childError,
        seen,
        observed: [seenText, stdout, stderr, childError].join('\n'),
        result(name) {
          const r = seen.results.find((x) => x.name === name);
          assert.ok(r, `no result for attempt '${name}' (child stderr: ${stderr.slice(0, 500)})`);
          return r;
        },
      });
    });
  });
}

/**
 * Assert no form of any secret occurs in `text`. The forms come from the independent oracle
 * (test/helpers/leak-oracle.ts), never from src/.
 */
export function assertNoLeak(text: string, secrets: Record<string, string>, where = 'child-observable output'): void {
  const leak = findLeak(text, secrets);
  assert.ok(!leak, leak && `the ${leak.form} form of ${leak.secret} leaked into ${where}`);
}

/** Assert the fake provider never received any form of a secret in a request to a host other than `allowedHost`. */
export function assertProviderSawSecretOnlyAt(provider: FakeProvider, secrets: Record<string, string>, allowedHosts: string[]): void {
  for (const r of provider.requests) {
    if (r.servername !== undefined && allowedHosts.includes(r.servername)) continue;
    assertNoLeak(JSON.stringify({ url: r.url, headers: r.rawHeaders, body: r.body.toString('latin1') }), secrets, `a request to ${r.servername}`);
  }
}

/** x-aivault-error code in a raw response head. */
export function errorCode(head: string): string | undefined {
  return /\r\nx-aivault-error:\s*([a-z_]+)/i.exec(head)?.[1];
}
