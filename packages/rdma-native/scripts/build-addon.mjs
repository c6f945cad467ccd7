#!/usr/bin/env node
// Builds the native data plane with node-gyp against the running Node's own headers. It is this
// package's `install` script, so it runs wherever the package is installed (inside the repository's
// workspace or in a user's project), and `npm rebuild @derecho-ts/rdma-native` runs it again.
// Skips the build when a finished build of the same sources, Node version and provider set exists
// (a content hash stamped next to the binary). `--force` rebuilds regardless. `--asan` builds the
// same sources with AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/ (its own
// binding.gyp, generated from the package's), leaving the normal build untouched; load it with
// DERECHO_NATIVE_BUILD_DIR=build-asan/build and libasan preloaded (scripts/test-native-asan.mjs at
// the repository root does both; see README.md).
// Nothing is downloaded and no system library is required: libfabric is used only when pkg-config
// finds it (DERECHO_NO_LIBFABRIC=1 turns the detection off). Needs what node-gyp needs: python3,
// make and a C++17 compiler.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const sourceDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const asan = process.argv.includes('--asan');
/** Where node-gyp runs: the package itself, or build-asan/ for the sanitizer build. */
const pkgDir = asan ? join(sourceDir, 'build-asan') : sourceDir;
const stampPath = join(pkgDir, 'build', '.source-hash');
const addonPath = join(pkgDir, 'build', 'Release', 'derecho_native.node');
const force = process.argv.includes('--force');
const log = (line) => console.log(`@derecho-ts/rdma-native: ${line}`);

/** The prefix of a Node installation with headers (include/node/node_api.h), or undefined. */
function nodeHeadersDir() {
  const candidates = [process.env.DERECHO_NODEDIR, resolve(dirname(process.execPath), '..')].filter(Boolean);
  return candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h')));
}

function hasLibfabric() {
  if (process.env.DERECHO_NO_LIBFABRIC) return false;
  return spawnSync('pkg-config', ['--exists', 'libfabric'], { stdio: 'ignore' }).status === 0;
}

/** node-gyp as npm runs it for install scripts (npm_config_node_gyp), else the one installed beside us. */
function nodeGypScript() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  try {
    return createRequire(join(sourceDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

function sourceHash(withFabric) {
  const h = createHash('sha256');
  h.update(`${process.version} ${process.arch} ${withFabric ? 'fabric' : 'tcp'}${asan ? ' asan' : ''}`);
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(relative(sourceDir, p)).update(readFileSync(p));
    }
  };
  walk(join(sourceDir, 'native'));
  h.update(readFileSync(join(sourceDir, 'binding.gyp')));
  return h.digest('hex');
}

/** The package's binding.gyp with sanitizer flags, its sources referred to from build-asan/. */
function writeAsanGyp() {
  const gyp = JSON.parse(readFileSync(join(sourceDir, 'binding.gyp'), 'utf8'));
  const sanitize = ['-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer', '-g'];
  for (const t of gyp.targets) {
    t.sources = t.sources.map((s) => `../${s}`);
    t.include_dirs = (t.include_dirs ?? []).map((d) => (typeof d === 'string' && !d.startsWith('<') && !d.startsWith('/') ? `../${d}` : d));
    t.cflags = [...(t.cflags ?? []), ...sanitize];
    t.cflags_cc = [...(t.cflags_cc ?? []).filter((f) => f !== '-O2'), '-O1', ...sanitize];
    t.ldflags = [...(t.ldflags ?? []), '-fsanitize=address,undefined'];
  }
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(join(pkgDir, 'binding.gyp'), JSON.stringify(gyp, null, 2));
}

if (asan) writeAsanGyp();
const withFabric = hasLibfabric();
const hash = sourceHash(withFabric);
if (!force && existsSync(addonPath) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === hash) {
  log('native addon up to date');
  process.exit(0);
}
const gyp = nodeGypScript();
if (gyp === undefined) {
  console.error(
    '@derecho-ts/rdma-native: node-gyp was not found. Build the addon through npm, which brings its own ' +
      '(`npm rebuild @derecho-ts/rdma-native`), or install node-gyp next to this package.',
  );
  process.exit(1);
}
const nodedir = nodeHeadersDir();
const args = [gyp, 'rebuild', '-j', '2', `--with_libfabric=${withFabric ? 'true' : 'false'}`];
if (nodedir !== undefined) args.push(`--nodedir=${nodedir}`);
else log(`Node's headers are not beside ${process.execPath} (no include/node/node_api.h); node-gyp will use its own copy (set DERECHO_NODEDIR to a Node prefix with headers to avoid that)`);
log(`building the native addon${asan ? ' with ASan+UBSan into build-asan/' : ''} (libfabric provider: ${withFabric ? 'yes' : 'not found, tcp only'})`);
const r = spawnSync(process.execPath, args, { cwd: pkgDir, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    '@derecho-ts/rdma-native: building the native addon failed (node-gyp output above). It needs python3, make and ' +
      'a C++17 compiler (g++ or clang++); install them, then run `npm rebuild @derecho-ts/rdma-native`.',
  );
  process.exit(r.status ?? 1);
}
writeFileSync(stampPath, hash);
