#!/usr/bin/env node
// Runs mocha test files against the sanitizer build of the addon (npm run build:native:asan):
// preloads the compiler's libasan (a Node addon built with -fsanitize=address needs the ASan
// runtime loaded before anything else), turns off leak detection (Node itself does not free
// everything at exit) and points the package at build-asan/. Child processes inherit all three.
// Usage: node scripts/test-native-asan.mjs [test files...]   (default: the fuzz test)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'packages', 'rdma-native', 'build-asan', 'build', 'Release', 'derecho_native.node');
if (!existsSync(addon)) {
  console.error(`test-native-asan: ${addon} is missing; run \`npm run build:native:asan\` first.`);
  process.exit(1);
}
const cc = process.env.CC ?? 'gcc';
const found = spawnSync(cc, ['-print-file-name=libasan.so'], { encoding: 'utf8' });
const libasan = found.status === 0 ? found.stdout.trim() : '';
if (!libasan || !existsSync(libasan)) {
  console.error(`test-native-asan: ${cc} does not know where libasan.so is (got "${libasan}"); set CC to the compiler that built the addon.`);
  process.exit(1);
}
const files = process.argv.slice(2);
const r = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), '--no-config', '-n', 'conditions=@derecho-ts/source', '-n', 'import=tsx', '--timeout', '600000', '--exit',
    ...(files.length ? files : [join(root, 'packages', 'rdma-native', 'test', 'fuzz.test.ts')])],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      LD_PRELOAD: libasan,
      ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=0:abort_on_error=1',
      UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'print_stacktrace=1:halt_on_error=1',
      DERECHO_NATIVE_BUILD_DIR: 'build-asan/build',
    },
  },
);
process.exit(r.status ?? 1);
