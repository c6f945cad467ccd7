/**
 * Every command of `derecho` follows one convention: --help exits 0 and prints usage, --version
 * prints the version, bad usage exits 2 with exactly one line on stderr and no stack trace. The
 * runtime never loads @derecho-ts/examples: their demos and benchmarks are named, not run.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benches } from '../../src/bench/registry.js';

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const src = fileURLToPath(new URL('../../src', import.meta.url));

function derecho(args: string[], timeoutMs = 60_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', cli, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectUsageError(args: string[], message: RegExp): void {
  const r = derecho(args);
  expect(r.code, `derecho ${args.join(' ')}: ${r.stderr}`).to.equal(2);
  expect(r.stdout).to.equal('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).to.have.length(1);
  expect(lines[0]).to.match(message);
  expect(lines[0]).not.to.match(/\bat .*\.(ts|js):\d+/);
}

describe('derecho command conventions', function () {
  this.timeout(180_000);

  it('--help of the program and of every command and benchmark exits 0 and prints usage', () => {
    const helps = [['--help'], ['-h'], ['demo', '--help'], ['sim', '--help'], ['config-schema', '--help'], ['status', '--help'], ['bench', '--help'], ...Object.keys(benches).map((name) => ['bench', name, '--help'])];
    for (const args of helps) {
      const r = derecho(args);
      expect(r.code, `derecho ${args.join(' ')}: ${r.stderr}`).to.equal(0);
      expect(r.stdout, `derecho ${args.join(' ')}`).to.match(/^usage: derecho/);
      expect(r.stderr).to.equal('');
    }
    const top = derecho(['--help']).stdout;
    expect(top).to.match(/exit codes: 0 success, 1 failure/);
    expect(top).to.match(/2 usage error/);
  });

  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
    const r = derecho(['--version']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal(`@derecho-ts/runtime ${pkg.version}\n`);
  });

  it('bad usage exits 2 with one line naming the problem and where to look', () => {
    expectUsageError([], /^derecho: missing <command>; one of: init, demo, sim, bench, status, config-schema \(see derecho --help\)$/);
    expectUsageError(['config-schema', 'extra'], /^derecho config-schema: Unexpected argument 'extra'/);
    expectUsageError(['nope'], /^derecho: unknown command "nope"/);
    expectUsageError(['status'], /^derecho status: --contact <host:port> is required: the HTTP address of any member \(see derecho status --help\)$/);
    expectUsageError(['status', '--contact', 'nohost'], /^derecho status: --contact: expected host:port, got "nohost"/);
    expectUsageError(['sim'], /^derecho sim: missing --seed N/);
    expectUsageError(['sim', '--seed', '1', '--frobnicate'], /^derecho sim: Unknown option '--frobnicate' \(see derecho sim --help\)$/);
    expectUsageError(['bench'], /^derecho bench: missing <name>; one of: bandwidth, latency/);
    expectUsageError(['bench', 'bandwidth', '3', '0'], /^derecho bench bandwidth: expected 4 positional arguments \(num_nodes sender_selector num_messages delivery_mode\), got 2/);
    expectUsageError(['bench', 'latency', '3', '0', '10', '7'], /^derecho bench latency: delivery_mode must be an integer from 0 to 1, got "7"/);
    expectUsageError(['bench', 'log', '--seconds'], /^derecho bench log: Option '--seconds <value>' argument missing/);
    expectUsageError(['bench', 'fabric', '--only', 'speed'], /^derecho bench fabric: --only takes a comma-separated subset of latency,rdmc,rate; got "speed"/);
    expectUsageError(['demo', 'nope'], /^derecho demo: unknown demo "nope"/);
  });

  it('the examples demos and benchmarks are named with the command that runs them, not loaded', () => {
    expectUsageError(['demo', 'foo-bar'], /run derecho-examples demo foo-bar/);
    expectUsageError(['bench', 'typed', '3', '100', '0'], /run derecho-examples bench typed/);
    const imports: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (/import\s*\(?\s*['"`]@derecho-ts\/examples|from\s+['"`]@derecho-ts\/examples|EXAMPLES\s*=\s*['"`]@derecho-ts/.test(readFileSync(join(dir, e.name), 'utf8'))) imports.push(e.name);
      }
    };
    walk(src);
    expect(imports, 'runtime sources that load @derecho-ts/examples').to.deep.equal([]);
  });

  it('derecho demo runs the data-plane demo on 3 processes', () => {
    const r = derecho(['demo'], 90_000);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/all members finished cleanly/);
  });

  it('a benchmark runs from the command (the multicast core in the simulator)', () => {
    const r = derecho(['bench', 'core', '--messages', '300', '--members', '2']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^members=2 messages=300 .*600 deliveries/);
  });
});
