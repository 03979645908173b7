/**
 * Can the sandbox run here, and if not, what to install or enable (one line). The decision is a
 * pure function of the facts gathered by `gatherFacts` (files and PATH only: no process is
 * started), so every refusal is table-tested. `aivault doctor` adds a real trial run.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface SandboxFacts {
  platform: NodeJS.Platform;
  uid: number;
  /** bwrap found in the launcher's PATH */
  bwrap?: string | undefined;
  /** the bwrap binary names these options (feature detection without running it) */
  bwrapHasJsonStatus: boolean;
  bwrapHasDisableUserns: boolean;
  /** coreutils env(1) with --ignore-signal/--default-signal */
  env?: string | undefined;
  envHasSignalOptions: boolean;
  sh?: string | undefined;
  /** sysctl values as read from /proc/sys (undefined: not present on this kernel) */
  maxUserNamespaces?: string | undefined;
  unprivilegedUsernsClone?: string | undefined;
  apparmorRestrictUserns?: string | undefined;
}

export type SandboxProbe =
  | { ok: true; bwrap: string; env: string; sh: string; disableUserns: boolean; apparmorRestricted: boolean }
  | { ok: false; message: string };

export const INSTALL_HINT = "install the 'bubblewrap' package (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)";

export function decide(f: SandboxFacts): SandboxProbe {
  if (f.platform !== 'linux') return { ok: false, message: `--sandbox needs Linux (bubblewrap); it is not available on ${f.platform} yet` };
  if (!f.bwrap) return { ok: false, message: `--sandbox needs bubblewrap (bwrap), not found in PATH: ${INSTALL_HINT}` };
  if (!f.bwrapHasJsonStatus) return { ok: false, message: `--sandbox needs bubblewrap 0.5 or later (${f.bwrap} is older): ${INSTALL_HINT}` };
  if (!f.env || !f.envHasSignalOptions || !f.sh) {
    return { ok: false, message: '--sandbox needs GNU coreutils env(1) 8.31 or later (for --ignore-signal/--default-signal) and /bin/sh' };
  }
  if (f.maxUserNamespaces !== undefined && f.maxUserNamespaces.trim() === '0') {
    return { ok: false, message: '--sandbox needs user namespaces, disabled here: set the kernel setting user.max_user_namespaces above 0 (sysctl -w user.max_user_namespaces=15000)' };
  }
  if (f.uid !== 0 && f.unprivilegedUsernsClone !== undefined && f.unprivilegedUsernsClone.trim() === '0') {
    return { ok: false, message: '--sandbox needs unprivileged user namespaces, disabled here: enable the kernel setting kernel.unprivileged_userns_clone (sysctl -w kernel.unprivileged_userns_clone=1)' };
  }
  return {
    ok: true,
    bwrap: f.bwrap,
    env: f.env,
    sh: f.sh,
    disableUserns: f.bwrapHasDisableUserns,
    // Ubuntu 23.10+: allowed only for programs with an AppArmor profile; settled by a trial run
    apparmorRestricted: f.uid !== 0 && f.apparmorRestrictUserns?.trim() === '1',
  };
}

/** The message when the trial run (or a real run) failed before the command started. */
export function setupFailureHint(f: Pick<SandboxFacts, 'uid' | 'apparmorRestrictUserns'>): string {
  if (f.uid !== 0 && f.apparmorRestrictUserns?.trim() === '1') {
    return 'unprivileged user namespaces are restricted by AppArmor here: give bwrap an AppArmor profile that allows userns, or set the kernel setting kernel.apparmor_restrict_unprivileged_userns=0';
  }
  return 'bubblewrap could not create the sandbox (see its message above); check that user namespaces are allowed (user.max_user_namespaces, kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns) and run `aivault doctor`';
}

function readSysctl(name: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/sys/${name}`, 'utf8');
  } catch {
    return undefined;
  }
}

function findInPath(name: string, pathEnv: string | undefined): string | undefined {
  for (const dir of (pathEnv ?? '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function firstExisting(paths: readonly string[]): string | undefined {
  for (const p of paths) {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function binaryMentions(file: string | undefined, needles: readonly string[]): boolean[] {
  if (!file) return needles.map(() => false);
  try {
    const buf = fs.readFileSync(file);
    return needles.map((n) => buf.includes(n));
  } catch {
    // not readable (a setuid-only install): assume a current version; a real failure is caught at start
    return needles.map(() => true);
  }
}

/** Reads the facts from this machine. `pathEnv` is the launcher's PATH (a test can leave bwrap out). */
export function gatherFacts(pathEnv: string | undefined): SandboxFacts {
  const bwrap = process.platform === 'linux' ? findInPath('bwrap', pathEnv) : undefined;
  const env = firstExisting(['/usr/bin/env', '/bin/env']);
  const [json, disable] = binaryMentions(bwrap, ['json-status-fd', 'disable-userns']);
  const [sig] = binaryMentions(env ? fs.realpathSync(env) : undefined, ['default-signal']);
  return {
    platform: process.platform,
    uid: typeof process.getuid === 'function' ? process.getuid() : -1,
    bwrap,
    bwrapHasJsonStatus: json!,
    bwrapHasDisableUserns: disable!,
    env,
    envHasSignalOptions: sig!,
    sh: firstExisting(['/bin/sh', '/usr/bin/sh']),
    maxUserNamespaces: readSysctl('user/max_user_namespaces'),
    unprivilegedUsernsClone: readSysctl('kernel/unprivileged_userns_clone'),
    apparmorRestrictUserns: readSysctl('kernel/apparmor_restrict_unprivileged_userns'),
  };
}
