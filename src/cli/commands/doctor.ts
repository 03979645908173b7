/** `aivault doctor [--json]`: see src/doctor/report.ts. Exit 0; the report is the data (stdout). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { parse } from '../args.js';
import { data, json } from '../output.js';
import { openVault, vaultPaths } from '../../vault/open.js';
import { decide, gatherFacts } from '../../sandbox/probe.js';
import { buildReport, renderReport, type DoctorFacts } from '../../doctor/report.js';

function sysctl(name: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/sys/${name}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const sandbox = gatherFacts(process.env.PATH);
  const probe = decide(sandbox);
  let trial: DoctorFacts['trial'];
  let bwrapVersion: string | undefined;
  if (probe.ok) {
    // every namespace the sandbox uses, network included
    const r = spawnSync(
      probe.bwrap,
      ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', probe.env, 'true'],
      { encoding: 'utf8', timeout: 15_000 },
    );
    trial = { ok: r.status === 0, detail: (r.stderr ?? '').trim().split('\n')[0]?.replace(/^bwrap: /, '') || undefined };
    bwrapVersion = spawnSync(probe.bwrap, ['--version'], { encoding: 'utf8', timeout: 5_000 }).stdout?.trim() || undefined;
  }
  const vp = vaultPaths(process.env);
  let status: Awaited<ReturnType<Awaited<ReturnType<typeof openVault>>['status']>> | undefined;
  try {
    status = await (await openVault()).status();
  } catch {
    status = undefined;
  }
  const report = buildReport({
    sandbox,
    trial,
    bwrapVersion,
    vault: {
      dir: status?.dir ?? vp.root,
      initialized: status?.initialized ?? false,
      provider: status?.provider ?? null,
      keyFile: status?.keyFile ?? vp.keyFile,
      keyEnv: status?.keyEnv,
      secretCount: status?.secretCount ?? 0,
      custom: !!process.env.AIVAULT_DIR,
    },
    ptraceScope: sysctl('kernel/yama/ptrace_scope'),
    legacyTiocsti: sysctl('dev/tty/legacy_tiocsti'),
    passphraseInEnv: process.env.AIVAULT_PASSPHRASE !== undefined,
  });
  if (values.json) json(report);
  else data(renderReport(report));
  return 0;
}
