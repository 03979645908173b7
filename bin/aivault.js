#!/usr/bin/env node
// Thin launcher (CommonJS, see bin/package.json): the whole CLI is one bundled file for fast
// startup; build it with `npm run build`.
require('../dist/bundle/aivault.cjs');
