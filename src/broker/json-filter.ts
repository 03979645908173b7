/**
 * Response blocklists (per capability, `--block-response-field PATH`): named JSON fields are
 * removed from JSON bodies and from the JSON `data:` lines of server-sent events, stream-parsed so
 * memory stays flat whatever the body size (state: the container stack and at most one key).
 *
 * Paths: dot-separated member names, `[]` after a name (or alone, for a top-level array) stepping
 * into every array element: `choices[].message.tool_calls`, `data[].email`, `usage`, `[].secret`.
 * A matching member is removed with its whole value; the output stays valid JSON (commas are
 * re-inserted by the filter). Bytes outside removed members pass through unchanged.
 * Malformed JSON fails closed: everything after the first malformed byte is dropped (for SSE, the
 * rest of that line). In SSE, only `data:` payloads that start with `{` are parsed; other lines
 * (`[DONE]`, comments, `event:`) pass unchanged.
 */

export type FieldPath = string[];

/** `choices[].message.tool_calls` → ['choices', '[]', 'message', 'tool_calls']. Throws on an invalid path. */
export function parseFieldPath(text: string): FieldPath {
  if (typeof text !== 'string' || text === '' || text.length > 512) throw new Error('empty or over-long field path');
  const out: string[] = [];
  for (const seg of text.split('.')) {
    const m = /^([^[\]]*)((?:\[\])*)$/.exec(seg);
    if (!m || (m[1] === '' && m[2] === '')) throw new Error(`invalid field path '${text.slice(0, 80)}'`);
    if (m[1] !== '') out.push(m[1]!);
    for (let i = 0; i < m[2]!.length / 2; i++) out.push('[]');
  }
  return out;
}

const enum S {
  Value,
  ObjKeyOrEnd,
  Key,
  Colon,
  ObjAfter,
  ArrFirst,
  ArrAfter,
  Str,
  Prim,
  Broken,
}

interface Frame {
  kind: 'obj' | 'arr';
  path: string[];
  emitted: number;
  /** path of this array's elements (computed once) */
  elem?: string[];
}

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const MAX_KEY = 64 * 1024;

/** Streaming JSON member remover. push() returns what may be emitted now. */
export class JsonFieldFilter {
  private state: S = S.Value;
  private stack: Frame[] = [];
  private key: number[] = [];
  private keyEsc = false;
  private strEsc = false;
  /** stack depth at which the value being skipped started, or -1 */
  private skipAt = -1;
  private pendingKey: { name: string; raw: number[] } | undefined;
  private obuf: Buffer = Buffer.allocUnsafe(0);
  private olen = 0;

  constructor(private readonly patterns: FieldPath[]) {}

