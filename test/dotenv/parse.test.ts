import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { parseDotenv } from '../../src/dotenv/parse.js';
import { AivaultError } from '../../src/errors/aivault-error.js';
import { ROOT } from '../helpers/cli.js';

type Expect = Record<string, string> | { error: RegExp };
/** [name, input, expected, same as the `dotenv` package?] */
const CASES: Array<[string, string, Expect, boolean?]> = [
  // basics
  ['simple', 'A=1', { A: '1' }, true],
  ['several lines', 'A=1\nB=2\nC=3', { A: '1', B: '2', C: '3' }, true],
  ['trailing newline', 'A=1\n', { A: '1' }, true],
  ['empty file', '', {}, true],
  ['only newlines', '\n\n\n', {}, true],
  ['only comments', '# a\n  # b\n', {}, true],
  ['empty value', 'A=', { A: '' }, true],
  ['empty value then more', 'A=\nB=x', { A: '', B: 'x' }, true],
  ['spaces around =', 'A = 1', { A: '1' }, true],
  ['tab around =', 'A\t=\t1', { A: '1' }, true],
  ['leading whitespace before key', '   A=1', { A: '1' }, true],
  ['unquoted value trimmed', 'A=   hello world   ', { A: 'hello world' }, true],
  ['inner spaces kept', 'A=a  b   c', { A: 'a  b   c' }, true],
  ['equals sign in value', 'A=b=c=d', { A: 'b=c=d' }, true],
  ['url value', 'A=https://x.example.com/p?q=1&r=2', { A: 'https://x.example.com/p?q=1&r=2' }, true],
  ['lowercase key', 'a_b=1', { a_b: '1' }, true],
  ['key with dot and dash', 'a.b-c=1', { 'a.b-c': '1' }, true],
  ['underscore key', '_A=1', { _A: '1' }, true],
  ['unicode value', 'A=héllo ✓', { A: 'héllo ✓' }, true],
  ['value with quotes inside', 'A=it\'s "fine"', { A: 'it\'s "fine"' }, true],
  ['value ending in a quote', 'A=abc"', { A: 'abc"' }, true],
  ['backslash n literal unquoted', 'A=a\\nb', { A: 'a\\nb' }, true],
  // export
  ['export prefix', 'export A=1', { A: '1' }, true],
  ['export with extra spaces', 'export    A=1', { A: '1' }, true],
  ['export and quotes', 'export A="x y"', { A: 'x y' }, true],
  ['key named export', 'export=1', { export: '1' }, true],
  ['key starting with export', 'exportA=1', { exportA: '1' }, true],
  // comments
  ['full-line comment', '# A=1\nB=2', { B: '2' }, true],
  ['indented comment', '   # hi\nB=2', { B: '2' }, true],
  ['inline comment after space', 'A=1 # comment', { A: '1' }, true],
  ['inline comment after tab', 'A=1\t# comment', { A: '1' }, true],
  ['hash without space is literal', 'A=abc#def', { A: 'abc#def' }],
  ['value starting with hash', 'COLOR=#fff', { COLOR: '#fff' }],
  ['space then hash: empty value', 'A= # only comment', { A: '' }, true],
  ['quoted hash kept', 'A="a # b"', { A: 'a # b' }, true],
  ['single-quoted hash kept', "A='a # b'", { A: 'a # b' }, true],
  ['comment after double quotes', 'A="x" # c', { A: 'x' }, true],
  ['comment right after closing quote', 'A="x"# c', { A: 'x' }, true],
  ['comment after single quotes', "A='x' # c", { A: 'x' }, true],
  // quotes
  ['double quotes', 'A="hello world"', { A: 'hello world' }, true],
  ['single quotes', "A='hello world'", { A: 'hello world' }, true],
  ['backticks', 'A=`hello world`', { A: 'hello world' }, true],
  ['quoted keeps inner whitespace', 'A="  x  "', { A: '  x  ' }, true],
  ['space before opening quote', 'A=  "x"', { A: 'x' }, true],
  ['space after closing quote', 'A="x"   ', { A: 'x' }, true],
  ['empty double quotes', 'A=""', { A: '' }, true],
  ['empty single quotes', "A=''", { A: '' }, true],
  ['single inside double', 'A="it\'s"', { A: "it's" }, true],
  ['double inside single', 'A=\'say "hi"\'', { A: 'say "hi"' }, true],
  ['double inside backticks', 'A=`say "hi" it\'s`', { A: 'say "hi" it\'s' }, true],
  ['escaped double quote keeps backslash', 'A="a\\"b"', { A: 'a\\"b' }, true],
  ['escaped single quote keeps backslash', "A='it\\'s'", { A: "it\\'s" }, true],
  ['trailing backslash before quote', 'A="a\\\\"', { A: 'a\\\\' }, true],
  ['\\n expands in double quotes', 'A="a\\nb"', { A: 'a\nb' }, true],
  ['\\r expands in double quotes', 'A="a\\rb"', { A: 'a\rb' }, true],
  ['\\n literal in single quotes', "A='a\\nb'", { A: 'a\\nb' }, true],
  ['\\n literal in backticks', 'A=`a\\nb`', { A: 'a\\nb' }, true],
  ['\\t not expanded', 'A="a\\tb"', { A: 'a\\tb' }, true],
  // multiline
  ['multiline double', 'A="line1\nline2"\nB=2', { A: 'line1\nline2', B: '2' }, true],
  ['multiline single', "A='line1\nline2'", { A: 'line1\nline2' }, true],
  ['multiline backtick', 'A=`l1\nl2\nl3`', { A: 'l1\nl2\nl3' }, true],
  ['multiline PEM', 'KEY="-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----"\nN=1', { KEY: '-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----', N: '1' }, true],
  ['multiline with # inside', 'A="x\n# not a comment\ny"', { A: 'x\n# not a comment\ny' }, true],
  ['multiline with KEY= inside', 'A="x\nB=2\n"', { A: 'x\nB=2\n' }, true],
  ['multiline CRLF normalised', 'A="l1\r\nl2"\r\nB=2', { A: 'l1\nl2', B: '2' }, true],
  // line endings
  ['CRLF', 'A=1\r\nB=2\r\n', { A: '1', B: '2' }, true],
  ['CRLF empty value', 'A=\r\nB=2', { A: '', B: '2' }, true],
  ['CRLF quoted', 'A="x"\r\nB=\'y\'\r\n', { A: 'x', B: 'y' }, true],
  ['lone CR', 'A=1\rB=2', { A: '1', B: '2' }, true],
  ['BOM ignored', '\uFEFFA=1', { A: '1' }, true],
  // no expansion / execution
  ['$(cmd) literal', 'A=$(whoami)', { A: '$(whoami)' }, true],
  ['backtick cmd is just a quoted string', 'A=`whoami`', { A: 'whoami' }, true],
  ['${VAR} literal', 'A=${HOME}/x', { A: '${HOME}/x' }, true],
  ['$VAR literal', 'A=$HOME', { A: '$HOME' }, true],
  ['$(cmd) literal in double quotes', 'A="$(rm -rf /)"', { A: '$(rm -rf /)' }, true],
  ['${VAR} literal in double quotes', 'A="${PATH}"', { A: '${PATH}' }, true],
  // duplicates
  ['later duplicate wins', 'A=1\nA=2', { A: '2' }, true],
  ['duplicate keeps first position', 'A=1\nB=2\nA=3', { A: '3', B: '2' }, true],
  // errors
  ['no equals sign', 'JUSTAKEY', { error: /\.env:1: expected KEY=VALUE/ }],
  ['bare value line', 'A=1\nsk-SENTINEL-bare', { error: /\.env:2: expected KEY=VALUE/ }],
  ['export without value', 'export A', { error: /\.env:1: 'export NAME' without a value/ }],
  ['missing name', '=value', { error: /\.env:1: missing variable name/ }],
  ['key with space', 'MY KEY=1', { error: /\.env:1: invalid variable name/ }],
  ['key starting with digit', '1A=1', { error: /\.env:1: invalid variable name/ }],
  ['yaml style colon', 'A: 1', { error: /\.env:1: expected KEY=VALUE/ }],
  ['unterminated double quote', 'A="abc', { error: /\.env:1: unterminated double-quoted value for A/ }],
  ['unterminated single quote', "A='abc\nB=2", { error: /\.env:1: unterminated single-quoted value for A/ }],
  ['unterminated backtick', 'X=1\nA=`abc', { error: /\.env:2: unterminated backtick-quoted value for A/ }],
  ['text after closing quote', 'A="abc"def', { error: /\.env:1: unexpected text after the closing quote of A/ }],
  ['two quoted strings', 'A="a" "b"', { error: /\.env:1: unexpected text after the closing quote of A/ }],
  ['NUL byte', 'A=a\0b', { error: /\.env:1: NUL byte/ }],
  ['error line after multiline value', 'A="x\ny\nz"\nB=1\n\nbroken', { error: /\.env:6: expected KEY=VALUE/ }],
  ['semicolon comment is not a comment', '; note', { error: /\.env:1: expected KEY=VALUE/ }],
];

