import { parse } from '../args.js';
import { runDemo } from '../../demo/run.js';
import { packageRoot } from '../../registry/locate.js';

export async function run(argv: string[]): Promise<number> {
  parse(argv, {});
  return runDemo(packageRoot());
}
