import { expect } from 'chai';
import {
  LayoutSpecError,
  crossProduct,
  customShards,
  fixedShards,
  identicalSubgroups,
  shards,
  subgroups,
  wholeView,
  type DeliveryMode,
  type GroupLayout,
} from '../../src/index.js';
import { SubgroupAllocator, numberSubgroups, placementsOf, subgroupShards, validateGroupLayout } from '../../src/internals.js';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(LayoutSpecError);
    return (err as Error).message;
  }
  throw new Error('expected a LayoutSpecError');
}

describe('layout: specs and constructors', () => {
  it('shards() builds count identical shards with defaults', () => {
    const layout = shards({ count: 2, minNodes: 2, maxNodes: 3, mode: 'persistent' });
    expect(layout).to.deep.equal({
      kind: 'sharded',
      subgroups: [{ shards: [0, 1].map(() => ({ minNodes: 2, maxNodes: 3, mode: 'persistent', profile: 'default', reservedNodeIds: [], reservedSenderIds: [] })) }],
    });
    expect(Object.isFrozen(layout.subgroups[0].shards[0])).to.equal(true);
    expect(shards({ minNodes: 3 }).subgroups[0].shards).to.deep.equal([
      { minNodes: 3, maxNodes: 3, mode: 'ordered', profile: 'default', reservedNodeIds: [], reservedSenderIds: [] },
    ]);
    expect(fixedShards({ count: 3, nodes: 2, mode: 'unordered' })).to.deep.equal(shards({ count: 3, minNodes: 2, maxNodes: 2, mode: 'unordered' }));
  });

  it('constructors name the bad argument', () => {
    expect(messageOf(() => shards({ count: 2, minNodes: 3, maxNodes: 2 }))).to.equal('invalid subgroup layout: shards({ maxNodes }): must be ≥ minNodes (3), got 2');
    expect(messageOf(() => shards({ count: 0, minNodes: 1 }))).to.equal('invalid subgroup layout: shards({ count }): expected a positive integer, got 0');
    expect(messageOf(() => shards({ count: 1.5, minNodes: 0, mode: 'total' as DeliveryMode }))).to.equal(
      'invalid subgroup layout (3 problems):\n' +
        '  shards({ count }): expected a positive integer, got 1.5\n' +
        '  shards({ minNodes }): expected a positive integer, got 0\n' +
        '  shards({ mode }): expected one of "ordered", "unordered", "persistent", got "total"',
    );
    expect(messageOf(() => shards({ minNodes: '2' as unknown as number }))).to.equal(
      'invalid subgroup layout: shards({ minNodes }): expected a positive integer, got "2"',
    );
    expect(messageOf(() => fixedShards({ nodes: -1 }))).to.equal('invalid subgroup layout: fixedShards({ nodes }): expected a positive integer, got -1');
    expect(messageOf(() => shards({ minNodes: 1, profile: '' }))).to.equal('invalid subgroup layout: shards({ profile }): expected a non-empty profile name, got ""');
    expect(messageOf(() => identicalSubgroups(0, shards({ minNodes: 1 })))).to.equal('invalid subgroup layout: identicalSubgroups(count): expected a positive integer, got 0');
    expect(messageOf(() => customShards([]))).to.equal('invalid subgroup layout: customShards(shards): expected a non-empty array of shard options, got []');
  });

  it('customShards() checks reserved ids and senders', () => {
    expect(
      messageOf(() =>
        customShards([
          { minNodes: 1, reservedNodeIds: [1, 2, 2], reservedSenderIds: [3] },
          { minNodes: 1, maxNodes: 2, reservedNodeIds: [2, -4] },
        ]),
      ),
    ).to.equal(
      'invalid subgroup layout (4 problems):\n' +
        '  customShards([0].reservedNodeIds)[2]: node id 2 is listed twice\n' +
        '  customShards([0].reservedSenderIds)[0]: sender 3 is not one of this shard\'s reserved node ids\n' +
        '  customShards([1].reservedNodeIds)[0]: node id 2 is also reserved by shard 0 of the same subgroup; a node can be in only one shard of a subgroup\n' +
        '  customShards([1].reservedNodeIds)[1]: expected a node id (an integer from 0 to 4294967295), got -4',
    );
    const ok = customShards([{ minNodes: 2, maxNodes: 4, mode: 'unordered', profile: 'LARGE', reservedNodeIds: [7, 8], reservedSenderIds: [7] }]);
    expect(ok.subgroups[0].shards[0]).to.deep.equal({ minNodes: 2, maxNodes: 4, mode: 'unordered', profile: 'LARGE', reservedNodeIds: [7, 8], reservedSenderIds: [7] });
  });

  it('the same id may be reserved in different subgroups (overlap), not twice in one', () => {
    const layout = subgroups(customShards([{ minNodes: 1, reservedNodeIds: [5] }]), customShards([{ minNodes: 1, reservedNodeIds: [5] }]));
    expect(layout.subgroups).to.have.length(2);
    const allocation = new SubgroupAllocator([{ type: 'A', layout }]).allocate([5]);
    expect(allocation.types[0].subgroups.map((sg) => sg[0].members)).to.deep.equal([[5], [5]]);
  });

  it('validates a whole group layout, with every problem and its path', () => {
    const bad: GroupLayout = [
      { type: 'KV', layout: shards({ minNodes: 1 }) },
      { type: 'KV', layout: wholeView() },
      { type: 'Cross', layout: crossProduct({ source: { type: 'KVS', index: 0 }, target: { type: 'KV', index: 3 } }) },
      { type: 'Cross2', layout: crossProduct({ source: { type: 'Cross', index: 0 }, target: { type: 'KV', index: 0 } }) },
      { type: '', layout: { kind: 'sharded', subgroups: [] } },
      { type: 'Odd', layout: { kind: 'ring' } as never },
    ];
    expect(messageOf(() => validateGroupLayout(bad))).to.equal(
      'invalid subgroup layout (7 problems):\n' +
        '  layout[1] (KV).type: type "KV" is laid out twice (also at index 0)\n' +
        '  layout[4].type: expected a non-empty type name, got ""\n' +
        '  layout[2] (Cross).source.type: no type "KVS" in this layout (types: "KV", "KV", "Cross", "Cross2", "", "Odd")\n' +
        '  layout[2] (Cross).target.index: type "KV" has 1 subgroup, so index 3 is out of range\n' +
        '  layout[3] (Cross2).source.type: type "Cross" is itself a cross-product; a cross-product must refer to sharded or whole-view subgroups\n' +
        '  layout[4].subgroups: expected at least one subgroup, got []\n' +
        '  layout[5] (Odd).kind: expected "sharded", "crossProduct" or "wholeView", got "ring"',
    );
    expect(() => new SubgroupAllocator(bad)).to.throw(LayoutSpecError);
  });

  it('whole-view subgroups overlap everything and need no members of their own', () => {
    const allocator = new SubgroupAllocator([
      { type: 'Meta', layout: wholeView({ mode: 'unordered' }) },
      { type: 'KV', layout: shards({ count: 2, minNodes: 1, maxNodes: 2 }) },
    ]);
    expect(allocator.minimumNodes).to.equal(2);
    const allocation = allocator.allocate([4, 9, 2]);
    expect(allocation.types[0].subgroups).to.deep.equal([[{ members: [4, 9, 2], senders: [true, true, true], mode: 'unordered', profile: 'default' }]]);
    // Sizes first (round-robin growth: shard 0 reaches 2), then members in rank order.
    expect(allocation.types[1].subgroups.map((sg) => sg.map((s) => s.members))).to.deep.equal([[[4, 9], [2]]]);
    expect(numberSubgroups(allocation).map((s) => [s.subgroupId, s.type, s.index])).to.deep.equal([
      [0, 'Meta', 0],
      [1, 'KV', 0],
    ]);
    expect(subgroupShards(allocation, 'KV')?.[1].members).to.deep.equal([2]);
    expect(subgroupShards(allocation, 'Nope')).to.equal(undefined);
    expect(placementsOf(allocation, 2)).to.deep.equal([
      { subgroupId: 0, type: 'Meta', index: 0, shard: 0 },
      { subgroupId: 1, type: 'KV', index: 0, shard: 1 },
    ]);
  });

  it('a cross-product source member inside the target shard is listed once', () => {
    const allocator = new SubgroupAllocator([
      { type: 'A', layout: customShards([{ minNodes: 2, reservedNodeIds: [1, 2] }]) },
      { type: 'B', layout: customShards([{ minNodes: 2, reservedNodeIds: [2, 3] }]) },
      { type: 'X', layout: crossProduct({ source: { type: 'A', index: 0 }, target: { type: 'B', index: 0 } }) },
    ]);
    const allocation = allocator.allocate([1, 2, 3]);
    expect(allocation.types[2].subgroups).to.deep.equal([
      [{ members: [1, 2, 3], senders: [true, false, false], mode: 'ordered', profile: 'default' }],
      [{ members: [2, 3], senders: [true, false], mode: 'ordered', profile: 'default' }],
    ]);
  });

  it('refuses a previous allocation of another layout (protocol bug, not user error)', () => {
    const allocator = new SubgroupAllocator([{ type: 'A', layout: shards({ count: 2, minNodes: 1 }) }]);
    const other = new SubgroupAllocator([{ type: 'A', layout: shards({ count: 3, minNodes: 1 }) }]).allocate([1, 2, 3]);
    expect(() => allocator.allocate([1, 2, 3], other)).to.throw(/invariant violated: layout.previous-matches-layout: type "A" subgroup 0: previous allocation has 3 shards, the layout 2/);
    expect(() => allocator.allocate([1, 1])).to.throw(/layout.members-distinct/);
  });
});
