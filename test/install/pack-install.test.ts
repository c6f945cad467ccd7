/**
 * What a user does: every package packed with `npm pack`, a new project written by `derecho init`
 * in a temporary folder outside this repository, the tarballs installed there (third-party
 * dependencies from the npm registry or its cache, nothing from this repository's node_modules),
 * then the project's own scripts: derecho-codegen, tsc, and three members on loopback making an
 * ordered call. The native addon is compiled by its install script, so this takes minutes.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initProject } from '@derecho-ts/runtime/init';
import { runCommand } from './run-command.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const packages = ['rdma-native', 'runtime', 'codegen', 'examples'] as const;

interface PackedFile {
  readonly path: string;
}
interface PackResult {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly PackedFile[];
}

/**
 * The environment of a user's shell: no npm lifecycle variables, node options or PATH entries of
 * this repository (a mocha run under `npm test` has its node_modules/.bin on PATH).
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|NODE_OPTIONS$|NODE_PATH$|TSX_|INIT_CWD$)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '' && !resolve(dir).startsWith(repoRoot))
    .join(delimiter);
  return env;
}

describe('packages installed from their tarballs in a new project', function () {
  // npm install compiles the addon: minutes on a busy 2-core machine.
  this.timeout(20 * 60_000);
  let root: string;
  let packed: PackResult[];
  const env = userEnv();
  const npm = (args: readonly string[], cwd: string, timeoutMs: number) => runCommand('npm', args, { cwd, env, timeoutMs });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'derecho-pack-install-'));
    // Module resolution walks up the folders: a project inside the repository would see its node_modules.
    expect(realpathSync(root).startsWith(`${realpathSync(repoRoot)}${sep}`), `${root} is inside the repository; set TMPDIR to a folder outside it`).to.equal(false);
    mkdirSync(join(root, 'packs'));
    // prepack compiles each package (tsc -b), so this also works before `npm run build`.
    const pack = await runCommand('npm', ['pack', '--json', '--pack-destination', join(root, 'packs'), ...packages.flatMap((p) => ['-w', `@derecho-ts/${p}`])], {
      cwd: repoRoot,
      env: process.env,
      timeoutMs: 5 * 60_000,
    });
    packed = JSON.parse(pack.output.slice(pack.output.indexOf('['), pack.output.lastIndexOf(']') + 1)) as PackResult[];
  });
  after(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('packs each package with its README, compiled code and bins, without tests, sources or source maps', () => {
    expect(packed.map((p) => p.name)).to.deep.equal(packages.map((p) => `@derecho-ts/${p}`));
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      const manifest = JSON.parse(readFileSync(join(repoRoot, 'packages', p.name.slice('@derecho-ts/'.length), 'package.json'), 'utf8'));
      expect(files, p.name).to.include.members(['package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', manifest.types.replace('./', '')]);
      for (const bin of Object.values<string>(manifest.bin ?? {})) expect(files, `${p.name} bin`).to.include(bin.replace('./', ''));
      expect(manifest.engines.node, p.name).to.equal('>=20.19.0');
      const unwanted = files.filter((f) => /(^|\/)test\/|\.test\.|\.map$|^src\/|tsbuildinfo|^build\//.test(f));
      expect(unwanted, `${p.name} ships files a user does not need`).to.deep.equal([]);
    }
    const native = packed[0].files.map((f) => f.path);
    expect(native).to.include.members(['binding.gyp', 'native/addon.cc', 'native/tcp_provider.cc', 'scripts/build-addon.mjs']);
    expect(packed[1].files.map((f) => f.path)).to.include.members(['templates/app/package.json', 'templates/app/src/counter.ts']);
  });

  it('a project from `derecho init` installs them, runs derecho-codegen and tsc, and three members answer an ordered call', async () => {
    const app = initProject(join(root, 'app')).dir;
    const tarball = (name: string) => join(root, 'packs', packed.find((p) => p.name === `@derecho-ts/${name}`)!.filename);
    const install = await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball('rdma-native'), tarball('runtime'), tarball('codegen')], app, 12 * 60_000);
    const build = await npm(['run', 'build'], app, 5 * 60_000);
    expect(build.output).to.contain('wrote');
    const start = await npm(['start'], app, 3 * 60_000);
    expect(start.output).to.match(/reply of each replica: \{"0":5,"1":5,"2":5\}/);
    // The installed bins, through their node_modules/.bin symlinks.
    const check = await runCommand('npx', ['derecho-codegen', '--check'], { cwd: app, env, timeoutMs: 2 * 60_000 });
    expect(check.output).to.contain('derecho-codegen: up to date');
    const help = await runCommand('npx', ['derecho', '--help'], { cwd: app, env, timeoutMs: 60_000 });
    expect(help.output).to.match(/usage: derecho/);
    // The installed (compiled) initProject finds the template inside the installed package.
    const init = await runCommand(process.execPath, ['--input-type=module', '-e', "const { initProject } = await import('@derecho-ts/runtime/init'); console.log(JSON.stringify(initProject('second')));"], {
      cwd: app,
      env,
      timeoutMs: 60_000,
    });
    expect((JSON.parse(init.output) as { files: string[] }).files).to.include.members(['package.json', '.gitignore', join('src', 'counter.ts')]);
    expect(readFileSync(join(app, 'second', 'src', 'member.ts'), 'utf8')).to.contain('Group.join');
    console.log(`      npm install ${(install.ms / 1000).toFixed(0)} s (addon compiled), build ${(build.ms / 1000).toFixed(0)} s, start ${(start.ms / 1000).toFixed(0)} s`);
  });
});
