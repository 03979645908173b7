#!/usr/bin/env node
// Thin launcher: the whole CLI is one bundled ESM file (fast startup); build with `npm run build`.
import '../dist/bundle/aivault.js';
