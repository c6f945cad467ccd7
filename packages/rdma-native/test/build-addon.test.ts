import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(pkgDir, '..', '..');

describe('rdma-native install (scripts/build-addon.mjs) and the missing-addon error', function () {
  this.timeout(2 * 60_000);

  it('the install script skips the build when the built addon matches its sources', () => {
    // The suite runs after npm ci, which ran this script, so the stamp matches.
    const r = spawnSync(process.execPath, [join(pkgDir, 'scripts', 'build-addon.mjs')], { cwd: pkgDir, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).to.contain('native addon up to date');
    expect(r.status).to.equal(0);
  });

  it('a copy of the package without its build fails to load, telling the user what to run', () => {
    const copy = mkdtempSync(join(tmpdir(), 'derecho-no-addon-'));
    try {
      cpSync(join(pkgDir, 'src'), join(copy, 'src'), { recursive: true });
      cpSync(join(pkgDir, 'package.json'), join(copy, 'package.json'));
      const probe = `import { loadAddon } from ${JSON.stringify(pathToFileURL(join(copy, 'src', 'addon.ts')).href)};
        try { loadAddon(); console.log('loaded'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.contain('AddonLoadError: the native data plane of @derecho-ts/rdma-native is not built');
      expect(r.stdout).to.contain('`npm rebuild @derecho-ts/rdma-native`');
      expect(r.stdout).to.contain('"allowScripts": { "@derecho-ts/rdma-native": true }');
      expect(r.stdout).not.to.contain('repository root');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
