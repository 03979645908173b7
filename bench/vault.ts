export async function bench(): Promise<void> { process.stdout.write('(vault bench not written yet)\n'); }
