/**
 * Sending signals to the child. In own-group mode the child leads its own process group (and
 * session), so a negative pid reaches it and every grandchild that did not detach itself.
 */
export function sendSignal(pid: number, signal: NodeJS.Signals | number, group: boolean): boolean {
  try {
    process.kill(group ? -pid : pid, signal);
    return true;
  } catch {
    return false; // ESRCH: already gone; EPERM: not ours any more
  }
}
