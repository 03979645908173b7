// npm runs `prepare` after `npm install` in a checkout, for git dependencies
// (`npm i -D github:owner/aivault`, `git+file:`, with devDependencies installed) and before
// `npm pack`. It builds only what the installed command needs, the one-file CLI bundle
// (dist/bundle/aivault.cjs, scripts/bundle.mjs); `npm run build` also type-checks and compiles
// the tests. Without esbuild (a production install of a checkout) there is nothing to build
// with: say so and succeed, and bin/aivault.js explains what is missing if it is run.
import { createRequire } from 'node:module';

try {
  createRequire(import.meta.url).resolve('esbuild');
} catch {
  process.stderr.write('aivault prepare: esbuild is not installed (devDependencies omitted); skipping the CLI bundle\n');
  process.exit(0);
}
await import('./bundle.mjs');
