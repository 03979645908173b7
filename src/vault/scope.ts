import { AivaultError } from '../errors/aivault-error.js';

/** Where a secret applies. Lookups prefer the most specific: group > workspace > global. */
export type SecretScope =
  | { kind: 'global' }
  | { kind: 'workspace'; workspaceId: string }
  | { kind: 'group'; workspaceId: string; groupId: string };

/** Which workspace/group a lookup is for (both optional). */
export interface ScopeQuery {
  workspaceId?: string;
  groupId?: string;
}

export const GLOBAL: SecretScope = { kind: 'global' };

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function checkId(what: string, v: string): string {
  if (!ID_RE.test(v)) throw new AivaultError('usage', `invalid ${what} '${v}' (letters, digits, . _ : - ; up to 128)`);
  return v;
}

/** Builds a scope from CLI-ish inputs; `usage` error when inconsistent. */
export function makeScope(kind: string | undefined, workspaceId?: string, groupId?: string): SecretScope {
  const k = kind ?? (groupId !== undefined ? 'group' : workspaceId !== undefined ? 'workspace' : 'global');
  if (k === 'global') {
    if (workspaceId !== undefined || groupId !== undefined) throw new AivaultError('usage', '--workspace-id/--group-id need --scope workspace or group');
    return GLOBAL;
  }
  if (k === 'workspace') {
    if (workspaceId === undefined) throw new AivaultError('usage', '--scope workspace needs --workspace-id');
    if (groupId !== undefined) throw new AivaultError('usage', '--group-id needs --scope group');
    return { kind: 'workspace', workspaceId: checkId('workspace id', workspaceId) };
  }
  if (k === 'group') {
    if (workspaceId === undefined || groupId === undefined) throw new AivaultError('usage', '--scope group needs --workspace-id and --group-id');
    return { kind: 'group', workspaceId: checkId('workspace id', workspaceId), groupId: checkId('group id', groupId) };
  }
  throw new AivaultError('usage', `invalid --scope '${k}' (global, workspace or group)`);
}

/** Candidate scopes for a lookup, most specific first. */
export function lookupOrder(q: ScopeQuery = {}): SecretScope[] {
  const out: SecretScope[] = [];
  if (q.workspaceId !== undefined && q.groupId !== undefined) out.push({ kind: 'group', workspaceId: q.workspaceId, groupId: q.groupId });
  if (q.workspaceId !== undefined) out.push({ kind: 'workspace', workspaceId: q.workspaceId });
  out.push(GLOBAL);
  return out;
}

/** Canonical tuple [kind, workspaceId, groupId] used in file names and associated data. */
export function scopeTuple(s: SecretScope): [string, string, string] {
  if (s.kind === 'global') return ['global', '', ''];
  if (s.kind === 'workspace') return ['workspace', s.workspaceId, ''];
  return ['group', s.workspaceId, s.groupId];
}

export function scopeLabel(s: SecretScope): string {
  if (s.kind === 'global') return 'global';
  if (s.kind === 'workspace') return `workspace:${s.workspaceId}`;
  return `group:${s.workspaceId}/${s.groupId}`;
}

export function sameScope(a: SecretScope, b: SecretScope): boolean {
  return scopeTuple(a).join('\0') === scopeTuple(b).join('\0');
}

export function isScope(x: unknown): x is SecretScope {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  if (o.kind === 'global') return Object.keys(o).length === 1;
  if (o.kind === 'workspace') return typeof o.workspaceId === 'string' && ID_RE.test(o.workspaceId) && o.groupId === undefined;
  if (o.kind === 'group') return typeof o.workspaceId === 'string' && ID_RE.test(o.workspaceId) && typeof o.groupId === 'string' && ID_RE.test(o.groupId);
  return false;
}
