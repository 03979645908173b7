// Loads the CLI bundle (dist/bundle/aivault.cjs) for bin/aivault.js, with V8's code cache when
// dist/bundle/aivault.cjs.cache was made for this very bundle (its first line names the bundle's
// content hash) and this very V8 (V8 checks its version and flags, and rejects the cache
// otherwise). No usable cache, or any doubt: the bundle is compiled as usual. scripts/code-cache.mjs
// makes the cache with the same function, so both compile the same wrapped source.
const fs = require('node:fs');
const path = require('node:path');

const BUNDLE = path.join(__dirname, '..', 'dist', 'bundle', 'aivault.cjs');
const CACHE = `${BUNDLE}.cache`;

/** The content hash a bundle names on its first line (scripts/bundle.mjs), or undefined. */
function bundleId(source) {
  const m = /^\/\/ aivault-bundle ([0-9a-f]{16,64})\n/.exec(source.slice(0, 100));
  return m ? m[1] : undefined;
}

/**
 * Compiles and runs the bundle as a CommonJS module. Returns the vm.Script (scripts/code-cache.mjs
 * calls createCachedData() on it after a training run).
 */
function loadBundle(opts = {}) {
  const Module = require('node:module');
  const vm = require('node:vm');
  const source = fs.readFileSync(BUNDLE, 'utf8');
  const id = bundleId(source);
  let cachedData;
  if (id !== undefined && !opts.noCache) {
    try {
      const file = fs.readFileSync(CACHE);
      const nl = file.indexOf(10);
      if (nl > 0 && file.subarray(0, nl).toString('latin1') === `aivault-code-cache ${id}`) cachedData = file.subarray(nl + 1);
    } catch {
      // no cache: compile as usual
    }
  }
  const script = new vm.Script(Module.wrap(source), {
    filename: BUNDLE,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const mod = { exports: {}, id: BUNDLE, filename: BUNDLE, loaded: false };
  script.runInThisContext()(mod.exports, Module.createRequire(BUNDLE), mod, BUNDLE, path.dirname(BUNDLE));
  return { script, id, cacheRejected: cachedData ? script.cachedDataRejected === true : undefined };
}

module.exports = { loadBundle, bundleId, BUNDLE, CACHE };
