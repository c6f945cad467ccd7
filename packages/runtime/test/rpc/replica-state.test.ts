import { expect } from 'chai';
import { restoreReplica, snapshotReplica } from '../../src/rpc/replica-state.js';

describe('replica state for state transfer', () => {
  it('carries own fields, structured (Map, Set, Date, bytes, bigint, shared references)', () => {
    class Store {
      items = new Map<string, Uint8Array>();
      tags = new Set<string>();
      since = new Date(0);
      total = 0n;
      pair: { a: number[]; b?: number[] } = { a: [1, 2] };
    }
    const from = new Store();
    from.items.set('k', Uint8Array.of(1, 2, 3));
    from.tags.add('x');
    from.since = new Date(1_700_000_000_000);
    from.total = 2n ** 70n;
    from.pair.b = from.pair.a;
    const to = new Store();
    restoreReplica(to, snapshotReplica(from));
    expect([...to.items.keys()]).to.deep.equal(['k']);
    expect([...to.items.get('k')!]).to.deep.equal([1, 2, 3]);
    expect([...to.tags]).to.deep.equal(['x']);
    expect(to.since.getTime()).to.equal(1_700_000_000_000);
    expect(to.total).to.equal(2n ** 70n);
    expect(to.pair.b).to.equal(to.pair.a);
    expect(to).to.be.instanceOf(Store);
  });

  it('uses snapshotState / restoreState when the class defines them', () => {
    class Counter {
      private n = 0;
      cache = 'not transferred';
      bump(): void {
        this.n++;
      }
      get value(): number {
        return this.n;
      }
      snapshotState(): unknown {
        return { n: this.n };
      }
      restoreState(state: unknown): void {
        this.n = (state as { n: number }).n;
      }
    }
    const from = new Counter();
    from.bump();
    from.bump();
    from.cache = 'changed';
    const to = new Counter();
    restoreReplica(to, snapshotReplica(from));
    expect(to.value).to.equal(2);
    expect(to.cache).to.equal('not transferred');
  });

  it('refuses state that is not an object of fields', async () => {
    const { Packr } = await import('msgpackr');
    expect(() => restoreReplica({}, new Packr({ structuredClone: true, moreTypes: true }).pack(5))).to.throw(TypeError, /must be an object of fields, got number/);
  });
});
