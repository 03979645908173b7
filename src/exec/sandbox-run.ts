/**
 * exec's side of `--sandbox` (SPEC §9): refuse early (125, one line, before any child) when the
 * sandbox cannot run here, and build the bubblewrap spawn once the broker is up.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import { vaultPaths } from '../vault/paths.js';
import { decide, gatherFacts, setupFailureHint, type SandboxFacts, type SandboxProbe } from '../sandbox/probe.js';
import { checkShow, prepareSandbox, type SandboxOptions, type SandboxSpawn } from '../sandbox/launch.js';
import { tiocstiFilter } from '../sandbox/seccomp.js';

export type ReadySandbox = Extract<SandboxProbe, { ok: true }> & { facts: SandboxFacts };

/** Throws AivaultError('exec_setup') with the one line to print when the sandbox cannot run. */
export function checkSandbox(opts: SandboxOptions, env: NodeJS.ProcessEnv, facts: SandboxFacts = gatherFacts(env.PATH)): ReadySandbox {
  const probe = decide(facts);
  if (!probe.ok) throw new AivaultError('exec_setup', probe.message);
  if (probe.apparmorRestricted) {
    // Ubuntu's AppArmor userns restriction: only a trial run tells whether bwrap is allowed.
    const r = spawnSync(probe.bwrap, ['--unshare-user', '--ro-bind', '/', '/', '--', probe.env, 'true'], { stdio: 'ignore', timeout: 10_000 });
    if (r.status !== 0) throw new AivaultError('exec_setup', `--sandbox cannot run here: ${setupFailureHint(facts)}`);
  }
  const vp = vaultPaths(env);
  const refused = checkShow({ home: homeOf(env), vaultRoot: vp.root, keyFile: vp.keyFile }, opts.show);
  if (refused) throw new AivaultError('usage', refused);
  return { ...probe, facts };
}

function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME && env.HOME.length > 0 ? env.HOME : os.homedir();
}

export function sandboxSpawn(
  ready: ReadySandbox,
  opts: SandboxOptions,
  run: { env: NodeJS.ProcessEnv; cwd: string; command: string[]; runDir: string; runPaths: string[]; port: number; socketPath?: string | undefined; terminal: boolean; childPwd?: string | undefined },
): SandboxSpawn & { setupFailure: string } {
  const vp = vaultPaths(run.env);
  try {
    const seccomp = tiocstiFilter();
    const s = prepareSandbox({
      opts,
      probe: ready,
      env: run.env,
      home: homeOf(run.env),
      uid: typeof process.getuid === 'function' ? process.getuid() : -1,
      vaultRoot: path.resolve(vp.root),
      keyFile: path.resolve(vp.keyFile),
      cwd: run.cwd,
      command: run.command,
      runDir: run.runDir,
      runPaths: run.runPaths,
      port: run.port,
      ...(run.socketPath !== undefined ? { socketPath: run.socketPath } : {}),
      nodePath: process.execPath,
      seccomp,
      childPwd: run.childPwd,
    });
    return { ...s, setupFailure: `the sandbox could not start: ${setupFailureHint(ready.facts)}` };
  } catch (e) {
    throw new AivaultError('exec_setup', e instanceof Error ? e.message : String(e));
  }
}
