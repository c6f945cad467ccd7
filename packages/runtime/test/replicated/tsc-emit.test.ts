import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * tsx lowers decorators with esbuild, whose helpers fall back to Symbol.for('Symbol.metadata').
 * A project built with tsc instead gets tsc's helpers, which read Symbol.metadata only; on Node
 * 20/22 that symbol exists only because the runtime defines it. This runs tsc's output for real.
 */
describe('replicated decorators compiled by tsc (standard mode)', () => {
  const file = join(here, `.tsc-emit-${process.pid}.mjs`);
  after(() => rmSync(file, { force: true }));

  it('records metadata from tsc-lowered standard decorators', () => {
    const source = `
import { Ordered, P2P, Replicated } from '@derecho-ts/runtime';
import { getReplicatedMetadata } from '@derecho-ts/runtime/internals';
@Replicated()
class Foo {
  @Ordered() @P2P() readState() { return 1; }
  @Ordered() changeState(n) { return n; }
}
console.log(JSON.stringify(getReplicatedMetadata(Foo)));
`;
    const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
    expect(js).to.contain('__esDecorate'); // tsc's own lowering, not esbuild's
    writeFileSync(file, js);
    const child = spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', file], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).to.equal('');
    expect(JSON.parse(child.stdout)).to.deep.equal({ name: 'Foo', ordered: ['changeState', 'readState'], p2p: ['readState'], dialect: 'standard' });
  });
});
