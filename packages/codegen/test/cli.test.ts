import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runCli } from '@derecho-ts/codegen';

const here = dirname(fileURLToPath(import.meta.url));

function cli(args: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), cwd: here });
  return { code, out, err };
}

const STORE_V1 = `import { Ordered, P2P, Replicated } from '@derecho-ts/runtime';
@Replicated() export class Store {
  @Ordered() put(key: string, value: Uint8Array): void {}
  @P2P() get(key: string): Uint8Array | undefined { return undefined; }
}
`;

describe('derecho-codegen CLI', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'derecho-codegen-'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'ES2022', moduleResolution: 'Bundler', types: [] }, include: ['src'] }),
    );
    writeFileSync(join(dir, 'src', 'store.ts'), STORE_V1);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the checked-in output of the kv fixture up to date (--check)', () => {
    const r = cli(['--project', 'fixtures/kv/tsconfig.json', '--check']);
    expect(r.err).to.deep.equal([]);
    expect(r.out).to.deep.equal(['derecho-codegen: up to date']);
    expect(r.code).to.equal(0);
  });

  it('writes the generated file and the lock, then --check passes', () => {
    const project = join(dir, 'tsconfig.json');
    const first = cli(['--project', project]);
    expect(first.code).to.equal(0);
    expect(first.out).to.include(`wrote ${join(dir, 'src', 'derecho.generated.ts')}`);
    expect(first.out).to.include(`wrote ${join(dir, 'derecho.schema.lock.json')}`);
    expect(readFileSync(join(dir, 'src', 'derecho.generated.ts'), 'utf8')).to.contain("Store: { instance: Store; ordered: 'put'; p2p: 'get' };");
    expect(cli(['--project', project, '--check']).code).to.equal(0);
    expect(cli(['--project', project]).out).to.deep.equal(['derecho-codegen: up to date']);
  });

  it('--check fails naming the stale files, and writes nothing', () => {
    const project = join(dir, 'tsconfig.json');
    cli(['--project', project]);
    const generated = readFileSync(join(dir, 'src', 'derecho.generated.ts'), 'utf8');
    writeFileSync(join(dir, 'src', 'store.ts'), STORE_V1.replace(/\n}\n$/, '\n  @Ordered() clear(): void {}\n}\n'));
    const r = cli(['--project', project, '--check']);
    expect(r.code).to.equal(1);
    expect(r.err).to.deep.equal([
      `stale: ${join(dir, 'src', 'derecho.generated.ts')}`,
      `stale: ${join(dir, 'derecho.schema.lock.json')}`,
      '  Store.clear is new: wire id 3',
      'derecho-codegen --check: generated output is stale; run derecho-codegen and commit the result',
    ]);
    expect(readFileSync(join(dir, 'src', 'derecho.generated.ts'), 'utf8')).to.equal(generated);
    writeFileSync(join(dir, 'src', 'store.ts'), STORE_V1);
  });

  it('prints every error with its position and exits 1 without writing', () => {
    const project = join(dir, 'tsconfig.json');
    writeFileSync(join(dir, 'src', 'bad.ts'), `import { Ordered, Replicated } from '@derecho-ts/runtime';
@Replicated() export class Bad {
  @Ordered() a(x: () => void): void {}
  @Ordered() b(y: WeakSet<object>): void {}
}
`);
    try {
      const r = cli(['--project', project, '--out', 'src/other.generated.ts']);
      expect(r.code).to.equal(1);
      expect(r.err).to.deep.equal([
        "src/bad.ts:3:16: Bad.a parameter 'x': type '() => void' is not serializable: a function",
        "src/bad.ts:4:16: Bad.b parameter 'y': type 'WeakSet<object>' is not serializable: WeakSet is a built-in type without a wire form",
        'derecho-codegen: 2 error(s); nothing written',
      ]);
      expect(existsSync(join(dir, 'src', 'other.generated.ts'))).to.equal(false);
    } finally {
      rmSync(join(dir, 'src', 'bad.ts'));
    }
  });

  it('runs as a program: --check exits 0 on the fixture and 1 when stale', () => {
    const cliPath = join(here, '..', 'src', 'cli.ts');
    const run = (project: string) =>
      spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', cliPath, '--project', project, '--check'], { encoding: 'utf8', timeout: 60_000 });
    const fresh = run(join(here, 'fixtures', 'kv', 'tsconfig.json'));
    expect(fresh.stdout.trim()).to.equal('derecho-codegen: up to date');
    expect(fresh.status).to.equal(0);
    writeFileSync(join(dir, 'src', 'store.ts'), STORE_V1.replace('get(key: string)', 'fetch(key: string)'));
    try {
      const stale = run(join(dir, 'tsconfig.json'));
      expect(stale.status).to.equal(1);
      expect(stale.stderr).to.contain(`stale: ${join(dir, 'derecho.schema.lock.json')}`);
      expect(stale.stderr).to.contain('Store.fetch takes over wire id 1 from get (renamed: same signature, get is gone)');
    } finally {
      writeFileSync(join(dir, 'src', 'store.ts'), STORE_V1);
    }
  });

  it('--help prints the usage and the exit codes; --version the package version', () => {
    const help = cli(['--help']);
    expect(help.code).to.equal(0);
    expect(help.out.join('\n')).to.match(/^usage: derecho-codegen /);
    expect(help.out.join('\n')).to.match(/exit codes: 0 done/);
    const pkg = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { version: string };
    expect(cli(['--version'])).to.deep.equal({ code: 0, out: [`@derecho-ts/codegen ${pkg.version}`], err: [] });
  });

  it('refuses bad usage with exit code 2 and one line', () => {
    const unknown = cli(['--frobnicate']);
    expect(unknown.code).to.equal(2);
    expect(unknown.err).to.deep.equal(["derecho-codegen: Unknown option '--frobnicate' (see derecho-codegen --help)"]);
    const noValue = cli(['--project']);
    expect(noValue.code).to.equal(2);
    expect(noValue.err).to.have.length(1);
    expect(noValue.err[0]).to.match(/^derecho-codegen: Option '-p, --project <value>' argument missing/);
    expect(cli(['src']).code).to.equal(2);
    const missing = cli(['--project', join(dir, 'nope.json')]);
    expect(missing.code).to.equal(1);
    expect(missing.err[0]).to.match(/^derecho-codegen: cannot load .*nope\.json/);
  });
});
