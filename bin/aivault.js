#!/usr/bin/env node
// Thin launcher (CommonJS, see bin/package.json): the whole CLI is one bundled file for fast
// startup, built by `npm run build` (or `npm run prepare`, which npm runs for git installs).
const path = require('node:path');
const bundle = path.join(__dirname, '..', 'dist', 'bundle', 'aivault.cjs');
if (!require('node:fs').existsSync(bundle)) {
  process.stderr.write(
    `aivault: not built: ${bundle} is missing. In a git checkout run "npm install" (its prepare script builds it) or "npm run build"; ` +
      'or install aivault from a published package or an "npm pack" tarball.\n',
  );
  process.exit(1);
}
require(bundle);
