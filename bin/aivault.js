#!/usr/bin/env node
// Thin launcher (CommonJS, see bin/package.json): the whole CLI is one bundled file for fast
// startup, built by `npm run build` (or `npm run prepare`, which npm runs for git installs).
// Start-up is a product feature (README "Start-up"): bin/load-bundle.cjs compiles the bundle with
// V8's code cache when one was made for it.
const { BUNDLE, loadBundle } = require('./load-bundle.cjs');
if (!require('node:fs').existsSync(BUNDLE)) {
  process.stderr.write(
    `aivault: not built: ${BUNDLE} is missing. In a checkout run "npm install" or "npm run build"; installed from git, ` +
      'npm must run its "prepare" script (allow it: npm install-scripts approve aivault) — reinstall it then.\n',
  );
  process.exit(1);
}
loadBundle();