const toObject = (text: string) => Object.fromEntries(parseDotenv(text).map((e) => [e.key, e.value]));

test(`table has >= 60 cases (${CASES.length})`, () => {
  assert.ok(CASES.length >= 60);
});

for (const [name, input, expected] of CASES) {
  test(`dotenv: ${name}`, () => {
    if ('error' in expected && expected.error instanceof RegExp) {
      assert.throws(
        () => parseDotenv(input),
        (e: unknown) => {
          assert.ok(e instanceof AivaultError);
          assert.equal(e.code, 'dotenv_syntax');
          assert.match(e.message, expected.error as RegExp);
          assert.equal(e.message.includes('\n'), false, 'one line');
          assert.equal(/SENTINEL|abc|def/.test(e.message), false, 'never includes the value');
          return true;
        },
      );
    } else {
      const got = toObject(input);
      assert.deepEqual(got, expected);
      assert.deepEqual(Object.keys(got), Object.keys(expected), 'key order');
    }
  });
}

// Differential check against the real `dotenv` package (dev dependency of dotenv-cli) for every
// case we claim to share with it.
let dotenvParse: ((s: string) => Record<string, string>) | undefined;
try {
  dotenvParse = (createRequire(ROOT + '/package.json')('dotenv') as { parse: (s: string) => Record<string, string> }).parse;
} catch {
  dotenvParse = undefined;
}

