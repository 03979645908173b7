/** A temp vault and a fake provider for one test file's CLI runs, set up and torn down by node:test hooks. */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { runCli, tempVaultDir } from './cli.js';
import { startFakeProvider, type FakeProvider } from './fake-provider.js';

export interface CliLab {
  provider: FakeProvider;
  dir: string;
  /** AIVAULT_DIR plus the fake provider's dev overrides. */
  env: Record<string, string>;
}

/**
 * Registers before/after hooks in the calling test file; the returned object is filled in before its
 * first test. `secrets` are stored through the CLI (`secrets create --value-stdin`).
 */
export function useCliLab(secrets: Record<string, string> = {}): CliLab {
  const lab = {} as CliLab;
  before(async () => {
    lab.provider = await startFakeProvider();
    lab.dir = tempVaultDir();
    lab.env = { AIVAULT_DIR: lab.dir, ...lab.provider.devEnv() };
    for (const [name, value] of Object.entries(secrets)) {
      const r = await runCli(['secrets', 'create', '--name', name, '--value-stdin'], { env: lab.env, input: value });
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await lab.provider?.close();
    if (lab.dir) fs.rmSync(lab.dir, { recursive: true, force: true });
  });
  return lab;
}
