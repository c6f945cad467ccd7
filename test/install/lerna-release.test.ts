/**
 * lerna as the release tool: `lerna version` bumps every package together (fixed mode) and pins
 * the packages' dependencies on each other to the new version, in a throwaway copy of the
 * workspace manifests (no git tag, no push); `lerna publish from-package` publishes the public
 * packages, in dependency order, from a throwaway copy of the workspace to a registry stand-in on
 * loopback; `lerna ls --toposort` gives the dependency order `lerna run build` follows.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './run-command.js';
import { startStandInRegistry } from './stand-in-registry.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const lerna = join(repoRoot, 'node_modules', '.bin', 'lerna');
const manifests = ['packages/rdma-native', 'packages/runtime', 'packages/codegen', 'packages/examples', 'test'].map((dir) => join(dir, 'package.json'));
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('lerna (versioning and dependency order)', function () {
  this.timeout(5 * 60_000);
  let copy: string;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: copy, stdio: 'ignore' });

  before(() => {
    copy = mkdtempSync(join(tmpdir(), 'derecho-lerna-'));
    for (const file of ['lerna.json', 'nx.json', 'package.json', 'package-lock.json', ...manifests]) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      copyFileSync(join(repoRoot, file), join(copy, file));
    }
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.name=test', '-c', 'user.email=test@localhost', 'commit', '-qm', 'workspace manifests');
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  it('lists the packages in dependency order', async () => {
    const r = await runCommand(lerna, ['ls', '--all', '--toposort', '--json', '--loglevel', 'silent'], { cwd: copy, env: process.env, timeoutMs: 2 * 60_000 });
    const order = (JSON.parse(r.output.slice(r.output.indexOf('['))) as { name: string }[]).map((p) => p.name);
    const before = (a: string, b: string) => expect(order.indexOf(a), `${a} before ${b} in ${order.join(', ')}`).to.be.lessThan(order.indexOf(b));
    before('@derecho-ts/rdma-native', '@derecho-ts/runtime');
    before('@derecho-ts/runtime', '@derecho-ts/codegen');
    before('@derecho-ts/codegen', '@derecho-ts/examples');
    expect(order).to.have.length(5);
  });

  it('lerna version bumps every package and pins their dependencies on each other', async () => {
    const from = readJson(join(copy, 'lerna.json')).version as string;
    const [major, minor] = from.split('.').map(Number);
    const next = `${major}.${minor + 1}.0`;
    await runCommand(lerna, ['version', 'minor', '--no-git-tag-version', '--no-push', '--yes'], { cwd: copy, env: process.env, timeoutMs: 3 * 60_000 });
    expect(readJson(join(copy, 'lerna.json')).version).to.equal(next);
    const lock = readJson(join(copy, 'package-lock.json'));
    for (const manifest of manifests) {
      const pkg = readJson(join(copy, manifest));
      expect(pkg.version, manifest).to.equal(next);
      expect(lock.packages[dirname(manifest)].version, `package-lock.json: ${manifest}`).to.equal(next);
      for (const field of ['dependencies', 'devDependencies']) {
        for (const [dep, spec] of Object.entries<string>(pkg[field] ?? {})) {
          if (dep.startsWith('@derecho-ts/')) expect(spec, `${manifest} ${field} ${dep}`).to.equal(next);
        }
      }
    }
    // The codegen's peer range (lerna leaves peers alone) still admits the new runtime.
    const peer = readJson(join(copy, 'packages/codegen/package.json')).peerDependencies['@derecho-ts/runtime'] as string;
    const floor = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(peer);
    expect(floor, `codegen's peer range ${peer} is a lower bound`).to.not.equal(null);
    const asNumber = (v: readonly number[]) => v[0] * 1e6 + v[1] * 1e3 + v[2];
    expect(asNumber(floor!.slice(1).map(Number)), `${peer} admits ${next}`).to.be.at.most(asNumber(next.split('.').map(Number)));
  });

  it('lerna publish publishes the public packages in dependency order, pinned to each other', async () => {
    // The working tree's files (tracked or new, not ignored) plus each package's compiled dist/src,
    // in a repository of their own: publishing annotates and resets package.json files there.
    const workspace = mkdtempSync(join(tmpdir(), 'derecho-publish-'));
    const registry = await startStandInRegistry();
    try {
      await runCommand(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-b'], { cwd: repoRoot, env: process.env, timeoutMs: 3 * 60_000 });
      const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repoRoot, encoding: 'utf8' }).split('\0');
      for (const file of files.filter((f) => f !== '' && existsSync(join(repoRoot, f)))) {
        mkdirSync(dirname(join(workspace, file)), { recursive: true });
        copyFileSync(join(repoRoot, file), join(workspace, file));
      }
      for (const pkg of ['rdma-native', 'runtime', 'codegen', 'examples']) {
        cpSync(join(repoRoot, 'packages', pkg, 'dist', 'src'), join(workspace, 'packages', pkg, 'dist', 'src'), { recursive: true });
      }
      const inCopy = (...args: string[]) => execFileSync('git', args, { cwd: workspace, stdio: 'ignore' });
      inCopy('init', '-q');
      inCopy('add', '-A');
      inCopy('-c', 'user.name=test', '-c', 'user.email=test@localhost', 'commit', '-qm', 'workspace');
      const version = readJson(join(workspace, 'lerna.json')).version as string;
      // Scripts are off: dist/ is already compiled (prepack would compile it again).
      await runCommand(lerna, ['publish', 'from-package', '--registry', registry.url, '--yes', '--ignore-scripts', '--no-git-reset'], {
        cwd: workspace,
        env: { ...process.env, [`npm_config_${registry.url.replace(/^http:/, '')}:_authToken`]: 'stand-in' },
        timeoutMs: 3 * 60_000,
      });
      expect(registry.published.map((p) => `${p.name}@${p.version}`)).to.deep.equal(
        ['rdma-native', 'runtime', 'codegen', 'examples'].map((p) => `@derecho-ts/${p}@${version}`),
      );
      for (const p of registry.published) {
        expect(p.tarballBytes, p.name).to.be.greaterThan(1000);
        expect(p.manifest.engines, p.name).to.deep.equal({ node: '>=20.19.0' });
        for (const [dep, spec] of Object.entries(p.manifest.dependencies ?? {})) {
          if (dep.startsWith('@derecho-ts/')) expect(spec, `${p.name} -> ${dep}`).to.equal(version);
        }
      }
    } finally {
      await registry.close();
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
