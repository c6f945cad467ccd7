import { expect } from 'chai';
import { RUNTIME_IMPORT, messages, run } from './helpers.js';

describe('codegen discover', () => {
  it('finds every @Replicated class and its @Ordered/@P2P methods, a method possibly both', () => {
    const result = run({
      '/src/a.ts': `${RUNTIME_IMPORT}
@Replicated() export class Foo {
  @Ordered() @P2P() readState(): number { return 0; }
  @Ordered() changeState(next: number): boolean { return true; }
  plain(): void {}
}`,
      '/src/b.ts': `import * as derecho from '@derecho-ts/runtime';
import { Ordered as Write } from '@derecho-ts/runtime';
@derecho.Replicated({ name: 'Journal' }) export class Bar {
  @Write() append(words: string): void {}
  @derecho.P2P() print(): string { return ''; }
}`,
    });
    expect(messages(result)).to.deep.equal([]);
    const model = result.model!;
    expect(model.classes.map((c) => ({ name: c.name, className: c.className, file: c.file, methods: c.methods.map((m) => [m.name, m.ordered, m.p2p]) }))).to.deep.equal([
      { name: 'Foo', className: 'Foo', file: 'src/a.ts', methods: [['changeState', true, false], ['readState', true, true]] },
      { name: 'Journal', className: 'Bar', file: 'src/b.ts', methods: [['append', true, false], ['print', false, true]] },
    ]);
  });

  it('ignores decorators of the same name imported from elsewhere', () => {
    const result = run({
      '/src/a.ts': `import { Ordered } from './mine.js';
export class NotOurs { @Ordered() put(): void {} }`,
      '/src/mine.ts': `export function Ordered() { return (..._args: unknown[]) => {}; }`,
    });
    expect(messages(result)).to.deep.equal([]);
    expect(result.model!.classes).to.deep.equal([]);
  });

  it('reports misuse, all at once, with file:line:column', () => {
    const result = run({
      '/src/a.ts': `${RUNTIME_IMPORT}
export class Forgotten {
  @Ordered() put(): void {}
}
@Replicated() export class Misused {
  @Ordered() count = 1;
  @P2P() static make(): void {}
  @Ordered put2(): void {}
  @Ordered({ renamedFrom: someVariable }) put3(): void {}
  @P2P({ id: 4 }) get(): void {}
  @Replicated() nested(): void {}
}
declare const someVariable: string;
@Replicated({ name: 'Misused' }) export class Clash {}
`,
    });
    expect(messages(result)).to.deep.equal([
      'src/a.ts:3:1: Forgotten has @Ordered() put but is not decorated with @Replicated()',
      'src/a.ts:7:3: Misused.count: @Ordered() decorates methods, but count is not a method',
      'src/a.ts:8:3: Misused.make: @P2P() decorates instance methods, but make is static',
      'src/a.ts:9:3: Misused.put2: @Ordered(): write the decorator with parentheses, @Ordered()',
      "src/a.ts:10:14: Misused.put3: @Ordered(): option 'renamedFrom' must be a non-empty string literal",
      "src/a.ts:11:10: Misused.get: @P2P(): unknown option 'id' (known: renamedFrom)",
      'src/a.ts:12:3: Misused: @Replicated() decorates classes, not members',
      'src/a.ts:15:1: two @Replicated() classes are named Misused (the other is at src/a.ts:6:1); give one a distinct @Replicated({ name })',
    ]);
    expect(result.outputs).to.deep.equal([]);
  });

  it('refuses overloaded methods', () => {
    const result = run({
      '/src/a.ts': `${RUNTIME_IMPORT}
@Replicated() export class C {
  put(k: string): void;
  @Ordered() put(k: string | number): void {}
}`,
    });
    expect(messages(result)).to.deep.equal(['src/a.ts:5:3: C.put: overloaded methods cannot be replicated (one signature per wire id)']);
  });
});
