/** Human messages go to stderr; data a command exists to print goes to stdout (SPEC §4). */
export function info(line: string): void {
  process.stderr.write(line + '\n');
}

export function data(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

export function json(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