test('same result as the dotenv package on shared cases', { skip: dotenvParse ? false : 'dotenv package not installed' }, () => {
  let n = 0;
  for (const [name, input, expected, same] of CASES) {
    if (!same) continue;
    assert.deepEqual(toObject(input), { ...dotenvParse!(input) }, name);
    assert.ok(!('error' in expected));
    n++;
  }
  assert.ok(n >= 50, `${n} shared cases`);
});

test('property: agrees with dotenv on generated files of ordinary lines', { skip: dotenvParse ? false : 'dotenv package not installed' }, () => {
  const key = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/);
  const plain = fc.stringMatching(/^[A-Za-z0-9_.,:\/+=@%-]{0,12}$/);
  const inner = fc.stringMatching(/^[A-Za-z0-9 _.,:\/+=@%#$(){}-]{0,12}$/);
  const line = fc.oneof(
    fc.tuple(key, plain).map(([k, v]) => `${k}=${v}`),
    fc.tuple(key, inner).map(([k, v]) => `${k}="${v}"`),
    fc.tuple(key, inner).map(([k, v]) => `${k}='${v}'`),
    fc.tuple(key, inner).map(([k, v]) => `export ${k}=\`${v}\``),
    fc.tuple(key, plain).map(([k, v]) => `${k} = ${v} # note`),
    fc.constant('# comment'),
    fc.constant(''),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 8 }), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
      const text = lines.join(eol);
      assert.deepEqual(toObject(text), { ...dotenvParse!(text) });
    }),
    { numRuns: 300 },
  );
});

test('property: single-quoted values round-trip byte-exact (no expansion)', () => {
  const value = fc.string({ maxLength: 40 }).filter((s) => !s.includes("'") && !s.includes('\0') && !s.includes('\r'));
  fc.assert(
    fc.property(value, (v) => {
      assert.deepEqual(parseDotenv(`K='${v}'`), [{ key: 'K', value: v, line: 1 }]);
    }),
    { numRuns: 300 },
  );
});

test('line numbers: start line of each entry, counting multiline values and CRLF', () => {
  const text = 'A=1\r\n\r\n# c\r\nB="x\r\ny"\r\nC=3\nA=4';
  assert.deepEqual(parseDotenv(text), [
    { key: 'A', value: '4', line: 7 },
    { key: 'B', value: 'x\ny', line: 4 },
    { key: 'C', value: '3', line: 6 },
  ]);
});

test('errors name the given file and line, never the value', () => {
  assert.throws(
    () => parseDotenv('OK=1\nTOKEN="sk-SENTINEL-xyz', '/tmp/my.env'),
    (e: unknown) =>
      e instanceof AivaultError &&
      e.message === '/tmp/my.env:2: unterminated double-quoted value for TOKEN' &&
      e.file === '/tmp/my.env',
  );
  assert.throws(
    () => parseDotenv('sk-SENTINEL-bare-key-line', 'x.env'),
    (e: unknown) => e instanceof AivaultError && e.message === 'x.env:1: expected KEY=VALUE',
  );
});
