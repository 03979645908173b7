/**
 * bubblewrap's --json-status-fd stream: `{ "child-pid": N, ... }` once the sandbox's pid 1 exists,
 * `{ "exit-code": N }` only if the command was started. An exit without the second line means the
 * sandbox itself failed to start.
 */
import type { Readable } from 'node:stream';

export class SandboxStatus {
  /** host pid of the sandbox's pid 1 */
  initPid: number | undefined;
  exitCode: number | undefined;
  readonly ended: Promise<void>;
  private buf = '';

  constructor(stream: Readable) {
    this.ended = new Promise<void>((resolve) => {
      stream.on('data', (b: Buffer) => {
        this.buf += b.toString('utf8');
        this.parse();
      });
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', resolve);
    });
  }

  private parse(): void {
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) return;
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        if (typeof o['child-pid'] === 'number') this.initPid = o['child-pid'];
        if (typeof o['exit-code'] === 'number') this.exitCode = o['exit-code'];
      } catch {
        /* not ours to judge */
      }
    }
  }
}
