// Bundles the CLI into one CommonJS file, dist/bundle/aivault.cjs, with esbuild.
// Why one CJS file: measured here, Node 20's ESM loader spent ~45 ms resolving and linking the
// code-split chunks of an ESM bundle on every `aivault exec`; one CJS file loads in a few ms
// (V8 compiles functions lazily, so unused commands cost only a pre-parse).
// undici (only needed on the first upstream request, loaded lazily), ws (WebSocket relays) and the
// optional keychain binding stay external and come from node_modules at run time. The X.509 code
// for --intercept (src/broker/intercept/x509-lib.ts) is its own chunk, aivault-x509.cjs, required
// only when a run intercepts: it costs several times the rest of the CLI to load.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

// The shipped registry travels inside the bundle (validated by scripts/check-registry.mjs at build
// and again per provider at run time), so `aivault exec` reads no registry file.
const registry = readdirSync('registry')
  .filter((n) => n.endsWith('.json'))
  .sort()
  .map((name) => ({ name, text: readFileSync(`registry/${name}`, 'utf8') }));

rmSync('dist/bundle', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/entry.ts'],
  outfile: 'dist/bundle/aivault.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['@napi-rs/keyring', 'undici', 'ws'],
  plugins: [
    {
      name: 'x509-chunk',
      setup(b) {
        b.onResolve({ filter: /\/x509-lib\.js$/ }, () => ({ path: './aivault-x509.cjs', external: true }));
      },
    },
  ],
  // import.meta.url has no CJS equivalent; the banner provides one for the whole bundle.
  define: { 'import.meta.url': '__aivaultModuleUrl', __AIVAULT_EMBEDDED_REGISTRY__: JSON.stringify(registry) },
  banner: { js: "const __aivaultModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// import() of an external (undici, ws, node:tls, the X.509 chunk, the keychain binding) becomes
// require() with the same namespace shape: the bundle runs as a vm.Script (bin/load-bundle.cjs, for
// the code cache), where import() would need Node's experimental main-context loader (and its
// warning on stderr), and require() skips the ESM loader's CJS export scan (~100 ms for the X.509
// chunk). Every import() in the bundle must be one of these call forms: anything else fails the build.
const IMPORT_HELPER =
  'function __aivaultImport(id) { return Promise.resolve().then(() => { const m = require(id); return m && m.__esModule ? m : Object.assign(Object.create(null), m, { default: m }); }); }\n';
let bundled = readFileSync('dist/bundle/aivault.cjs', 'utf8');
let rewritten = 0;
bundled = bundled.replace(/(?<![\w$.])import\((?=["'a-zA-Z_$])/g, () => {
  rewritten++;
  return '__aivaultImport(';
});
const left = /(?<![\w$.])import\(/.exec(bundled);
if (left) throw new Error(`bundle: an import() that is not rewritten to require(): ...${bundled.slice(left.index - 60, left.index + 60)}...`);
if (rewritten === 0) throw new Error('bundle: expected import() calls to rewrite (undici, node:tls, ...); found none');
// `import fs from 'node:fs'` compiles to __toESM(require("node:fs"), 1), which copies every export
// of the module into a new object of getters, once per importing file: ~55 copies of fs, path, os,
// http... cost 9-26 ms of every start-up here. A node: builtin is never an ES module, so the same
// shape (`.default` is the module, named exports read through) is one Object.create.
const NODE_MODULE_HELPER = 'function __aivaultNodeModule(m) { return Object.create(m, { default: { value: m, enumerable: true } }); }\n';
let builtins = 0;
bundled = bundled.replace(/__toESM\(require\("(node:[a-z_/]+)"\), 1\)/g, (_, id) => {
  builtins++;
  return `__aivaultNodeModule(require("${id}"))`;
});
if (builtins === 0) throw new Error('bundle: expected __toESM(require("node:...")) calls to rewrite; esbuild output changed');
bundled = bundled.replace('"use strict";\n', `"use strict";\n${IMPORT_HELPER}${NODE_MODULE_HELPER}`);
// ASCII only (a few '§' in comments otherwise): bin/load-bundle.cjs then reads it as a one-byte
// string (~0.3 ms) instead of decoding UTF-8 into a two-byte one (~4.5 ms). A \uXXXX escape means
// the same character in a string, template, regular expression or identifier, and in a comment
// it is text.
bundled = bundled.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
// First line: the bundle's content hash, which bin/aivault.js matches against the code cache's.
const id = createHash('sha256').update(bundled).digest('hex').slice(0, 32);
writeFileSync('dist/bundle/aivault.cjs', `// aivault-bundle ${id}\n${bundled}`);
await build({
  entryPoints: ['src/broker/intercept/x509-lib.ts'],
  outfile: 'dist/bundle/aivault-x509.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  logLevel: 'warning',
});
{
  const chunk = readFileSync('dist/bundle/aivault-x509.cjs', 'utf8');
  const chunkId = createHash('sha256').update(chunk).digest('hex').slice(0, 32);
  writeFileSync('dist/bundle/aivault-x509.cjs', `// aivault-bundle ${chunkId}\n${chunk}`);
}
// V8's code cache for the bundle (needs the bundle above; best effort)
await import('./code-cache.mjs');
