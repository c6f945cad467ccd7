import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { generate } from '@derecho-ts/codegen';
import { RUNTIME_IMPORT, memoryProject } from './helpers.js';

const goldenDir = join(dirname(fileURLToPath(import.meta.url)), 'golden');
/** UPDATE_GOLDEN=1 rewrites the golden files instead of comparing (review the diff, then commit). */
const update = process.env.UPDATE_GOLDEN === '1';

const SOURCES: Record<string, string> = {
  '/src/store/kv.ts': `${RUNTIME_IMPORT}import { Money } from '../money.js';
export interface Query { prefix: string; limit?: number; after?: Date }
export interface Tree { label: string; children: Tree[] }
@Replicated() export class KVStore {
  @Ordered() put(key: string, value: Uint8Array): bigint { return 1n; }
  @P2P() get(key: string): Uint8Array | undefined { return undefined; }
  @Ordered() @P2P() async scan(q: Query): Promise<Map<string, Set<Date>>> { return new Map(); }
  @Ordered() deposit(amount: Money, memo: string | null): Money { return amount; }
  @P2P() tree(): Tree { return { label: '', children: [] }; }
}`,
  '/src/money.ts': `export class Money {
  constructor(readonly cents: bigint) {}
  toWire(): { cents: bigint } { return { cents: this.cents }; }
  static fromWire(w: { cents: bigint }): Money { return new Money(w.cents); }
}`,
  '/src/demo.ts': `${RUNTIME_IMPORT}@Replicated() export class Foo {
  @Ordered() @P2P() readState(): number { return 0; }
  @Ordered() changeState(next: number): boolean { return true; }
}
@Replicated({ name: 'Journal' }) export class Bar {
  @Ordered() append(words: string): void {}
  @Ordered() clear(): void {}
}`,
};

function runOn(files: Record<string, string>, lockText?: string, generatedText?: string) {
  const project = memoryProject(files);
  if (lockText !== undefined) project.getFileSystem().writeFileSync('/derecho.schema.lock.json', lockText);
  if (generatedText !== undefined) project.getFileSystem().writeFileSync('/src/derecho.generated.ts', generatedText);
  return generate({ project, rootDir: '/' });
}

function golden(name: string, actual: string): void {
  const path = join(goldenDir, name);
  if (update) writeFileSync(path, actual);
  expect(actual).to.equal(readFileSync(path, 'utf8'), `${name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)`);
}

describe('codegen emit (golden files)', () => {
  it('emits the generated module and the lock byte for byte', () => {
    const result = runOn(SOURCES);
    expect(result.errors).to.deep.equal([]);
    expect(result.outputs.map((o) => o.path)).to.deep.equal(['/src/derecho.generated.ts', '/derecho.schema.lock.json']);
    golden('basic.generated.ts.golden', result.outputs[0].content);
    golden('basic.lock.json.golden', result.outputs[1].content);
  });

  it('is deterministic: the same input gives the same bytes, whatever the file order', () => {
    const first = runOn(SOURCES);
    const reversed = runOn(Object.fromEntries(Object.entries(SOURCES).reverse()));
    expect(reversed.outputs.map((o) => o.content)).to.deep.equal(first.outputs.map((o) => o.content));
  });

  it('reports nothing changed when run again on its own output', () => {
    const first = runOn(SOURCES);
    const again = runOn(SOURCES, first.outputs[1].content, first.outputs[0].content);
    expect(again.outputs.map((o) => o.changed)).to.deep.equal([false, false]);
    expect(again.outputs.map((o) => o.content)).to.deep.equal(first.outputs.map((o) => o.content));
  });

  it('puts every object shape into the record structures, sorted', () => {
    const result = runOn(SOURCES);
    const text = result.outputs[0].content;
    expect(text).to.contain("structures: [['cents'], ['label', 'children'], ['prefix', 'limit', 'after']]");
  });
});
