#!/usr/bin/env node
// Thin launcher (CommonJS, see bin/package.json): the whole CLI is one bundled file for fast
// startup, built by `npm run build` (or `npm run prepare`, which npm runs for git installs).
const path = require('node:path');
const bundle = path.join(__dirname, '..', 'dist', 'bundle', 'aivault.cjs');
if (!require('node:fs').existsSync(bundle)) {
  process.stderr.write(
    `aivault: not built: ${bundle} is missing. In a checkout run "npm install" or "npm run build"; installed from git, ` +
      'npm must run its "prepare" script (allow it: npm install-scripts approve aivault) — reinstall it then.\n',
  );
  process.exit(1);
}
require(bundle);
