export async function bench(): Promise<void> { process.stdout.write('(broker bench not written yet)\n'); }
