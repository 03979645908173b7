// Makes dist/bundle/aivault.cjs.cache: V8's code cache for the CLI bundle, taken after a training
// run of `aivault exec --allow openai/chat-completions -- node -e 0` against a throwaway vault, so
// it holds the functions that start-up compiles (bin/aivault.js loads it; README "Start-up").
// The cache's first line names the bundle's content hash: a rebuilt bundle never meets a stale
// cache. V8 itself rejects a cache made by another V8 version or with other flags (the launcher
// then compiles as usual). Best effort: a failure here leaves no cache, and the CLI works without.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const launcher = require('../bin/load-bundle.cjs');

if (process.argv[2] === '--train') {
  // in the training process: run the CLI in-process, write the cache when it is done
  process.argv = [process.argv[0], launcher.BUNDLE, 'exec', '--allow', 'openai/chat-completions', '--', process.execPath, '-e', '0'];
  const { script, id } = launcher.loadBundle({ noCache: true });
  process.on('exit', (code) => {
    if (code !== 0 || id === undefined) return;
    const data = script.createCachedData();
    const tmp = `${launcher.CACHE}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`aivault-code-cache ${id}\n`, 'latin1'), data]));
    fs.renameSync(tmp, launcher.CACHE);
  });
} else {
  fs.rmSync(launcher.CACHE, { force: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-code-cache-'));
  try {
    const env = { PATH: process.env.PATH ?? '', HOME: dir, AIVAULT_DIR: path.join(dir, 'vault') };
    const put = spawnSync(process.execPath, [new URL('../bin/aivault.js', import.meta.url).pathname, 'secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], {
      env,
      input: 'sk-code-cache-training-not-a-key',
      encoding: 'utf8',
    });
    const train = put.status === 0 ? spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--train'], { env, encoding: 'utf8' }) : put;
    if (train.status !== 0 || !fs.existsSync(launcher.CACHE)) {
      process.stderr.write(`code cache: not made (${(train.stderr || '').trim().split('\n')[0] || `exit ${train.status}`}); the CLI compiles its bundle at each start\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
