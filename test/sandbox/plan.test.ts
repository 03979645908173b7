/** src/sandbox pure parts, by tables: hidden paths, mount plan, bwrap argv, probe decisions, options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hiddenEntries, showRefused, HOME_STORES, type HiddenInput } from '../../src/sandbox/hidden.js';
import { planMounts, type HostState, type MountOp } from '../../src/sandbox/plan.js';
import { bwrapArgs, commandInner, outerCommand, SANDBOX_SIGNALS } from '../../src/sandbox/bwrap-args.js';
import { decide, setupFailureHint, type SandboxFacts } from '../../src/sandbox/probe.js';
import { tiocstiFilter, TIOCSTI } from '../../src/sandbox/seccomp.js';
import { relayInner } from '../../src/sandbox/relay.js';
import { resolveSandbox } from '../../src/exec/sandbox-options.js';
import { SANDBOX_HIDDEN_MARKER } from '../../src/vault/paths.js';

const base: HiddenInput = {
  home: '/home/u',
  uid: 1000,
  vaultRoot: '/home/u/.aivault/vault',
  keyFile: '/home/u/.aivault/keys/kek.key',
  hide: [],
  show: [],
};
const paths = (i: Partial<HiddenInput>) => hiddenEntries({ ...base, ...i }).map((e) => e.path);

test('hidden: the default list covers the vault, ~/.aivault, every SPEC §9 store and the session sockets', () => {
  const p = paths({ runtimeDir: '/run/user/1000', sshAuthSock: '/tmp/ssh-x/agent.1' });
  // the vault root and key file are inside ~/.aivault: one mount covers them
  assert.ok(p.includes('/home/u/.aivault'));
  assert.ok(!p.includes('/home/u/.aivault/vault') && !p.includes('/home/u/.aivault/keys/kek.key'));
  for (const [rel] of HOME_STORES) assert.ok(p.includes(`/home/u/${rel}`), rel);
  for (const s of ['.ssh', '.aws', '.azure', '.config/gcloud', '.config/gh', '.kube', '.docker/config.json', '.npmrc', '.pypirc', '.netrc', '.git-credentials', '.gnupg']) assert.ok(p.includes(`/home/u/${s}`), s);
  for (const s of ['bus', 'keyring', 'gnupg', 'systemd']) assert.ok(p.includes(`/run/user/1000/${s}`), s);
  assert.ok(p.includes('/tmp/ssh-x/agent.1'));
  assert.ok(p.includes('/tmp/tmux-1000'));
});

test('hidden: a custom AIVAULT_DIR outside $HOME is hidden with its key file; XDG_RUNTIME_DIR defaults to /run/user/<uid>', () => {
  const p = paths({ vaultRoot: '/srv/v', keyFile: '/srv/v/kek.key' });
  assert.ok(p.includes('/srv/v'));
  assert.ok(!p.includes('/srv/v/kek.key'), 'covered by the root');
  assert.ok(p.includes('/home/u/.aivault'));
  assert.ok(p.includes('/run/user/1000/bus'));
});

test('hidden: --sandbox-hide adds, --sandbox-show removes stores but never the vault', () => {
  const cases: Array<[Partial<HiddenInput>, string[], string[]]> = [
    [{ hide: ['/data/secret'] }, ['/data/secret'], []],
    [{ show: ['/home/u/.ssh'] }, [], ['/home/u/.ssh']],
    [{ show: ['/home/u'] }, ['/home/u/.aivault'], ['/home/u/.ssh', '/home/u/.npmrc']],
    [{ show: ['/home/u/.config'] }, ['/home/u/.ssh'], ['/home/u/.config/gh', '/home/u/.config/gcloud']],
    [{ show: ['/home/u/.aivault'] }, ['/home/u/.aivault'], []],
    [{ hide: ['/home/u/.ssh/extra'] }, ['/home/u/.ssh'], ['/home/u/.ssh/extra']],
  ];
  for (const [input, present, absent] of cases) {
    const p = paths(input);
    for (const x of present) assert.ok(p.includes(x), `${JSON.stringify(input)}: ${x} hidden`);
    for (const x of absent) assert.ok(!p.includes(x), `${JSON.stringify(input)}: ${x} not listed`);
  }
  const refused: Array<[string, boolean]> = [
    ['/home/u/.aivault', true],
    ['/home/u/.aivault/vault', true],
    ['/home/u/.aivault/keys/kek.key', true],
    ['/home/u', false],
    ['/home/u/.ssh', false],
  ];
  for (const [s, want] of refused) assert.equal(showRefused(base, s), want, s);
});

function plan(over: { readonly?: boolean; cwd?: string; write?: string[]; runPaths?: string[]; exist?: Record<string, HostState> } = {}) {
  const exist = over.exist ?? {};
  return planMounts({
    readonly: over.readonly ?? false,
    cwd: over.cwd ?? '/work',
    write: over.write ?? [],
    hidden: hiddenEntries({ ...base, runtimeDir: '/run/user/1000' }),
    runPaths: over.runPaths ?? [],
    emptyFile: '/tmp/run/empty',
    stat: (p) => exist[p] ?? (p === '/work' || p === '/w' ? 'dir' : 'missing'),
  });
}
const has = (ops: MountOp[], m: MountOp) => ops.some((o) => JSON.stringify(o) === JSON.stringify(m));
const indexOf = (ops: MountOp[], m: MountOp) => ops.findIndex((o) => JSON.stringify(o) === JSON.stringify(m));

test('plan: host root writable, fresh /dev and /proc, hidden dirs as read-only tmpfs, files as an empty file', () => {
  const p = plan({ exist: { '/home/u/.aivault': 'dir', '/home/u/.npmrc': 'other', '/run/user/1000/bus': 'other' } });
  assert.deepEqual(p.ops.slice(0, 3), [{ op: 'bind', src: '/', dest: '/' }, { op: 'dev', dest: '/dev' }, { op: 'proc', dest: '/proc' }]);
  const t = indexOf(p.ops, { op: 'tmpfs', dest: '/home/u/.aivault' });
  assert.ok(t > 2);
  assert.deepEqual(p.ops[t + 1], { op: 'ro-bind', src: '/tmp/run/empty', dest: `/home/u/.aivault/${SANDBOX_HIDDEN_MARKER}` });
  assert.deepEqual(p.ops[t + 2], { op: 'remount-ro', dest: '/home/u/.aivault' });
  assert.ok(has(p.ops, { op: 'ro-bind', src: '/tmp/run/empty', dest: '/home/u/.npmrc' }));
  assert.ok(has(p.ops, { op: 'ro-bind', src: '/tmp/run/empty', dest: '/run/user/1000/bus' }));
  assert.deepEqual(p.errors, []);
});

test('plan: missing stores get placeholders (created by the launcher), missing sockets do not', () => {
  const p = plan({ exist: {} });
  const ph = new Map(p.placeholders.map((x) => [x.path, x.shape]));
  assert.equal(ph.get('/home/u/.aivault'), 'dir');
  assert.equal(ph.get('/home/u/.ssh'), 'dir');
  assert.equal(ph.get('/home/u/.npmrc'), 'file');
  assert.equal(ph.get('/home/u/.docker/config.json'), 'file');
  assert.ok(!ph.has('/run/user/1000/bus'));
  assert.ok(has(p.ops, { op: 'tmpfs', dest: '/home/u/.ssh' }));
  assert.ok(!p.ops.some((o) => o.dest === '/run/user/1000/bus'));
});

test('plan: a dangling symlink is left alone; a hidden working directory is refused', () => {
  assert.ok(!plan({ exist: { '/home/u/.ssh': 'dangling' } }).ops.some((o) => o.dest === '/home/u/.ssh'));
  const p = plan({ cwd: '/home/u/.ssh/keys', exist: { '/home/u/.ssh': 'dir', '/home/u/.ssh/keys': 'dir' } });
  assert.match(p.errors[0] ?? '', /working directory .* is a hidden path/);
});

test('plan: --sandbox-readonly binds root read-only, a private /tmp, then cwd, --sandbox-write and run paths writable; hidden last', () => {
  const p = plan({ readonly: true, write: ['/w'], runPaths: ['/tmp/aivault-run-x'], exist: { '/tmp/aivault-run-x': 'dir', '/home/u/.aivault': 'dir' } });
  assert.deepEqual(p.ops[0], { op: 'ro-bind', src: '/', dest: '/' });
  const tmp = indexOf(p.ops, { op: 'tmpfs', dest: '/tmp' });
  const cwd = indexOf(p.ops, { op: 'bind', src: '/work', dest: '/work' });
  const w = indexOf(p.ops, { op: 'bind', src: '/w', dest: '/w' });
  const run = indexOf(p.ops, { op: 'bind', src: '/tmp/aivault-run-x', dest: '/tmp/aivault-run-x' });
  const hid = indexOf(p.ops, { op: 'tmpfs', dest: '/home/u/.aivault' });
  assert.ok(tmp > 0 && tmp < cwd && cwd < w && w < run && run < hid, JSON.stringify(p.ops));
  // read-only: the child cannot create missing stores, so no placeholders are needed
  assert.ok(!p.placeholders.some((x) => x.path === '/home/u/.ssh'));
  assert.match(plan({ readonly: true, write: ['/nope'] }).errors[0] ?? '', /--sandbox-write \/nope: no such file/);
});

test('bwrap argv: namespaces, no capabilities, die with parent, status fd, then the command', () => {
  const spec = { net: 'host' as const, ops: [{ op: 'bind' as const, src: '/', dest: '/' }], cwd: '/work', disableUserns: true, seccomp: true, inner: ['/usr/bin/env', 'x'] };
  const a = bwrapArgs(spec);
  for (const f of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--disable-userns']) assert.ok(a.includes(f), f);
  assert.ok(!a.includes('--unshare-net'));
  assert.ok(!a.includes('--new-session'), 'terminal mode keeps the TTY; TIOCSTI is refused by seccomp instead');
  assert.deepEqual(a.slice(a.indexOf('--cap-drop'), a.indexOf('--cap-drop') + 2), ['--cap-drop', 'ALL']);
  assert.deepEqual(a.slice(a.indexOf('--json-status-fd'), a.indexOf('--json-status-fd') + 2), ['--json-status-fd', '3']);
  assert.deepEqual(a.slice(a.indexOf('--seccomp'), a.indexOf('--seccomp') + 2), ['--seccomp', '4']);
  assert.deepEqual(a.slice(a.indexOf('--')), ['--', '/usr/bin/env', 'x']);
  const b = bwrapArgs({ ...spec, net: 'broker', disableUserns: false, seccomp: false });
  assert.ok(b.includes('--unshare-net') && !b.includes('--disable-userns') && !b.includes('--seccomp'));
  const o = outerCommand('/usr/bin/env', '/usr/bin/bwrap', spec);
  assert.equal(o.file, '/usr/bin/env');
  assert.deepEqual(o.args.slice(0, 2), [`--ignore-signal=${SANDBOX_SIGNALS}`, '/usr/bin/bwrap']);
});

test('inner command: default signals back, argv byte-exact, a first word with "=" goes through sh', () => {
  assert.deepEqual(commandInner('/usr/bin/env', '/bin/sh', ['node', 'a b', '']), ['/usr/bin/env', '-u', 'PWD', `--default-signal=${SANDBOX_SIGNALS}`, '--', 'node', 'a b', '']);
  assert.deepEqual(commandInner('/usr/bin/env', '/bin/sh', ['./x=y', '1']), ['/usr/bin/env', '-u', 'PWD', `--default-signal=${SANDBOX_SIGNALS}`, '--', '/bin/sh', '-c', 'exec "$0" "$@"', './x=y', '1']);
  // a PWD that exec's environment holds (--set-env / --pass-env) is restored after bubblewrap's
  assert.deepEqual(commandInner('/usr/bin/env', '/bin/sh', ['node'], '/x'), ['/usr/bin/env', `--default-signal=${SANDBOX_SIGNALS}`, '--', 'PWD=/x', 'node']);
  const r = relayInner('/bin/sh', '/usr/bin/node', 4321, '/tmp/r/broker.sock', ['/usr/bin/env', 'x']);
  assert.equal(r[0], '/bin/sh');
  assert.deepEqual(r.slice(r.indexOf('4321')), ['4321', '/tmp/r/broker.sock', '/usr/bin/node', '/usr/bin/env', 'x']);
});

const facts: SandboxFacts = {
  platform: 'linux',
  uid: 1000,
  bwrap: '/usr/bin/bwrap',
  bwrapHasJsonStatus: true,
  bwrapHasDisableUserns: true,
  env: '/usr/bin/env',
  envHasSignalOptions: true,
  sh: '/bin/sh',
  maxUserNamespaces: '15000\n',
  unprivilegedUsernsClone: undefined,
  apparmorRestrictUserns: undefined,
};

test('probe: each missing piece refuses with one line naming the package or the kernel setting', () => {
  const cases: Array<[Partial<SandboxFacts>, RegExp | 'ok']> = [
    [{}, 'ok'],
    [{ platform: 'darwin' }, /Linux.*darwin/],
    [{ bwrap: undefined }, /bubblewrap.*not found.*install the 'bubblewrap' package/],
    [{ bwrapHasJsonStatus: false }, /bubblewrap 0\.5 or later/],
    [{ envHasSignalOptions: false }, /coreutils env/],
    [{ maxUserNamespaces: '0\n' }, /user\.max_user_namespaces/],
    [{ unprivilegedUsernsClone: '0\n' }, /kernel\.unprivileged_userns_clone/],
    [{ unprivilegedUsernsClone: '0\n', uid: 0 }, 'ok'],
    [{ unprivilegedUsernsClone: '1\n' }, 'ok'],
    [{ apparmorRestrictUserns: '1\n' }, 'ok'],
  ];
  for (const [over, want] of cases) {
    const r = decide({ ...facts, ...over });
    if (want === 'ok') assert.ok(r.ok, JSON.stringify(over));
    else {
      assert.ok(!r.ok, JSON.stringify(over));
      assert.match(r.message, want);
      assert.ok(!r.message.includes('\n'));
    }
  }
  const aa = decide({ ...facts, apparmorRestrictUserns: '1\n' });
  assert.ok(aa.ok && aa.apparmorRestricted, 'settled by a trial run');
  assert.match(setupFailureHint({ uid: 1000, apparmorRestrictUserns: '1' }), /kernel\.apparmor_restrict_unprivileged_userns/);
});

test('seccomp: the TIOCSTI program is well-formed for x64 and arm64, none elsewhere', () => {
  for (const arch of ['x64', 'arm64']) {
    const p = tiocstiFilter(arch)!;
    assert.equal(p.length % 8, 0);
    const n = p.length / 8;
    let sawTiocsti = false;
    for (let i = 0; i < n; i++) {
      const code = p.readUInt16LE(i * 8);
      const jt = p.readUInt8(i * 8 + 2);
      const jf = p.readUInt8(i * 8 + 3);
      if (p.readUInt32LE(i * 8 + 4) === TIOCSTI) sawTiocsti = true;
      if (code !== 0x06) assert.ok(i + 1 + Math.max(jt, jf) < n, `jump in range at ${i}`);
    }
    assert.ok(sawTiocsti);
    assert.equal(p.readUInt16LE((n - 1) * 8), 0x06, 'ends with a return');
  }
  assert.equal(tiocstiFilter('ppc64'), undefined);
});

test('options: --sandbox flags, profile/config "sandbox", --no-sandbox', () => {
  const cwd = '/proj';
  assert.equal(resolveSandbox({}, undefined, cwd), undefined);
  assert.equal(resolveSandbox({}, false, cwd), undefined);
  assert.deepEqual(resolveSandbox({ sandbox: true }, undefined, cwd), { net: 'host', hide: [], show: [], readonly: false, write: [] });
  assert.equal(resolveSandbox({}, 'broker', cwd)?.net, 'broker');
  assert.equal(resolveSandbox({}, true, cwd)?.net, 'host');
  assert.equal(resolveSandbox({ net: 'host' }, 'broker', cwd)?.net, 'host', 'the command line wins');
  assert.equal(resolveSandbox({ net: 'broker' }, undefined, cwd)?.net, 'broker', '--sandbox-net implies --sandbox');
  assert.equal(resolveSandbox({ noSandbox: true }, 'broker', cwd), undefined);
  assert.deepEqual(resolveSandbox({ hide: ['x'], write: ['/abs'], readonly: true }, undefined, cwd), { net: 'host', hide: ['/proj/x'], show: [], readonly: true, write: ['/abs'] });
  assert.throws(() => resolveSandbox({ noSandbox: true, sandbox: true }, undefined, cwd), /--no-sandbox cannot be combined/);
  assert.throws(() => resolveSandbox({ net: 'none' }, undefined, cwd), /--sandbox-net: expected host or broker/);
});
