/** `derecho bench viewchange` runs end to end and prints one JSON object of plausible figures. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

describe('derecho bench viewchange', function () {
  this.timeout(90_000);

  it('measures kill-to-view and join-to-first-delivery for a small group (--json)', () => {
    const r = spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', cli, 'bench', 'viewchange', '--sizes', '3', '--reps', '1', '--json'], { encoding: 'utf8', timeout: 80_000 });
    expect(r.status, r.stderr).to.equal(0);
    const figures = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(figures.benchmark).to.equal('viewchange');
    const [row] = figures.rows;
    expect(row.members).to.equal(3);
    for (const key of ['failureToViewP50Ms', 'joinToFirstDeliveryP50Ms']) {
      expect(row[key], key).to.be.a('number').and.to.be.greaterThan(0).and.lessThan(10_000);
    }
  });

  it('refuses bad arguments with one line that names the problem', () => {
    const r = spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', cli, 'bench', 'viewchange', '--reps', 'many'], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/--reps must be an integer from 1 to 100, got "many"/);
    expect(r.stderr).to.match(/\(see derecho bench viewchange --help\)\n$/);
  });
});
