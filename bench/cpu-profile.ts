/**
 * In-process CPU profiling for the benches' forked children (node:inspector, loaded only when a
 * profile is asked for): start at the beginning of a measured window, stop at its end and write a
 * .cpuprofile (open it in Chrome DevTools, or read it with bench/profile-phases.ts). Only the
 * window is profiled, not module loading or warm-up.
 */
import fs from 'node:fs';
import type { Session } from 'node:inspector';

let session: Session | undefined;

function post<T>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
}

/** Start sampling every `intervalUs` microseconds. */
export async function startProfile(intervalUs = 100): Promise<void> {
  const inspector = await import('node:inspector');
  session ??= new inspector.Session();
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: intervalUs });
  await post('Profiler.start');
}

/** Stop sampling and write the profile to `file`. */
export async function stopProfile(file: string): Promise<void> {
  const { profile } = await post<{ profile: unknown }>('Profiler.stop');
  await post('Profiler.disable');
  session!.disconnect();
  fs.writeFileSync(file, JSON.stringify(profile));
}
