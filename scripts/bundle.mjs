// Bundles the CLI into one CommonJS file, dist/bundle/aivault.cjs, with esbuild.
// Why one CJS file: measured here, Node 20's ESM loader spent ~45 ms resolving and linking the
// code-split chunks of an ESM bundle on every `aivault exec`; one CJS file loads in a few ms
// (V8 compiles functions lazily, so unused commands cost only a pre-parse).
// undici (only needed on the first upstream request, loaded lazily) and the optional keychain
// binding stay external and come from node_modules at run time.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';

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
  external: ['@napi-rs/keyring', 'undici'],
  // import.meta.url has no CJS equivalent; the banner provides one for the whole bundle.
  define: { 'import.meta.url': '__aivaultModuleUrl', __AIVAULT_EMBEDDED_REGISTRY__: JSON.stringify(registry) },
  banner: { js: "const __aivaultModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
