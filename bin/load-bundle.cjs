// Loads the CLI bundle (dist/bundle/aivault.cjs) for bin/aivault.js, with V8's code cache when
// dist/bundle/aivault.cjs.cache was made for this very bundle (its first line names the bundle's
// content hash) and this very V8 (V8 checks its version and flags, and rejects the cache
// otherwise). No usable cache, or any doubt: the bundle is compiled as usual. scripts/code-cache.mjs
// makes the cache with the same function, so both compile the same wrapped source.
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.join(__dirname, '..', 'dist', 'bundle');
const BUNDLE = path.join(DIR, 'aivault.cjs');
/** Chunks the bundle requires lazily, loaded the same way (own cache each); only --intercept's X.509 code. */
const CHUNKS = new Set(['./aivault-x509.cjs']);

/** The content hash a bundle or chunk names on its first line (scripts/bundle.mjs), or undefined. */
function bundleId(source) {
  const m = /^\/\/ aivault-bundle ([0-9a-f]{16,64})\n/.exec(source.slice(0, 100));
  return m ? m[1] : undefined;
}

/** file's code cache when its header names `id`, else undefined. */
function readCache(file, id) {
  try {
    const bytes = fs.readFileSync(`${file}.cache`);
    const nl = bytes.indexOf(10);
    if (nl > 0 && bytes.subarray(0, nl).toString('latin1') === `aivault-code-cache ${id}`) return bytes.subarray(nl + 1);
  } catch {
    // no cache: compile as usual
  }
  return undefined;
}

/**
 * Compiles and runs one file of the bundle as a CommonJS module (with its code cache unless
 * `noCache`). `loaded` records every file run, with its vm.Script: scripts/code-cache.mjs calls
 * createCachedData() on them after a training run.
 */
function runFile(file, opts, loaded) {
  const Module = require('node:module');
  const vm = require('node:vm');
  // the build writes ASCII: a one-byte string, no UTF-8 decoding (anything else is decoded as usual)
  const bytes = fs.readFileSync(file);
  const source = require('node:buffer').isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const id = bundleId(source);
  const cachedData = id !== undefined && !opts.noCache ? readCache(file, id) : undefined;
  const script = new vm.Script(Module.wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
  const entry = { file, script, id, cacheRejected: cachedData ? script.cachedDataRejected === true : undefined };
  loaded.push(entry);
  const base = Module.createRequire(file);
  const chunks = new Map();
  const req = (request) => {
    if (!CHUNKS.has(request)) return base(request);
    if (!chunks.has(request)) chunks.set(request, runFile(path.join(DIR, request), opts, loaded).exports);
    return chunks.get(request);
  };
  req.resolve = base.resolve;
  req.cache = base.cache;
  const mod = { exports: {}, id: file, filename: file, loaded: false };
  script.runInThisContext()(mod.exports, req, mod, file, path.dirname(file));
  mod.loaded = true;
  entry.exports = mod.exports;
  return entry;
}

/** Runs the CLI bundle. Returns what was loaded (the bundle first; chunks as the run needs them). */
function loadBundle(opts = {}) {
  const loaded = [];
  const main = runFile(BUNDLE, opts, loaded);
  return { cacheRejected: main.cacheRejected, loaded };
}

module.exports = { loadBundle, BUNDLE };
