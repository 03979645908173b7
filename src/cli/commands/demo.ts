import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from '../args.js';
import { runDemo } from '../../demo/run.js';

export async function run(argv: string[]): Promise<number> {
  parse(argv, {});
  return runDemo(findPackageRoot());
}

function findPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'aivault') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the aivault package root');
    dir = up;
  }
}
