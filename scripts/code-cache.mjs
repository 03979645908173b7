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
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const launcher = require('../bin/load-bundle.cjs');

if (process.argv[2] === '--train' || process.argv[2] === '--train-intercept') {
  // in the training process: run the CLI in-process, write the caches when it is done. The plain
  // run makes the bundle's cache; the --intercept run only its X.509 chunk's (a bundle cache taken
  // there would carry the interception code into every plain start-up).
  const intercept = process.argv[2] === '--train-intercept';
  process.argv = [process.argv[0], launcher.BUNDLE, 'exec', ...(intercept ? ['--intercept'] : []), '--allow', 'openai/chat-completions', '--', process.execPath, '-e', '0'];
  const { loaded } = launcher.loadBundle({ noCache: true });
  process.on('exit', (code) => {
    if (code !== 0) return;
    for (const { file, script, id } of loaded) {
      if (id === undefined || (file === launcher.BUNDLE) === intercept) continue;
      const tmp = `${file}.cache.${process.pid}.tmp`;
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`aivault-code-cache ${id}\n`, 'latin1'), script.createCachedData()]));
      fs.renameSync(tmp, `${file}.cache`);
    }
  });
} else {
  try {
    makeCaches();
  } catch (e) {
    process.stderr.write(`code cache: not made (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); the CLI compiles at each start\n`);
  }
}

function makeCaches() {
  const bundleDir = path.dirname(launcher.BUNDLE);
  for (const f of fs.readdirSync(bundleDir)) if (f.endsWith('.cache')) fs.rmSync(path.join(bundleDir, f), { force: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-code-cache-'));
  try {
    const env = { PATH: process.env.PATH ?? '', HOME: dir, AIVAULT_DIR: path.join(dir, 'vault') };
    const put = spawnSync(process.execPath, [fileURLToPath(new URL('../bin/aivault.js', import.meta.url)), 'secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], {
      env,
      input: 'sk-code-cache-training-not-a-key',
      encoding: 'utf8',
    });
    for (const mode of ['--train', '--train-intercept']) {
      const train = put.status === 0 ? spawnSync(process.execPath, [fileURLToPath(import.meta.url), mode], { env, encoding: 'utf8' }) : put;
      if (train.status !== 0) {
        process.stderr.write(`code cache (${mode}): not made (${(train.stderr || '').trim().split('\n')[0] || `exit ${train.status}`}); the CLI compiles at each start\n`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
