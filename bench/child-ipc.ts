/** The benches' parent ↔ forked-child messages: send one, wait for the first reply of a type. */
import type { ChildProcess } from 'node:child_process';

export type Msg = Record<string, unknown> & { type: string };

/** Sends `msg` (unless its type is 'none') and resolves with the child's next message of `type`. */
export function ask(child: ChildProcess, msg: Msg, type: string): Promise<Msg> {
  return new Promise((resolve) => {
    const on = (m: Msg): void => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    if (msg.type !== 'none') child.send(msg);
  });
}
