/**
 * dotenv-syntax parser (SPEC §5: `--env-file`, `secrets import`). Follows the `dotenv` package's
 * documented rules, with a few deliberate differences where dotenv silently guesses:
 *
 *   - Lines: `KEY=VALUE`, optional `export ` prefix, whitespace around `=` ignored, blank lines
 *     and full-line `#` comments skipped. LF, CRLF and lone CR line endings; a leading BOM is
 *     ignored. Keys: `[A-Za-z_][A-Za-z0-9_.-]*`.
 *   - Unquoted values are trimmed; `#` starts an inline comment only when preceded by whitespace
 *     (`COLOR=#fff` is literally `#fff`; dotenv would read an empty string). `A=` is ''.
 *   - Single-, double- and backtick-quoted values keep their content verbatim and may span lines.
 *     A quote preceded by a backslash does not close the value (the backslash is kept, as in
 *     dotenv). Only in double quotes are `\n` and `\r` expanded to LF and CR. After the closing
 *     quote only whitespace and an optional `# comment` may follow.
 *   - Nothing is ever executed or expanded: `$(cmd)`, `${VAR}` and `$VAR` are literal text.
 *   - A later duplicate key overrides an earlier one (as in dotenv); the result has one entry per
 *     key, in order of first appearance, with the last value and that value's line.
 *   - Anything else (no `=`, bad key, unterminated quote, text after a closing quote, NUL) is an
 *     error instead of being skipped: AivaultError('dotenv_syntax', '<file>:<line>: <problem>').
 *     Messages name the line and, when known, the key; never the value.
 */
import { AivaultError } from '../errors/aivault-error.js';

export interface DotenvEntry {
  key: string;
  value: string;
  /** 1-based line where the entry starts. */
  line: number;
}

const ASSIGN = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=/;
const AFTER_QUOTE = /^\s*(?:#.*)?$/;
const QUOTE_KIND: Record<string, string> = { "'": 'single', '"': 'double', '`': 'backtick' };

export function parseDotenv(text: string, file?: string): DotenvEntry[] {
  const where = file ?? '.env';
  const fail = (line: number, problem: string): never => {
    throw new AivaultError('dotenv_syntax', `${where}:${line}: ${problem}`, file === undefined ? undefined : { file });
  };

  const src = (text.startsWith('\uFEFF') ? text.slice(1) : text).replace(/\r\n?/g, '\n');
  const out = new Map<string, DotenvEntry>();
  let pos = 0;
  let line = 1;

  while (pos < src.length) {
    const nl = src.indexOf('\n', pos);
    const eol = nl < 0 ? src.length : nl;
    const lineText = src.slice(pos, eol);
    const startLine = line;
    let next = eol + 1; // where the following line starts
    let consumedNewlines = 1;

    const trimmed = lineText.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      pos = next;
      line += 1;
      continue;
    }
    if (lineText.includes('\0')) fail(startLine, 'NUL byte in line');

    const m = ASSIGN.exec(lineText);
    if (!m) {
      const name = /^\s*(?:export\s+)?([^\s=]*)/.exec(lineText)?.[1] ?? '';
      if (!lineText.includes('=')) fail(startLine, /^\s*export\s+[A-Za-z_][A-Za-z0-9_.-]*\s*$/.test(lineText) ? "'export NAME' without a value" : 'expected KEY=VALUE');
      fail(startLine, name === '' ? 'missing variable name before =' : 'invalid variable name (use letters, digits, _ . -)');
    }
    const key = m![1]!;
    const afterEq = lineText.slice(m![0].length); // value text including leading whitespace
    const lead = afterEq.length - afterEq.trimStart().length;
    const first = afterEq[lead];

    let value: string;
    if (first === '"' || first === "'" || first === '`') {
      const q = first;
      const open = pos + m![0].length + lead; // absolute index of the opening quote
      const close = findClosingQuote(src, open, q);
      if (close === undefined) {
        fail(startLine, src.indexOf(q, open + 1) < 0 || !hasUnescaped(src, open, q)
          ? `unterminated ${QUOTE_KIND[q]}-quoted value for ${key}`
          : `unexpected text after the closing quote of ${key}`);
      }
      value = src.slice(open + 1, close);
      if (value.includes('\0')) fail(startLine, `NUL byte in value of ${key}`);
      if (q === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
      const closeEol = src.indexOf('\n', close!);
      next = closeEol < 0 ? src.length : closeEol + 1;
      consumedNewlines = countNewlines(src, pos, next);
    } else {
      let v = afterEq;
      for (let i = 1; i < v.length; i++) {
        if (v[i] === '#' && /\s/.test(v[i - 1]!)) {
          v = v.slice(0, i);
          break;
        }
      }
      value = v.trim();
    }

    // Map.set on an existing key keeps its first position and takes the later value.
    out.set(key, { key, value, line: startLine });
    pos = next;
    line += consumedNewlines;
  }

  return [...out.values()];
}

/**
 * dotenv's rule (its LINE regex): inside the quotes a quote char may appear only when preceded by
 * a backslash. The closing quote is the first unescaped one; if what follows it on its line is
 * not whitespace/comment, the regex backtracks to earlier escaped quotes, latest first.
 */
function findClosingQuote(src: string, open: number, q: string): number | undefined {
  const candidates: number[] = [];
  let firstUnescaped: number | undefined;
  for (let j = open + 1; j < src.length; j++) {
    if (src[j] !== q) continue;
    if (j - 1 > open && src[j - 1] === '\\') {
      candidates.push(j);
    } else {
      firstUnescaped = j;
      break;
    }
  }
  const order = firstUnescaped === undefined ? candidates.reverse() : [firstUnescaped, ...candidates.reverse()];
  for (const c of order) {
    const eol = src.indexOf('\n', c + 1);
    if (AFTER_QUOTE.test(src.slice(c + 1, eol < 0 ? src.length : eol))) return c;
  }
  return undefined;
}

function hasUnescaped(src: string, open: number, q: string): boolean {
  for (let j = open + 1; j < src.length; j++) {
    if (src[j] === q && !(j - 1 > open && src[j - 1] === '\\')) return true;
  }
  return false;
}

function countNewlines(src: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (src.charCodeAt(i) === 10) n++;
  // A value ending at EOF without a newline still advances past its last line.
  return to >= src.length && src.charCodeAt(src.length - 1) !== 10 ? n + 1 : n;
}
