// `npm run bench`: runs every bench module in turn. Each prints its own figures as ratios measured
// side by side in one run (absolute times on shared machines are noisy). Arg: a module name to run alone.
const MODULES: Record<string, () => Promise<{ bench(): Promise<void> }>> = {
  vault: () => import('./vault.js'),
  broker: () => import('./broker.js'),
  exec: () => import('./exec.js'),
  'exec-phases': () => import('./exec-phases.js'),
  audit: () => import('./audit.js'),
};

const only = process.argv[2];
for (const [name, load] of Object.entries(MODULES)) {
  if (only && only !== name) continue;
  process.stdout.write(`\n== bench: ${name} ==\n`);
  const mod = await load();
  await mod.bench();
}
