/**
 * Streaming secret redaction for response bodies (SPEC §6). Every occurrence of every needle is
 * replaced by REDACTED, also when an occurrence is split across chunk borders: the redactor holds
 * back the last (longest needle − 1) bytes of what it has seen until the next chunk or the end.
 * Memory is bounded by one chunk plus that tail.
 */

export const REDACTED = '[REDACTED]';
const REDACTED_BUF = Buffer.from(REDACTED);

export class StreamRedactor {
  private readonly needles: Buffer[];
  private readonly hold: number;
  private tail: Buffer = Buffer.alloc(0);

  constructor(values: readonly string[]) {
    const uniq = [...new Set(values.filter((v) => typeof v === 'string' && v.length > 0))];
    // longest first: at equal start positions the longest needle wins
    this.needles = uniq.map((v) => Buffer.from(v, 'utf8')).sort((a, b) => b.length - a.length);
    this.hold = this.needles.length === 0 ? 0 : this.needles[0]!.length - 1;
  }

  get active(): boolean {
    return this.needles.length > 0;
  }

  /** Feed a chunk; returns what may be emitted now (possibly empty). */
  push(chunk: Buffer): Buffer {
    if (this.needles.length === 0) return chunk;
    const data = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    // Anything starting before `cut` is either a complete occurrence or none at all.
    const cut = data.length - this.hold;
    if (cut <= 0) {
      this.tail = data;
      return Buffer.alloc(0);
    }
    const { out, consumed } = this.scan(data, cut);
    this.tail = consumed >= data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(consumed));
    return out;
  }

  /** End of stream: everything left, redacted. */
  end(): Buffer {
    if (this.needles.length === 0 || this.tail.length === 0) return Buffer.alloc(0);
    const data = this.tail;
    this.tail = Buffer.alloc(0);
    return this.scan(data, data.length).out;
  }

  /** Redact a whole string (response header values). */
  redactString(s: string): string {
    if (this.needles.length === 0) return s;
    let out = s;
    for (const n of this.needles) {
      const v = n.toString('utf8');
      if (out.includes(v)) out = out.split(v).join(REDACTED);
    }
    return out;
  }

  /**
   * Replace occurrences starting before `limit`; emit up to max(limit, end of last replaced
   * occurrence). Returns the emitted bytes and how many input bytes they cover.
   */
  private scan(data: Buffer, limit: number): { out: Buffer; consumed: number } {
    const parts: Buffer[] = [];
    let pos = 0;
    for (;;) {
      let best = -1;
      let bestLen = 0;
      for (const n of this.needles) {
        const i = data.indexOf(n, pos);
        if (i !== -1 && i < limit && (best === -1 || i < best)) {
          best = i;
          bestLen = n.length;
        }
      }
      if (best === -1) break;
      if (best > pos) parts.push(data.subarray(pos, best));
      parts.push(REDACTED_BUF);
      pos = best + bestLen;
    }
    const consumed = Math.max(pos, limit);
    if (consumed > pos) parts.push(data.subarray(pos, consumed));
    if (parts.length === 1) return { out: parts[0]!, consumed };
    return { out: Buffer.concat(parts), consumed };
  }
}
