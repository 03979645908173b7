/**
 * `aivault doctor` (SPEC §4): can the sandbox run here (and why not), which key provider is in use,
 * where the vault is, and what a hostile process of the same user could still reach, with and
 * without --sandbox. Pure: the CLI gathers the facts, this turns them into the report.
 */
import type { SandboxFacts } from '../sandbox/probe.js';
import { decide, setupFailureHint } from '../sandbox/probe.js';

export interface DoctorFacts {
  sandbox: SandboxFacts;
  /** trial run of bubblewrap with every namespace the sandbox uses (undefined: not attempted) */
  trial?: { ok: boolean; detail?: string | undefined } | undefined;
  bwrapVersion?: string | undefined;
  vault: {
    dir: string;
    initialized: boolean;
    provider: string | null;
    keyFile?: string | undefined;
    keyEnv?: string | undefined;
    secretCount: number;
    /** AIVAULT_DIR set */
    custom: boolean;
  };
  /** kernel.yama.ptrace_scope (undefined: no Yama) */
  ptraceScope?: string | undefined;
  /** dev.tty.legacy_tiocsti (undefined: kernel before 6.2, TIOCSTI always allowed) */
  legacyTiocsti?: string | undefined;
  /** AIVAULT_PASSPHRASE is set in this environment */
  passphraseInEnv: boolean;
}

export interface DoctorReport {
  sandbox: { available: boolean; reason?: string; bwrap?: string; version?: string; networkIsolation: boolean };
  vault: DoctorFacts['vault'];
  keyProvider: string;
  /** what a hostile same-user process can reach */
  exposure: { unsandboxed: string[]; sandboxed: string[] };
}

function keyProviderText(v: DoctorFacts['vault']): string {
  if (!v.provider) return 'not initialised (the file key provider is used on first write)';
  if (v.provider === 'file') return `file (${v.keyFile ?? '?'})`;
  if (v.provider === 'env') return `env (${v.keyEnv ?? '?'})`;
  return v.provider;
}

export function buildReport(f: DoctorFacts): DoctorReport {
  const probe = decide(f.sandbox);
  let available = probe.ok;
  let reason: string | undefined = probe.ok ? undefined : probe.message;
  if (probe.ok && f.trial && !f.trial.ok) {
    available = false;
    reason = `${setupFailureHint(f.sandbox)}${f.trial.detail ? ` (bwrap: ${f.trial.detail})` : ''}`;
  }
  const v = f.vault;
  const unsandboxed: string[] = [];
  if (v.provider === 'file' || !v.provider) {
    unsandboxed.push(`the key file ${v.keyFile ?? '(created on first write)'} and the vault ${v.dir}: reading both decrypts every secret`);
  } else if (v.provider === 'env') {
    unsandboxed.push(`the key in $${v.keyEnv ?? '?'} of any process that has it (/proc/<pid>/environ), plus the vault ${v.dir}`);
  } else if (v.provider === 'passphrase') {
    unsandboxed.push(`the vault ${v.dir} (encrypted; the passphrase is not stored)${f.passphraseInEnv ? ', and AIVAULT_PASSPHRASE, set here, in /proc/<pid>/environ of every process that inherited it' : ''}`);
  } else if (v.provider === 'keychain') {
    unsandboxed.push(`the OS keychain over the session D-Bus (as any program of this user can), plus the vault ${v.dir}`);
  }
  unsandboxed.push("the launcher's /proc/<pid>/environ (secrets given by --from-env are there) and signals to it");
  if (f.ptraceScope === undefined || f.ptraceScope.trim() === '0') {
    unsandboxed.push('the launcher\'s memory via ptrace (kernel.yama.ptrace_scope is 0 or absent): the broker holds decrypted secrets while it runs');
  }
  unsandboxed.push('credential stores in $HOME (~/.ssh, ~/.aws, ~/.npmrc, ...), the session D-Bus and keyring, agents');
  const sandboxed: string[] = [
    'the broker, with the run token and only the granted capabilities (every request audited)',
    'files outside the hidden paths, writable where the user can write (persistence through e.g. ~/.bashrc) unless --sandbox-readonly',
    'the network and abstract unix sockets of this host (e.g. X11, some D-Bus setups) unless --sandbox-net=broker',
  ];
  if (f.legacyTiocsti === undefined || f.legacyTiocsti.trim() !== '0') {
    sandboxed.push(
      process.arch === 'x64' || process.arch === 'arm64'
        ? 'not the terminal input queue: TIOCSTI is refused by a seccomp filter (the kernel still allows it: dev.tty.legacy_tiocsti is not 0)'
        : 'the terminal input queue (TIOCSTI; no seccomp filter for this machine): set dev.tty.legacy_tiocsti=0',
    );
  }
  return {
    sandbox: {
      available,
      ...(reason !== undefined ? { reason } : {}),
      ...(probe.ok ? { bwrap: probe.bwrap } : {}),
      ...(f.bwrapVersion ? { version: f.bwrapVersion } : {}),
      networkIsolation: available,
    },
    vault: v,
    keyProvider: keyProviderText(v),
    exposure: { unsandboxed, sandboxed },
  };
}

export function renderReport(r: DoctorReport): string {
  const lines = [
    `sandbox:      ${r.sandbox.available ? `available (${r.sandbox.version ?? 'bubblewrap'} at ${r.sandbox.bwrap}); aivault exec --sandbox, --sandbox-net=broker` : `NOT available: ${r.sandbox.reason}`}`,
    `vault:        ${r.vault.dir}${r.vault.custom ? ' (AIVAULT_DIR)' : ''}${r.vault.initialized ? `, ${r.vault.secretCount} secret(s)` : ', not initialised'}`,
    `key provider: ${r.keyProvider}`,
    '',
    'A hostile process of this user, started without --sandbox, can reach:',
    ...r.exposure.unsandboxed.map((l) => `  - ${l}`),
    '',
    r.sandbox.available ? 'Under aivault exec --sandbox it can reach only:' : 'Under aivault exec --sandbox (once available) it could reach only:',
    ...r.exposure.sandboxed.map((l) => `  - ${l}`),
  ];
  return lines.join('\n');
}
