/**
 * The bins of the workspace packages as npm links them: `node_modules/.bin/<name>` symlinks to a
 * checked-in, executable shim (so `npm ci` links it in a fresh clone, before anything is built),
 * and the command runs when started through that symlink, as `npx` and package scripts start it.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './run-command.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Each bin: its name, its package directory, and what `<bin> --help` must print and exit with
 * (derecho-examples takes --help for an unknown demo, exit 2, until it follows the CLI convention).
 */
const bins = [
  { name: 'derecho', pkg: 'runtime', codes: [0], prints: /usage: derecho / },
  { name: 'derecho-codegen', pkg: 'codegen', codes: [0], prints: /usage: derecho-codegen / },
  { name: 'derecho-examples', pkg: 'examples', codes: [0, 2], prints: /usage: derecho-examples / },
] as const;

describe('workspace bins', function () {
  this.timeout(5 * 60_000);
  const run = (command: string, args: readonly string[], allowFailure = false) =>
    runCommand(command, args, { cwd: repoRoot, env: process.env, timeoutMs: 3 * 60_000, allowFailure });

  before(async () => {
    // The shims run the compiled CLIs.
    await run(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-b']);
  });

  it('every bin a package declares is listed here', () => {
    const declared = ['runtime', 'codegen', 'examples', 'rdma-native'].flatMap((pkg) =>
      Object.keys((JSON.parse(readFileSync(join(repoRoot, 'packages', pkg, 'package.json'), 'utf8')) as { bin?: object }).bin ?? {}),
    );
    expect(declared.sort()).to.deep.equal(bins.map((b) => b.name).sort());
  });

  for (const bin of bins) {
    it(`${bin.name}: linked to a checked-in executable file, and runs through the symlink`, async () => {
      const manifest = JSON.parse(readFileSync(join(repoRoot, 'packages', bin.pkg, 'package.json'), 'utf8')) as { bin: Record<string, string> };
      const target = join('packages', bin.pkg, manifest.bin[bin.name]);
      const tracked = execFileSync('git', ['ls-files', '--stage', '--', target], { cwd: repoRoot, encoding: 'utf8' });
      expect(tracked, `${target} is committed with mode 755`).to.match(/^100755 /);
      const link = join(repoRoot, 'node_modules', '.bin', bin.name);
      expect(lstatSync(link).isSymbolicLink(), `${link} is a symlink (run npm ci)`).to.equal(true);
      expect(realpathSync(link)).to.equal(join(repoRoot, target));
      const r = await run(link, ['--help'], true);
      expect(r.output).to.match(bin.prints);
      expect(bin.codes).to.include(r.code);
    });
  }

  it("the examples' codegen script finds derecho-codegen and the generated code is current", async () => {
    const r = await run('npm', ['run', 'codegen:check', '-w', '@derecho-ts/examples'], true);
    expect(r.output).to.contain('derecho-codegen: up to date');
    expect(r.code).to.equal(0);
  });

  it('npx derecho-codegen runs the CLI from the repository root', async () => {
    const r = await run('npx', ['derecho-codegen', '--project', 'packages/examples/tsconfig.codegen.json', '--check'], true);
    expect(r.output).to.contain('derecho-codegen: up to date');
    expect(r.code).to.equal(0);
  });
});
