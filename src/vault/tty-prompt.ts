import { AivaultError } from '../errors/aivault-error.js';

/**
 * Reads one line from the terminal without echo (for passphrases and secret values).
 * Returns undefined when stdin is not a TTY. Ctrl-C / Ctrl-D abort with a one-line error.
 */
export function promptHidden(prompt: string): Promise<string | undefined> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    let buf = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(buf);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new AivaultError('usage', 'cancelled'));
        if (ch === '\u0004') {
          if (buf.length === 0) return done(new AivaultError('usage', 'cancelled'));
          return done();
        }
        if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
        else if (ch >= ' ') buf += ch;
      }
    };
    stdin.on('data', onData);
  });
}
