// Build step: validates every shipped registry/*.json now (at run time the shipped registry is
// validated per provider on first use, see src/registry/load.ts).
import { validateRegistryDir } from '../dist/src/registry/load.js';

try {
  const reg = validateRegistryDir('registry');
  process.stderr.write(`registry: ${reg.providers.length} providers, ${reg.capabilities.length} capabilities valid\n`);
} catch (e) {
  process.stderr.write(`registry: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
