/**
 * What `--sandbox` hides (SPEC §9). Pure: every input is passed in, so the list is table-tested.
 *
 * Three kinds of entry:
 *   - `vault`: the vault root in use, the key file, ~/.aivault. Always hidden (--sandbox-show cannot
 *     reveal them) and hidden even before they exist, so a child cannot plant a key file or a vault
 *     that a later run would use.
 *   - `store`: well-known credential stores in $HOME. Hidden even when missing (a placeholder is
 *     created so that the child cannot create them for a later unsandboxed tool to read).
 *   - `socket`: session sockets that hold secrets or run code outside the sandbox (D-Bus session bus,
 *     keyrings, gpg/ssh agents, the systemd user manager, tmux, docker). Hidden only when present:
 *     a placeholder would stop the real service from starting later.
 */
import path from 'node:path';

export type HiddenKind = 'vault' | 'store' | 'socket';

export interface HiddenEntry {
  path: string;
  kind: HiddenKind;
  /** What the path is when it does not exist yet (decides the placeholder). */
  shape: 'dir' | 'file';
}

/** Credential stores in $HOME (SPEC §9), relative to $HOME. */
export const HOME_STORES: ReadonlyArray<readonly [string, 'dir' | 'file']> = [
  ['.ssh', 'dir'],
  ['.aws', 'dir'],
  ['.azure', 'dir'],
  ['.config/gcloud', 'dir'],
  ['.config/gh', 'dir'],
  ['.kube', 'dir'],
  ['.docker/config.json', 'file'],
  ['.npmrc', 'file'],
  ['.pypirc', 'file'],
  ['.netrc', 'file'],
  ['.git-credentials', 'file'],
  ['.gnupg', 'dir'],
];

/** Entries under $XDG_RUNTIME_DIR: session bus, keyrings, agents, the systemd user manager. */
export const RUNTIME_SOCKETS: readonly string[] = ['bus', 'keyring', 'gnupg', 'gcr', 'systemd', 'ssh-agent', 'ssh-agent.socket', 'docker.sock', 'podman'];

export interface HiddenInput {
  home: string;
  uid: number;
  /** vault root in use (AIVAULT_DIR or ~/.aivault/vault), absolute */
  vaultRoot: string;
  keyFile: string;
  /** the launcher's $XDG_RUNTIME_DIR (default /run/user/<uid>) */
  runtimeDir?: string | undefined;
  sshAuthSock?: string | undefined;
  /** --sandbox-hide, absolute */
  hide: readonly string[];
  /** --sandbox-show, absolute */
  show: readonly string[];
}

export function isUnder(p: string, dir: string): boolean {
  if (p === dir) return true;
  const rel = path.relative(dir, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * The list, deduplicated, with entries inside another hidden directory dropped (the outer mount
 * already covers them). --sandbox-show removes a store or socket entry (and any entry under it);
 * it never removes a vault entry.
 */
export function hiddenEntries(input: HiddenInput): HiddenEntry[] {
  const { home } = input;
  const runtime = input.runtimeDir ?? `/run/user/${input.uid}`;
  const all: HiddenEntry[] = [
    { path: input.vaultRoot, kind: 'vault' as const, shape: 'dir' as const },
    { path: input.keyFile, kind: 'vault' as const, shape: 'file' as const },
    { path: path.join(home, '.aivault'), kind: 'vault' as const, shape: 'dir' as const },
    ...HOME_STORES.map(([rel, shape]) => ({ path: path.join(home, rel), kind: 'store' as const, shape })),
    ...RUNTIME_SOCKETS.map((name) => ({ path: path.join(runtime, name), kind: 'socket' as const, shape: 'file' as const })),
    { path: `/tmp/tmux-${input.uid}`, kind: 'socket' as const, shape: 'dir' as const },
    { path: '/run/docker.sock', kind: 'socket' as const, shape: 'file' as const },
    { path: '/var/run/docker.sock', kind: 'socket' as const, shape: 'file' as const },
    ...(input.sshAuthSock ? [{ path: input.sshAuthSock, kind: 'socket' as const, shape: 'file' as const }] : []),
    ...input.hide.map((p) => ({ path: p, kind: 'store' as const, shape: 'dir' as const })),
  ].map((e): HiddenEntry => ({ ...e, path: path.resolve(e.path) }));
  const shown = all.filter((e) => e.kind === 'vault' || !input.show.some((s) => isUnder(e.path, path.resolve(s))));
  const seen = new Map<string, HiddenEntry>();
  for (const e of shown) if (!seen.has(e.path)) seen.set(e.path, e);
  const list = [...seen.values()];
  // Outer first; drop entries inside another entry (a file entry covers nothing).
  return list.filter((e) => !list.some((o) => o !== e && o.shape === 'dir' && o.path !== e.path && isUnder(e.path, o.path)));
}

/** Paths --sandbox-show may not reveal (the vault, its key, ~/.aivault). */
export function showRefused(input: Pick<HiddenInput, 'home' | 'vaultRoot' | 'keyFile'>, show: string): boolean {
  const s = path.resolve(show);
  const vaultPaths = [input.vaultRoot, input.keyFile, path.join(input.home, '.aivault')].map((p) => path.resolve(p));
  // a vault path itself or anything inside one (showing a parent such as ~ keeps them hidden)
  return vaultPaths.some((v) => isUnder(s, v));
}
