import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InitError, TEMPLATE_DIR, initProject } from '../../src/cli/init.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const derecho = (...args: string[]) => spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

const runtimeVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('derecho init (initProject)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'derecho-init-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes the template project into a new directory, named after it, depending on this version', () => {
    const result = initProject(join(root, 'My App'));
    expect(result.dir).to.equal(join(root, 'My App'));
    expect(result.files).to.include.members(['package.json', 'tsconfig.json', '.gitignore', 'README.md', join('src', 'counter.ts'), join('src', 'member.ts'), join('src', 'run-local.ts')]);
    expect(result.files).not.to.include('gitignore');
    for (const f of result.files) expect(existsSync(join(result.dir, f)), f).to.equal(true);
    const manifest = JSON.parse(readFileSync(join(result.dir, 'package.json'), 'utf8'));
    expect(manifest.name).to.equal('my-app');
    expect(manifest.dependencies['@derecho-ts/runtime']).to.equal(`^${runtimeVersion}`);
    expect(manifest.devDependencies['@derecho-ts/codegen']).to.equal(`^${runtimeVersion}`);
    expect(manifest.allowScripts).to.deep.equal({ '@derecho-ts/rdma-native': true });
    expect(readFileSync(join(result.dir, 'src', 'counter.ts'), 'utf8')).to.equal(readFileSync(join(TEMPLATE_DIR, 'src', 'counter.ts'), 'utf8'));
    expect(result.nextSteps).to.deep.equal([`cd '${join(root, 'My App')}'`, 'npm install', 'npm run build', 'npm start']);
  });

  it('takes the package name from the options; the next steps name a directory below the working one relatively', () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const result = initProject('x', { name: '@acme/counter' });
      expect(JSON.parse(readFileSync(join(result.dir, 'package.json'), 'utf8')).name).to.equal('@acme/counter');
      expect(result.nextSteps[0]).to.equal('cd x');
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses a directory that has files, naming it, and writes over it with force', () => {
    const dir = join(root, 'taken');
    initProject(dir);
    writeFileSync(join(dir, 'src', 'counter.ts'), '// mine');
    expect(() => initProject(dir)).to.throw(InitError, `${dir} is not empty`);
    expect(readFileSync(join(dir, 'src', 'counter.ts'), 'utf8')).to.equal('// mine');
    initProject(dir, { force: true });
    expect(readFileSync(join(dir, 'src', 'counter.ts'), 'utf8')).to.contain('@Replicated()');
  });

  it('refuses a path that is a file', () => {
    const file = join(root, 'file');
    writeFileSync(file, '');
    expect(() => initProject(file)).to.throw(InitError, 'is not a directory');
  });

  it('`derecho init <dir>` writes the project and says what to run next; a non-empty directory is refused; no directory is a usage error', () => {
    const dir = join(root, 'app');
    const ok = derecho('init', dir);
    expect(ok.status, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/wrote \d+ files into .*app\nnext:\n {2}cd .*\n {2}npm install\n {2}npm run build\n {2}npm start\n/);
    expect(existsSync(join(dir, 'src', 'counter.ts'))).to.equal(true);
    const again = derecho('init', dir);
    expect(again.status).to.equal(1);
    expect(again.stderr).to.match(/^derecho init: .*app is not empty; name a new directory/);
    const usage = derecho('init');
    expect(usage.status).to.equal(2);
    expect(usage.stderr.trim().split('\n')).to.have.length(1);
  });
});
