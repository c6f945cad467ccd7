/**
 * The API reference builds from the public entry point's TSDoc without a warning (typedoc.json
 * treats warnings as errors): every type a public declaration refers to is itself public, and
 * every {@link} resolves. `npm run docs` writes it to docs/api.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runtimeDir = fileURLToPath(new URL('../../', import.meta.url));
// The workspace root's bin link (typedoc's package exports do not include its bin script).
const typedoc = fileURLToPath(new URL('../../../../node_modules/.bin/typedoc', import.meta.url));

describe('API reference (typedoc)', function () {
  this.timeout(240_000);

  it('builds from src/index.ts with no warnings', () => {
    const r = spawnSync(typedoc, ['--emit', 'none'], { cwd: runtimeDir, encoding: 'utf8', timeout: 200_000 });
    const output = `${r.stdout}${r.stderr}`;
    expect(output).to.not.match(/warning|error/i);
    expect(r.status, output).to.equal(0);
  });
});