  private ensure(n: number): void {
    if (this.olen + n <= this.obuf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.obuf.length * 2, this.olen + n, 4096));
    this.obuf.copy(next, 0, 0, this.olen);
    this.obuf = next;
  }

  private take(): Buffer {
    const b = Buffer.from(this.obuf.subarray(0, this.olen));
    this.olen = 0;
    return b;
  }

  get broken(): boolean {
    return this.state === S.Broken;
  }

  /** Whether member `name` of a container at `parent` is blocked (no allocation). */
  private blocked(parent: string[], name: string): boolean {
    for (const p of this.patterns) {
      if (p.length !== parent.length + 1 || p[parent.length] !== name) continue;
      let ok = true;
      for (let i = 0; i < parent.length; i++)
        if (p[i] !== parent[i]) {
          ok = false;
          break;
        }
      if (ok) return true;
    }
    return false;
  }

  /** Path of the value about to start: parent path + key (allocated only for containers). */
  private valueParent: string[] = [];
  private valueKey: string | undefined;

  private pathOfValue(): string[] {
    return this.valueKey === undefined ? this.valueParent : [...this.valueParent, this.valueKey];
  }

  private elemOf(frame: Frame): void {
    frame.elem ??= [...frame.path, '[]'];
    this.valueParent = frame.elem;
    this.valueKey = undefined;
  }

  private emit(b: number): void {
    if (this.skipAt !== -1) return;
    this.ensure(1);
    this.obuf[this.olen++] = b;
  }

  private emitBytes(b: number[]): void {
    if (this.skipAt !== -1) return;
    this.ensure(b.length);
    for (const c of b) this.obuf[this.olen++] = c;
  }

  /** A value (of `path`) is about to start. */
  private startValue(c: number): void {
    if (c === 0x7b) {
      this.emit(c);
      this.stack.push({ kind: 'obj', path: this.pathOfValue(), emitted: 0 });
      this.state = S.ObjKeyOrEnd;
    } else if (c === 0x5b) {
      this.emit(c);
      this.stack.push({ kind: 'arr', path: this.pathOfValue(), emitted: 0 });
      this.state = S.ArrFirst;
    } else if (c === 0x22) {
      this.emit(c);
      this.strEsc = false;
      this.state = S.Str;
    } else if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x74 || c === 0x66 || c === 0x6e) {
      this.emit(c);
      this.state = S.Prim;
    } else this.state = S.Broken;
  }

  /** The current value ended; go to the parent's after-value state. */
  private endValue(): void {
    if (this.skipAt !== -1 && this.stack.length === this.skipAt) this.skipAt = -1;
    const top = this.stack[this.stack.length - 1];
    if (!top) this.state = S.Value;
    else this.state = top.kind === 'obj' ? S.ObjAfter : S.ArrAfter;
  }

  private step(c: number): void {
    switch (this.state) {
      case S.Value:
        if (isWs(c)) return this.emit(c);
        return this.startValue(c);
      case S.ArrFirst:
        if (isWs(c)) return this.emit(c);
        if (c === 0x5d) return this.close(c);
        this.elemOf(this.stack[this.stack.length - 1]!);
        return this.startValue(c);
      case S.ArrAfter:
        if (isWs(c)) return this.emit(c);
        if (c === 0x2c) {
          this.emit(c);
          this.elemOf(this.stack[this.stack.length - 1]!);
          this.state = S.Value;
          return;
        }
        if (c === 0x5d) return this.close(c);
        this.state = S.Broken;
        return;
      case S.ObjKeyOrEnd:
        if (isWs(c)) return this.emit(c);
        if (c === 0x7d) return this.close(c);
        if (c === 0x22) {
          this.key = [c];
          this.keyEsc = false;
          this.state = S.Key;
          return;
        }
        this.state = S.Broken;
        return;
      case S.Key:
        if (this.key.length > MAX_KEY) {
          this.state = S.Broken;
          return;
        }
        this.key.push(c);
        if (this.keyEsc) this.keyEsc = false;
        else if (c === 0x5c) this.keyEsc = true;
        else if (c === 0x22) {
          const raw = this.key;
          let name: string;
          let simple = true;
          for (let i = 1; i < raw.length - 1; i++) if (raw[i]! >= 0x80 || raw[i] === 0x5c || raw[i]! < 0x20) simple = false;
          if (simple) name = String.fromCharCode(...raw.slice(1, -1));
          else
            try {
              name = JSON.parse(Buffer.from(raw).toString('utf8')) as string;
            } catch {
              this.state = S.Broken;
              return;
            }
          this.pendingKey = { name, raw };
          this.state = S.Colon;
        }
        return;
      case S.Colon: {
        if (isWs(c)) return;
        if (c !== 0x3a) {
          this.state = S.Broken;
          return;
        }
        const frame = this.stack[this.stack.length - 1]!;
        const pk = this.pendingKey!;
        this.pendingKey = undefined;
        this.valueParent = frame.path;
        this.valueKey = pk.name;
        if (this.skipAt === -1 && this.blocked(frame.path, pk.name)) {
          this.skipAt = this.stack.length; // skip until the value at this depth ends
        } else {
          if (frame.emitted > 0) this.emit(0x2c);
          this.emitBytes(pk.raw);
          this.emit(0x3a);
          if (this.skipAt === -1) frame.emitted++;
        }
        this.state = S.Value;
        return;
      }
      case S.ObjAfter:
        if (isWs(c)) return this.emit(c);
        if (c === 0x2c) {
          this.state = S.ObjKeyOrEnd; // the filter writes its own commas
          return;
        }
        if (c === 0x7d) return this.close(c);
        this.state = S.Broken;
        return;
      case S.Str:
        this.emit(c);
        if (this.strEsc) this.strEsc = false;
        else if (c === 0x5c) this.strEsc = true;
        else if (c === 0x22) this.endValue();
        return;
      case S.Prim:
        if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c === 0x2e || c === 0x2b || c === 0x2d || c === 0x45) return this.emit(c);
        this.endValue();
        return this.step(c);
      case S.Broken:
        return;
    }
  }

  private close(c: number): void {
    this.emit(c);
    this.stack.pop();
    this.endValue();
  }

  push(chunk: Buffer): Buffer {
    this.ensure(chunk.length);
    let i = 0;
    while (i < chunk.length) {
      if (this.state === S.Str && !this.strEsc) {
        // fast path: copy (or skip) string content up to the next quote or backslash
        let j = i;
        while (j < chunk.length && chunk[j] !== 0x22 && chunk[j] !== 0x5c) j++;
        if (j > i) {
          if (this.skipAt === -1) {
            chunk.copy(this.obuf, this.olen, i, j);
            this.olen += j - i;
          }
          i = j;
          continue;
        }
      }
      this.step(chunk[i]!);
      if (this.state === S.Broken) break;
      i++;
    }
    return this.take();
  }

  /** End of input: a primitive at top level ends here. */
  end(): Buffer {
    if (this.state === S.Prim) this.endValue();
    return this.take();
  }
}

