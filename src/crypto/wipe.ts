/** Best-effort zeroing of key material no longer needed (JS gives no guarantees, but it helps). */
export function wipe(...bufs: Array<Uint8Array | undefined>): void {
  for (const b of bufs) b?.fill(0);
}
