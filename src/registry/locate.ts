import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AivaultError } from '../errors/aivault-error.js';

let cached: string | undefined;

/** The aivault package root (holds package.json, registry/, bin/, fixtures/). */
export function packageRoot(): string {
  return path.dirname(defaultRegistryDir());
}

/**
 * The package's shipped registry/ folder. Walks up from this module's own file (which may be
 * dist/src/registry/locate.js or a chunk in dist/bundle/) to the directory holding the aivault
 * package.json and a registry/ folder.
 */
export function defaultRegistryDir(): string {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    const reg = path.join(dir, 'registry');
    if (fs.existsSync(pkg) && isDir(reg)) {
      try {
        const name = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: unknown }).name;
        if (name === 'aivault') return (cached = reg);
      } catch {
        // not our package.json; keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new AivaultError('registry_invalid', 'cannot find the shipped registry/ folder next to the aivault package');
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
