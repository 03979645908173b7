export async function bench(): Promise<void> { process.stdout.write('(exec bench not written yet)\n'); }
