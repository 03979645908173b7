/**
 * A seccomp filter (classic BPF, handed to bubblewrap's --seccomp) that refuses two ioctls:
 * TIOCSTI (push characters into the terminal's input queue) and TIOCLINUX (console selection
 * paste). With them a sandboxed command sharing the user's terminal could type a command into the
 * shell that runs after aivault exits, outside the sandbox (CVE-2017-5226 for bubblewrap itself;
 * kernels before 6.2, or with dev.tty.legacy_tiocsti=1, still allow it). Everything else is allowed.
 *
 * Layout of struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8i (the ioctl request is
 * compared on its low 32 bits, as the kernel truncates it to unsigned int).
 */

const LD_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const RET = 0x06; // BPF_RET | BPF_K
const RET_ALLOW = 0x7fff0000;
const RET_EPERM = 0x00050000 | 1;
export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;

interface ArchSpec {
  arch: number;
  ioctl: number;
  /** x86_64: syscall numbers with this bit are the x32 ABI (refused: nothing here uses it) */
  x32?: boolean;
}

/** Native and compat ABIs per machine. */
const ARCHES: Record<string, ArchSpec[]> = {
  x64: [
    { arch: 0xc000003e, ioctl: 16, x32: true },
    { arch: 0x40000003, ioctl: 54 }, // i386 compat
  ],
  arm64: [
    { arch: 0xc00000b7, ioctl: 29 },
    { arch: 0x40000028, ioctl: 54 }, // arm compat
  ],
};

type Insn = { code: number; k: number; jt?: string; jf?: string; label?: string };

/** The program for this machine, or undefined where none is defined (no filter is then used). */
export function tiocstiFilter(machine: string = process.arch): Buffer | undefined {
  const arches = ARCHES[machine];
  if (!arches) return undefined;
  const prog: Insn[] = [];
  arches.forEach((a, i) => {
    const next = i + 1 < arches.length ? `arch${i + 1}` : 'allow';
    prog.push({ label: `arch${i}`, code: LD_ABS, k: 4 });
    prog.push({ code: JEQ, k: a.arch, jf: next });
    prog.push({ code: LD_ABS, k: 0 });
    if (a.x32) prog.push({ code: JGE, k: 0x40000000, jt: 'deny' });
    prog.push({ code: JEQ, k: a.ioctl, jf: 'allow' });
    prog.push({ code: LD_ABS, k: 24 });
    prog.push({ code: JEQ, k: TIOCSTI, jt: 'deny' });
    prog.push({ code: JEQ, k: TIOCLINUX, jt: 'deny', jf: 'allow' });
  });
  prog.push({ label: 'allow', code: RET, k: RET_ALLOW });
  prog.push({ label: 'deny', code: RET, k: RET_EPERM });
  const at = new Map<string, number>();
  prog.forEach((p, i) => p.label && at.set(p.label, i));
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((p, i) => {
    const rel = (l: string | undefined) => (l === undefined ? 0 : at.get(l)! - i - 1);
    buf.writeUInt16LE(p.code, i * 8);
    buf.writeUInt8(rel(p.jt), i * 8 + 2);
    buf.writeUInt8(rel(p.jf), i * 8 + 3);
    buf.writeUInt32LE(p.k >>> 0, i * 8 + 4);
  });
  return buf;
}
