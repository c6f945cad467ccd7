import { expect } from 'chai';
import { RUNTIME_IMPORT, messages, run } from './helpers.js';

describe('codegen validate', () => {
  it('accepts every supported type and normalizes it', () => {
    const result = run({
      '/src/a.ts': `${RUNTIME_IMPORT}
import { Money } from './money.js';
export interface Tree { label: string; children: Tree[] }
export type Mode = 'fast' | 'safe';
export enum Level { Low = 1, High = 2 }
@Replicated() export class All {
  @Ordered() prims(s: string, n: number, b: boolean, big: bigint, u: undefined, nul: null, lit: 42, t: true): void {}
  @Ordered() bytes(a: Uint8Array, b: Buffer, d: Date, arr: readonly string[], tup: [number, string]): Promise<bigint> { return Promise.resolve(1n); }
  @Ordered() collections(m: Map<string, number[]>, s: ReadonlySet<bigint>, r: Record<string, Date | null>): Map<number, Set<string>> { return new Map(); }
  @P2P() shapes(tree: Tree, mode: Mode, level: Level, anon: { x: number; y?: string }, opt?: boolean, dflt = 3): Tree | undefined { return undefined; }
  @P2P() custom(m: Money, maybe: Money | null): Money[] { return []; }
  @P2P() async nothing(): Promise<void> {}
}`,
      '/src/money.ts': `export class Money { constructor(readonly cents: bigint) {} toWire(): bigint { return this.cents; } static fromWire(w: bigint): Money { return new Money(w); } }`,
    });
    expect(messages(result)).to.deep.equal([]);
    const sig = Object.fromEntries(Object.entries(result.lock!.classes.All.methods).map(([name, m]) => [name, m.signature]));
    expect(sig).to.deep.equal({
      prims: '(string, number, boolean, bigint, undefined, null, 42, true) => void',
      bytes: '(Uint8Array, Buffer, Date, string[], [number, string]) => bigint',
      collections: '(Map<string, number[]>, Set<bigint>, Record<string, Date | null>) => Map<number, Set<string>>',
      shapes: '(Tree{ children: Tree[]; label: string }, "fast" | "safe", 1 | 2, { x: number; y?: string }, boolean?, number?) => Tree{ children: Tree[]; label: string } | undefined',
      custom: '(Money{ toWire: bigint }, Money{ toWire: bigint } | null) => Money{ toWire: bigint }[]',
      nothing: '() => void',
    });
  });

  it('reports every unserializable type together, naming file:line:column, class, method, parameter and type', () => {
    const result = run({
      '/src/a.ts': `${RUNTIME_IMPORT}
export interface Options { name: string; onDone: () => void; nested: { when: WeakMap<object, string> } }
export class Plain { x = 1; }
@Replicated() export class Bad {
  @Ordered() anyArg(x: any, y: unknown): void {}
  @Ordered() fn(cb: (x: number) => void): symbol { return Symbol(); }
  @P2P() opts(o: Options): RegExp { return /x/; }
  @P2P() inst(p: Plain, list: Promise<number>[]): void {}
  @P2P() generic<T>(value: T): T { return value; }
  @Ordered() rest(...items: string[]): void {}
  @Ordered() tuple(t: [number, string?]): void {}
  @P2P() shape(s: Shape): void {}
}
export interface Shape { area(): number; name: string }
class Hidden { toWire(): number { return 1; } static fromWire(n: number): Hidden { return new Hidden(); } }
@Replicated() class Unexported {
  @Ordered() useHidden(h: Hidden): void {}
}`,
    });
    expect(messages(result)).to.deep.equal([
      "src/a.ts:6:21: Bad.anyArg parameter 'x': type 'any' is not serializable: any cannot be checked; declare the actual type",
      "src/a.ts:6:29: Bad.anyArg parameter 'y': type 'unknown' is not serializable: unknown cannot be checked; declare the actual type",
      "src/a.ts:7:14: Bad.fn result: type 'symbol' is not serializable: symbols cannot cross processes",
      "src/a.ts:7:17: Bad.fn parameter 'cb': type '(x: number) => void' is not serializable: a function",
      "src/a.ts:8:10: Bad.opts result: type 'RegExp' is not serializable: RegExp is a built-in type without a wire form",
      "src/a.ts:8:15: Bad.opts parameter 'o': type '() => void' (at Options.onDone) is not serializable: a function",
      "src/a.ts:8:15: Bad.opts parameter 'o': type 'WeakMap<object, string>' (at Options.nested.when) is not serializable: WeakMap is a built-in type without a wire form",
      "src/a.ts:9:15: Bad.inst parameter 'p': type 'Plain' is not serializable: an instance of the class Plain, which does not marshal itself (give it a toWire() method and a static fromWire(wire) that rebuilds it)",
      "src/a.ts:9:25: Bad.inst parameter 'list': type 'Promise<number>' (at []) is not serializable: a Promise can only be a method’s result, not part of a value",
      'src/a.ts:10:10: Bad.generic result: type \'T\' is not serializable: a type parameter; replicated methods cannot be generic',
      'src/a.ts:10:10: Bad.generic: generic methods cannot be replicated (type parameters T)',
      "src/a.ts:10:21: Bad.generic parameter 'value': type 'T' is not serializable: a type parameter; replicated methods cannot be generic",
      "src/a.ts:11:19: Bad.rest parameter 'items': rest parameters are not supported; take an array",
      "src/a.ts:12:20: Bad.tuple parameter 't': type '[number, (string | undefined)?]' is not serializable: tuples with optional or rest elements are not supported; use an array or an object",
      "src/a.ts:13:16: Bad.shape parameter 's': type 'Shape' is not serializable: an object with methods (area); values must be plain data",
      'src/a.ts:16:1: Hidden must be exported: replicated methods marshal it, so the generated file imports it',
      'src/a.ts:17:21: Unexported must be exported: the generated file imports it',
    ]);
    expect(result.outputs).to.deep.equal([]);
  });

  it('refuses @P2P() methods named like the historical-read helpers of p2p stubs (at, asOf, history)', () => {
    const result = run({
      '/src/a.ts': `${RUNTIME_IMPORT}
@Replicated() export class Clash {
  @P2P() at(i: number): number { return i; }
  @Ordered() history(): void {}
}`,
    });
    expect(messages(result)).to.deep.equal([
      "src/a.ts:4:10: Clash.at: a @P2P() method cannot be named 'at': p2p stubs use at, asOf and history for historical reads; rename the method",
    ]);
  });
});
