// Bundles the CLI into dist/bundle/ with esbuild. Dynamic imports become lazy chunks so that
// `aivault exec` loads only what it needs (startup time is a product feature).
import { build } from 'esbuild';

await build({
  entryPoints: { aivault: 'src/cli/entry.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@napi-rs/keyring'],
  banner: { js: "import { createRequire as __aivaultCreateRequire } from 'node:module'; const require = __aivaultCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