/** Server-sent events: each `data: {...}` line filtered as its own JSON document. */
export class SseFieldFilter {
  private line: 'start' | 'data' | 'raw' = 'start';
  private head: number[] = [];
  private json: JsonFieldFilter | undefined;
  private out: number[] = [];

  constructor(private readonly patterns: FieldPath[]) {}

  private flushJson(): void {
    if (this.json) for (const c of this.json.end()) this.out.push(c);
    this.json = undefined;
  }

  private step(c: number): void {
    if (c === 0x0a || c === 0x0d) {
      if (this.line === 'start') for (const h of this.head) this.out.push(h);
      this.flushJson();
      this.head = [];
      this.line = 'start';
      this.out.push(c);
      return;
    }
    if (this.line === 'raw') {
      this.out.push(c);
      return;
    }
    if (this.line === 'data') {
      if (!this.json) {
        if (c === 0x20 && this.head.length === 5) {
          // the optional space after 'data:'
          this.out.push(c);
          this.head.push(c);
          return;
        }
        if (c !== 0x7b) {
          this.line = 'raw';
          this.out.push(c);
          return;
        }
        this.json = new JsonFieldFilter(this.patterns);
      }
      for (const o of this.json.push(Buffer.of(c))) this.out.push(o);
      return;
    }
    // line start: is it 'data:'?
    this.head.push(c);
    const prefix = 'data:';
    const n = this.head.length;
    if (n <= 5 && this.head[n - 1] === prefix.charCodeAt(n - 1)) {
      if (n === 5) {
        for (const h of this.head) this.out.push(h);
        this.line = 'data';
      }
      return;
    }
    for (const h of this.head) this.out.push(h);
    this.head = [];
    this.line = 'raw';
  }

  push(chunk: Buffer): Buffer {
    for (let i = 0; i < chunk.length; i++) this.step(chunk[i]!);
    const b = Buffer.from(this.out);
    this.out = [];
    return b;
  }

  end(): Buffer {
    if (this.line === 'start') for (const h of this.head) this.out.push(h);
    this.flushJson();
    const b = Buffer.from(this.out);
    this.out = [];
    return b;
  }
}

/** The filter for a response of `contentType`, or undefined when the blocklist does not apply. */
export function responseFilter(contentType: string, patterns: FieldPath[]): JsonFieldFilter | SseFieldFilter | undefined {
  if (patterns.length === 0) return undefined;
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  if (ct === 'text/event-stream') return new SseFieldFilter(patterns);
  if (ct === 'application/json' || ct.endsWith('+json') || ct === 'application/x-ndjson' || ct === 'application/jsonl') return new JsonFieldFilter(patterns);
  return undefined;
}
