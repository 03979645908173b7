/** Strict base64 (standard or url-safe, padding optional) of exactly 32 bytes, else undefined. */
export function decodeKey(text: string): Uint8Array | undefined {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return undefined;
  const b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (b.length !== 32) return undefined;
  return new Uint8Array(b);
}
