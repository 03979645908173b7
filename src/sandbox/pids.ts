/**
 * Host pid of a process inside the sandbox's PID namespace. In terminal mode the launcher forwards
 * SIGTERM/SIGHUP/SIGUSR1/SIGUSR2 to the command itself (not to its group, which is the shell's
 * job), and the command is pid 2 of the namespace, a child of the sandbox's pid 1.
 */
import fs from 'node:fs';

/** The child of `parentPid` whose innermost namespace pid is `nsPid`, or undefined. */
export function findNsChild(parentPid: number, nsPid = 2): number | undefined {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const n of names) {
    if (n.charCodeAt(0) < 48 || n.charCodeAt(0) > 57) continue;
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${n}/status`, 'utf8');
    } catch {
      continue;
    }
    const ppid = /^PPid:\s+(\d+)$/m.exec(status)?.[1];
    if (Number(ppid) !== parentPid) continue;
    const ns = /^NSpid:\s+([\d\s]+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    if (ns && ns.length > 1 && Number(ns[ns.length - 1]) === nsPid) return Number(n);
  }
  return undefined;
}
