/**
 * `--profile NAME`: named option sets kept with the project. Looked up from the cwd upwards, stopping
 * at the nearest directory holding a package.json (the project root); in each directory
 * `aivault.config.json` {"profiles": {...}} is read first, then package.json's "aivault" key
 * {"profiles": {...}}. The first file that defines profiles is used.
 *
 *   { "allow": ["openai/*"], "envFile": [".env"], "passEnv": ["DEBUG"], "fromEnv": [],
 *     "setEnv": {"LOG_LEVEL": "info"}, "credential": "openai", "timeout": "5m",
 *     "workspaceId": "w", "groupId": "g", "quiet": false,
 *     "intercept": true, "egress": "deny", "egressAllow": ["registry.npmjs.org"] }
 *
 * Paths in envFile are relative to the file that defines the profile.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';

export interface ProfileDef {
  allow?: string[];
  envFile?: string[];
  passEnv?: string[];
  fromEnv?: string[];
  setEnv?: Record<string, string>;
  credential?: string;
  timeout?: string | number;
  workspaceId?: string;
  groupId?: string;
  quiet?: boolean;
  /** run sandboxed (SPEC §9): true = --sandbox, "broker" = --sandbox-net=broker */
  sandbox?: boolean | 'broker';
  intercept?: boolean;
  egress?: string;
  egressAllow?: string[];
}

export interface LoadedProfile {
  profile: ProfileDef;
  /** File the profile came from and its directory (base for relative paths). */
  file: string;
  dir: string;
}

const LIST_KEYS = ['allow', 'envFile', 'passEnv', 'fromEnv', 'egressAllow'] as const;
const STRING_KEYS = ['credential', 'workspaceId', 'groupId', 'egress'] as const;

function fail(file: string, msg: string): never {
  throw new AivaultError('usage', `${file}: ${msg}`, { file });
}

export function validateProfile(v: unknown, file: string, name: string): ProfileDef {
  const where = `profiles.${name}`;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(file, `${where}: must be an object`);
  const o = v as Record<string, unknown>;
  const known = new Set<string>([...LIST_KEYS, ...STRING_KEYS, 'setEnv', 'timeout', 'quiet', 'sandbox', 'intercept']);
  for (const k of Object.keys(o)) if (!known.has(k)) fail(file, `${where}.${k}: unknown field`);
  const out: ProfileDef = {};
  for (const k of LIST_KEYS) {
    const x = o[k];
    if (x === undefined) continue;
    const arr = typeof x === 'string' ? [x] : x;
    if (!Array.isArray(arr) || !arr.every((s) => typeof s === 'string')) fail(file, `${where}.${k}: must be a list of strings`);
    out[k] = arr as string[];
  }
  for (const k of STRING_KEYS) {
    const x = o[k];
    if (x === undefined) continue;
    if (typeof x !== 'string') fail(file, `${where}.${k}: must be a string`);
    out[k] = x;
  }
  if (o.setEnv !== undefined) {
    const s = o.setEnv;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) fail(file, `${where}.setEnv: must be an object of strings`);
    const env: Record<string, string> = {};
    for (const [k, val] of Object.entries(s as Record<string, unknown>)) {
      if (typeof val !== 'string') fail(file, `${where}.setEnv.${k}: must be a string`);
      env[k] = val;
    }
    out.setEnv = env;
  }
  if (o.timeout !== undefined) {
    if (typeof o.timeout !== 'string' && typeof o.timeout !== 'number') fail(file, `${where}.timeout: must be a duration string or seconds`);
    out.timeout = o.timeout;
  }
  if (o.intercept !== undefined) {
    if (typeof o.intercept !== 'boolean') fail(file, `${where}.intercept: must be true or false`);
    out.intercept = o.intercept;
  }
  if (o.quiet !== undefined) {
    if (typeof o.quiet !== 'boolean') fail(file, `${where}.quiet: must be true or false`);
    out.quiet = o.quiet;
  }
  if (o.sandbox !== undefined) out.sandbox = validateSandboxSetting(o.sandbox, file, `${where}.sandbox`);
  return out;
}

export function validateSandboxSetting(v: unknown, file: string, where: string): boolean | 'broker' {
  if (v !== true && v !== false && v !== 'broker') fail(file, `${where}: must be true, false or "broker"`);
  return v;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    fail(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    fail(file, 'invalid JSON');
  }
}

function profilesIn(json: unknown, file: string, viaKey: boolean): Record<string, unknown> | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const holder = viaKey ? (json as Record<string, unknown>).aivault : json;
  if (holder === undefined) return undefined;
  if (typeof holder !== 'object' || holder === null) fail(file, `${viaKey ? 'aivault' : '(file)'}: must be an object`);
  const profiles = (holder as Record<string, unknown>).profiles;
  if (profiles === undefined) return undefined;
  if (typeof profiles !== 'object' || profiles === null || Array.isArray(profiles)) fail(file, 'profiles: must be an object');
  return profiles as Record<string, unknown>;
}

export function loadProfile(name: string, cwd: string = process.cwd()): LoadedProfile {
  let dir = path.resolve(cwd);
  const looked: string[] = [];
  for (;;) {
    const cfg = path.join(dir, 'aivault.config.json');
    const pkg = path.join(dir, 'package.json');
    const cfgJson = readJson(cfg);
    const cfgProfiles = cfgJson === undefined ? undefined : profilesIn(cfgJson, cfg, false);
    const pkgJson = readJson(pkg);
    const pkgProfiles = pkgJson === undefined ? undefined : profilesIn(pkgJson, pkg, true);
    for (const [file, profiles] of [[cfg, cfgProfiles], [pkg, pkgProfiles]] as const) {
      if (!profiles) continue;
      looked.push(file);
      if (Object.prototype.hasOwnProperty.call(profiles, name)) {
        return { profile: validateProfile(profiles[name], file, name), file, dir };
      }
    }
    if (pkgJson !== undefined) break; // project root reached
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const where = looked.length ? ` (looked in ${looked.join(', ')})` : ' (no aivault.config.json or package.json "aivault" profiles found)';
  throw new AivaultError('usage', `--profile ${name}: no such profile${where}`);
}

/**
 * A project-wide `"sandbox": true | "broker" | false` at the top of aivault.config.json (nearest one
 * from the cwd up to the project root): applies to every `aivault exec` run there, profile or not.
 * A profile's own "sandbox" and the command line (--sandbox..., --no-sandbox) take precedence.
 */
export function loadProjectSandbox(cwd: string = process.cwd()): boolean | 'broker' | undefined {
  let dir = path.resolve(cwd);
  for (;;) {
    const cfg = path.join(dir, 'aivault.config.json');
    const json = readJson(cfg);
    if (json !== undefined) {
      if (typeof json === 'object' && json !== null && 'sandbox' in json) {
        return validateSandboxSetting((json as Record<string, unknown>).sandbox, cfg, 'sandbox');
      }
      return undefined;
    }
    if (fs.existsSync(path.join(dir, 'package.json'))) return undefined;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
