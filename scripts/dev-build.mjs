// Development build: type-check+emit with tsc (reporting but not stopping on errors elsewhere in
// the tree), then bundle. CI uses `npm run build`, which stops on any type error.
import { spawnSync } from 'node:child_process';
const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
const b = spawnSync(process.execPath, ['scripts/bundle.mjs'], { stdio: 'inherit' });
process.exit(b.status !== 0 ? 1 : tsc.status ?? 1);
