#!/usr/bin/env node
// Builds the native data plane (packages/rdma-native) with node-gyp against the running Node's own
// headers. It runs from the root package's postinstall because npm 11 does not run a dependency's
// install scripts until they are approved, and there is no network to download headers from.
// Skips the build when the sources have not changed since the last successful one (a content hash).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'packages', 'rdma-native');
// --asan: the same sources with AddressSanitizer and UndefinedBehaviorSanitizer, built in
// packages/rdma-native/build-asan (its own binding.gyp, generated from the package's) so the
// normal build is untouched. Load it with DERECHO_NATIVE_BUILD_DIR=build-asan/build and libasan
// preloaded (see packages/rdma-native/README.md).
const asan = process.argv.includes('--asan');
const pkgDir = asan ? join(sourceDir, 'build-asan') : sourceDir;
const stampPath = join(pkgDir, 'build', '.source-hash');
const force = process.argv.includes('--force');

function nodeHeadersDir() {
  const candidates = [process.env.DERECHO_NODEDIR, resolve(dirname(process.execPath), '..')].filter(Boolean);
  for (const dir of candidates) {
    if (existsSync(join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  console.error(
    `build-native: Node's headers were not found under ${candidates.join(' or ')} (looked for include/node/node_api.h).\n` +
      'Set DERECHO_NODEDIR to the prefix of a Node installation that has its headers.',
  );
  process.exit(1);
}

function hasLibfabric() {
  const r = spawnSync('pkg-config', ['--exists', 'libfabric'], { stdio: 'ignore' });
  return r.status === 0;
}

function sourceHash(withFabric) {
  const h = createHash('sha256');
  h.update(process.version + (withFabric ? ' fabric' : ' tcp') + (asan ? ' asan' : ''));
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(p).update(readFileSync(p));
    }
  };
  walk(join(sourceDir, 'native'));
  h.update(readFileSync(join(sourceDir, 'binding.gyp')));
  return h.digest('hex');
}

/** The package's binding.gyp with sanitizer flags, sources referred to from build-asan/. */
function writeAsanGyp() {
  const gyp = JSON.parse(readFileSync(join(sourceDir, 'binding.gyp'), 'utf8'));
  const sanitize = ['-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer', '-g'];
  for (const t of gyp.targets) {
    t.sources = t.sources.map((s) => `../${s}`);
    t.cflags = [...(t.cflags ?? []), ...sanitize];
    t.cflags_cc = [...t.cflags_cc.filter((f) => f !== '-O2'), '-O1', ...sanitize];
    t.ldflags = [...(t.ldflags ?? []), '-fsanitize=address,undefined'];
  }
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(join(pkgDir, 'binding.gyp'), JSON.stringify(gyp, null, 2));
}

if (!existsSync(join(sourceDir, 'binding.gyp'))) process.exit(0);
if (asan) writeAsanGyp();
const withFabric = process.env.DERECHO_NO_LIBFABRIC ? false : hasLibfabric();
const hash = sourceHash(withFabric);
if (!force && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === hash) {
  console.log('build-native: up to date');
  process.exit(0);
}
const gyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
if (!existsSync(gyp)) {
  console.error('build-native: node-gyp is missing from node_modules; run `npm ci` first.');
  process.exit(1);
}
console.log(`build-native: building the data plane${asan ? ' with ASan+UBSan into build-asan/' : ''} (libfabric provider: ${withFabric ? 'yes' : 'not found, tcp only'})`);
const r = spawnSync(
  process.execPath,
  [gyp, 'rebuild', `--nodedir=${nodeHeadersDir()}`, '-j', '2', `--with_libfabric=${withFabric ? 'true' : 'false'}`],
  { cwd: pkgDir, stdio: 'inherit' },
);
if (r.status !== 0) {
  console.error('build-native: node-gyp failed (see above)');
  process.exit(r.status ?? 1);
}
writeFileSync(stampPath, hash);
