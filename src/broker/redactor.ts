/**
 * Streaming secret redaction for response bodies (SPEC §6). Every occurrence of every needle is
 * replaced by REDACTED, also when an occurrence is split across chunk borders: when a chunk ends
 * with bytes that could be the start of a secret (a proper prefix of some needle, so at most
 * longest needle − 1 bytes), those bytes are held back until the next chunk or the end. Any other
 * chunk end is emitted at once, so event streams are not delayed. Memory: one chunk plus the tail.
 */

export const REDACTED = '[REDACTED]';
const REDACTED_BUF = Buffer.from(REDACTED);
const EMPTY = Buffer.alloc(0);

/**
 * The byte patterns to redact, prepared once per credential. A value that contains another value
 * is dropped: redacting the inner one already removes every secret byte the outer one holds
 * (e.g. 'Bearer sk-…' is covered by 'sk-…'), and fewer patterns means fewer passes per chunk.
 */
export class RedactionSet {
  readonly needles: Buffer[];
  readonly hold: number;
  readonly firstBytes: Set<number>;
  readonly strings: string[];
  /** length of the shortest needle, in characters (a shorter string cannot hold any) */
  readonly minLength: number;
  /** firstBytes as a lookup table (1 = some needle starts with this byte) */
  readonly firstByteTable: Uint8Array;

  constructor(values: readonly string[]) {
    const uniq = [...new Set(values.filter((v) => typeof v === 'string' && v.length > 0))].sort((a, b) => a.length - b.length);
    const kept: string[] = [];
    for (const v of uniq) if (!kept.some((k) => v.includes(k))) kept.push(v);
    // longest first: at equal start positions the longest needle wins
    this.strings = kept.sort((a, b) => b.length - a.length);
    this.needles = this.strings.map((v) => Buffer.from(v, 'utf8'));
    this.hold = this.needles.length === 0 ? 0 : this.needles[0]!.length - 1;
    this.firstBytes = new Set(this.needles.map((n) => n[0]!));
    this.firstByteTable = new Uint8Array(256);
    for (const b of this.firstBytes) this.firstByteTable[b] = 1;
    this.minLength = this.strings.length === 0 ? 0 : Math.min(...this.strings.map((v) => v.length));
  }
}

export class StreamRedactor {
  private readonly needles: Buffer[];
  private readonly hold: number;
  private readonly firstBytes: Uint8Array;
  private readonly strings: string[];
  /** see RedactionSet.minLength */
  readonly minLength: number;
  private tail: Buffer = EMPTY;

  constructor(values: readonly string[] | RedactionSet) {
    const set = values instanceof RedactionSet ? values : new RedactionSet(values);
    this.needles = set.needles;
    this.hold = set.hold;
    this.firstBytes = set.firstByteTable;
    this.strings = set.strings;
    this.minLength = set.minLength;
  }

  get active(): boolean {
    return this.needles.length > 0;
  }

  /** Feed a chunk; returns what may be emitted now (possibly empty). */
  push(chunk: Buffer): Buffer {
    if (this.needles.length === 0) return chunk;
    const data = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const { parts, pos } = this.replaceAll(data);
    // Hold back only a suffix that could still grow into a needle, so streams (SSE) are never
    // delayed by the redactor unless a chunk really ends in the middle of a possible secret.
    const keep = this.heldFrom(data, pos);
    if (keep > pos) parts.push(data.subarray(pos, keep));
    this.tail = keep >= data.length ? EMPTY : Buffer.from(data.subarray(keep));
    if (parts.length === 0) return EMPTY;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** End of stream: everything left, redacted. */
  end(): Buffer {
    if (this.needles.length === 0 || this.tail.length === 0) return EMPTY;
    const data = this.tail;
    this.tail = EMPTY;
    const { parts, pos } = this.replaceAll(data);
    if (pos < data.length) parts.push(data.subarray(pos));
    return Buffer.concat(parts);
  }

  /** Redact a whole string (response header values). */
  redactString(s: string): string {
    if (this.needles.length === 0 || s.length < this.minLength) return s;
    let out = s;
    for (const v of this.strings) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }

  /** Replace every complete occurrence (leftmost first, longest at equal start). */
  private replaceAll(data: Buffer): { parts: Buffer[]; pos: number } {
    const parts: Buffer[] = [];
    let pos = 0;
    for (;;) {
      let best = -1;
      let bestLen = 0;
      for (const n of this.needles) {
        const i = data.indexOf(n, pos);
        if (i !== -1 && (best === -1 || i < best)) {
          best = i;
          bestLen = n.length;
        }
      }
      if (best === -1) break;
      if (best > pos) parts.push(data.subarray(pos, best));
      parts.push(REDACTED_BUF);
      pos = best + bestLen;
    }
    return { parts, pos };
  }

  /** Smallest index >= from where the rest of `data` is a proper prefix of some needle. */
  private heldFrom(data: Buffer, from: number): number {
    const start = Math.max(from, data.length - this.hold);
    for (let p = start; p < data.length; p++) {
      if (this.firstBytes[data[p]!] !== 1) continue;
      const rest = data.length - p;
      for (const n of this.needles) {
        if (n.length > rest && data.compare(n, 0, rest, p, data.length) === 0) return p;
      }
    }
    return data.length;
  }
}
