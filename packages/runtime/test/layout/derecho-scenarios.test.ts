/**
 * The scenarios of Derecho's `subgroup_function_tester.cpp` (which only prints its layouts), with
 * assertions: fixed shards through failures and an inadequate view, flexible shards shrinking to
 * their minimum and re-expanding on joins, and overlapping subgroups from reserved ids in JSON.
 */
import { expect } from 'chai';
import {
  InadequateLayoutError,
  SubgroupAllocator,
  crossProduct,
  customShards,
  fixedShards,
  identicalSubgroups,
  layoutFromJson,
  shards,
  subgroups,
  type Allocation,
  type GroupLayout,
} from '../../src/layout/index.js';
import { checkAllocation, nextMembers, nodesNeeded, range } from './check-allocation.js';

function members(allocation: Allocation, type: string, subgroup = 0): number[][] {
  return allocation.types.find((t) => t.type === type)!.subgroups[subgroup].map((s) => [...s.members]);
}

function step(allocator: SubgroupAllocator, view: readonly number[], previous?: Allocation): Allocation {
  const allocation = allocator.allocate(view, previous);
  checkAllocation({ layout: allocator.layout, members: view, previous }, allocation);
  return allocation;
}

describe('layout: Derecho subgroup_function_tester scenarios', () => {
  describe('fixed shards (tests 1-5)', () => {
    const layout: GroupLayout = [
      { type: 'T1', layout: fixedShards({ count: 5, nodes: 3 }) },
      { type: 'T2', layout: fixedShards({ count: 1, nodes: 5 }) },
      { type: 'T3', layout: customShards([{ minNodes: 2 }, { minNodes: 5 }, { minNodes: 3 }]) },
      { type: 'T4', layout: identicalSubgroups(2, fixedShards({ count: 3, nodes: 4 })) },
      {
        type: 'T5',
        layout: subgroups(
          fixedShards({ count: 3, nodes: 3 }),
          customShards([{ minNodes: 4 }, { minNodes: 3 }, { minNodes: 4 }]),
          fixedShards({ count: 2, nodes: 2 }),
        ),
      },
      { type: 'T6', layout: crossProduct({ source: { type: 'T3', index: 0 }, target: { type: 'T1', index: 0 } }) },
    ];
    const allocator = new SubgroupAllocator(layout);
    const view0 = range(0, 100);
    let alloc0: Allocation;
    let view2: number[];
    let alloc2: Allocation;

    it('TEST 1: initial allocation hands out members in rank order', () => {
      expect(allocator.minimumNodes).to.equal(78);
      alloc0 = step(allocator, view0);
      expect(members(alloc0, 'T1')).to.deep.equal([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11], [12, 13, 14]]);
      expect(members(alloc0, 'T2')).to.deep.equal([range(15, 20)]);
      expect(members(alloc0, 'T3')).to.deep.equal([[20, 21], range(22, 27), [27, 28, 29]]);
      expect(members(alloc0, 'T4', 0)).to.deep.equal([range(30, 34), range(34, 38), range(38, 42)]);
      expect(members(alloc0, 'T4', 1)).to.deep.equal([range(42, 46), range(46, 50), range(50, 54)]);
      expect(members(alloc0, 'T5', 0)).to.deep.equal([range(54, 57), range(57, 60), range(60, 63)]);
      expect(members(alloc0, 'T5', 1)).to.deep.equal([range(63, 67), range(67, 70), range(70, 74)]);
      expect(members(alloc0, 'T5', 2)).to.deep.equal([[74, 75], [76, 77]]);
      expect(alloc0.unassigned).to.deep.equal(range(78, 100));
      // Cross-product: 10 members of T3[0] x 5 shards of T1[0]; subgroup i*5+j sends from member i to shard j.
      const t6 = alloc0.types[5].subgroups;
      expect(t6).to.have.length(50);
      expect(t6[0][0].members).to.deep.equal([20, 0, 1, 2]);
      expect(t6[0][0].senders).to.deep.equal([true, false, false, false]);
      expect(t6[2 * 5 + 3][0].members).to.deep.equal([22, 9, 10, 11]);
      expect(t6.every((sg) => sg.length === 1 && sg[0].mode === 'ordered')).to.equal(true);
    });

    it('TEST 2: failed members are replaced from the spares, survivors stay put', () => {
      const view1 = nextMembers(view0, [1, 3, 17, 38, 40]);
      alloc2 = step(allocator, view1, alloc0);
      view2 = view1;
      // Shards refill in layout order from the first spares (78, 79, ...).
      expect(members(alloc2, 'T1')[0]).to.deep.equal([0, 2, 78]);
      expect(members(alloc2, 'T1')[1]).to.deep.equal([4, 5, 79]);
      expect(members(alloc2, 'T2')).to.deep.equal([[15, 16, 18, 19, 80]]);
      expect(members(alloc2, 'T4', 0)[2]).to.deep.equal([39, 41, 81, 82]);
      expect(alloc2.unassigned).to.deep.equal(range(83, 100));
    });

    let view3: number[];
    let alloc3: Allocation;
    it('TEST 3: failures among assigned members and among spares', () => {
      const failedIds = [13, 20, 59, 78, 89].map((rank) => view2[rank]);
      expect(failedIds).to.deep.equal([15, 23, 64, 83, 94]);
      view3 = nextMembers(view2, [13, 20, 59, 78, 89]);
      alloc3 = step(allocator, view3, alloc2);
      // 15, 23 and 64 leave shards (refilled from 84, 85, 86); 83 and 94 were spares.
      expect(members(alloc3, 'T1')).to.deep.equal(members(alloc2, 'T1'));
      expect(members(alloc3, 'T2')).to.deep.equal([[16, 18, 19, 80, 84]]);
      expect(members(alloc3, 'T3')[1]).to.deep.equal([22, 24, 25, 26, 85]);
      expect(members(alloc3, 'T5', 1)[0]).to.deep.equal([63, 65, 66, 86]);
      expect(alloc3.unassigned).to.deep.equal([...range(87, 94), ...range(95, 100)]);
    });

    let failMany: number[];
    it('TEST 4: failing 50 members leaves an inadequate view', () => {
      expect(view3).to.have.length(90);
      failMany = range(39, 89);
      const view4 = nextMembers(view3, failMany);
      let caught: unknown;
      try {
        allocator.allocate(view4, alloc3);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(InadequateLayoutError);
      const error = caught as InadequateLayoutError;
      expect(error.nodesAvailable).to.equal(40);
      expect(error.nodesNeeded).to.equal(78);
      expect(error.nodesNeeded).to.equal(nodesNeeded({ layout, members: view4, previous: alloc3 }));
      expect(error.message).to.match(/^inadequate view: the subgroup layout needs at least 78 nodes but the view has 40 \(shards still to fill: /);
      expect(error.message).to.match(/the group stays wedged until more nodes join$/);
    });

    it('TEST 5: joins make the view adequate again (still relative to the last installed view)', () => {
      const view5 = nextMembers(view3, failMany, range(100, 140));
      expect(view5).to.have.length(80);
      const alloc5 = step(allocator, view5, alloc3);
      // Survivors first in every shard, the joiners fill the holes, two spares remain.
      // 78 failed: the surviving spare 99 outranks every joiner, then joiners in join order.
      expect(members(alloc5, 'T1')).to.deep.equal([[0, 2, 99], [4, 5, 100], [6, 7, 8], [9, 10, 11], [12, 13, 14]]);
      expect(members(alloc5, 'T2')).to.deep.equal([[16, 18, 19, 101, 102]]);
      expect(members(alloc5, 'T4', 1)).to.deep.equal([range(42, 46), range(106, 110), range(110, 114)]);
      expect(members(alloc5, 'T5', 2)).to.deep.equal([[134, 135], [136, 137]]);
      expect(alloc5.unassigned).to.deep.equal([138, 139]);
      // The cross-product follows T3[0]'s new member 103.
      expect(alloc5.types[5].subgroups[6 * 5][0].members).to.deep.equal([103, 0, 2, 99]);
    });
  });

  describe('flexible shards (tests 6-9)', () => {
    const layout: GroupLayout = [
      { type: 'T1', layout: shards({ count: 5, minNodes: 2, maxNodes: 3 }) },
      { type: 'T2', layout: customShards([{ minNodes: 2, maxNodes: 3 }, { minNodes: 5, maxNodes: 6 }, { minNodes: 3, maxNodes: 5 }]) },
      { type: 'T3', layout: identicalSubgroups(2, shards({ count: 3, minNodes: 4, maxNodes: 5 })) },
      {
        type: 'T4',
        layout: subgroups(
          shards({ count: 3, minNodes: 2, maxNodes: 4 }),
          customShards([{ minNodes: 4, maxNodes: 5 }, { minNodes: 3, maxNodes: 4 }, { minNodes: 4, maxNodes: 5 }]),
          shards({ count: 2, minNodes: 2, maxNodes: 4 }),
        ),
      },
    ];
    const allocator = new SubgroupAllocator(layout);
    const sizes = (a: Allocation): number[] => a.types.flatMap((t) => t.subgroups.flatMap((sg) => sg.map((s) => s.members.length)));
    const maxSizes = [3, 3, 3, 3, 3, 3, 6, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 5, 4, 5, 4, 4];
    const minSizes = [2, 2, 2, 2, 2, 2, 5, 3, 4, 4, 4, 4, 4, 4, 2, 2, 2, 4, 3, 4, 2, 2];
    let view: number[] = range(0, 100);
    let alloc: Allocation;

    it('TEST 6: with 100 members every shard is at its max, 7 spares', () => {
      expect(allocator.minimumNodes).to.equal(65);
      alloc = step(allocator, view);
      expect(sizes(alloc)).to.deep.equal(maxSizes);
      expect(alloc.unassigned).to.deep.equal(range(93, 100));
    });

    it('TEST 7: five failures are covered by the spares', () => {
      const next = nextMembers(view, [3, 6, 31, 45, 57]);
      alloc = step(allocator, next, alloc);
      view = next;
      expect(sizes(alloc)).to.deep.equal(maxSizes);
      expect(alloc.unassigned).to.deep.equal([98, 99]);
    });

    it('TEST 8: nine more failures shrink shards toward their minimum', () => {
      const next = nextMembers(view, [7, 8, 17, 18, 40, 41, 51, 61, 62]);
      const before = alloc;
      alloc = step(allocator, next, before);
      view = next;
      expect(next).to.have.length(86);
      expect(alloc.unassigned).to.deep.equal([]);
      const got = sizes(alloc);
      expect(got.reduce((a, b) => a + b, 0)).to.equal(86);
      got.forEach((size, i) => expect(size).to.be.within(minSizes[i], maxSizes[i]));
      // Survivors all stay; the shards that lost members and could not be refilled are smaller.
      expect(got).to.deep.equal([3, 3, 3, 2, 3, 3, 5, 5, 5, 5, 4, 4, 5, 4, 4, 3, 3, 5, 4, 5, 4, 4]);
      expect(members(alloc, 'T1')).to.deep.equal([[0, 1, 2], [4, 5, 93], [7, 8, 94], [11, 98], [12, 13, 14]]);
    });

    it('TEST 9: forty joins re-expand every shard to its max', () => {
      const next = nextMembers(view, [], range(100, 140));
      alloc = step(allocator, next, alloc);
      expect(sizes(alloc)).to.deep.equal(maxSizes);
      expect(alloc.unassigned).to.have.length(126 - 93);
    });
  });

  describe('overlapping subgroups from reserved ids in JSON (tests 10-14)', () => {
    const json = JSON.parse(`[
      { "type_alias": "TestType1",
        "layout": [ { "min_nodes_by_shard": ["2"], "max_nodes_by_shard": ["3"],
                      "reserved_node_ids_by_shard": [["*1", "2", "3"]],
                      "delivery_modes_by_shard": ["Ordered"], "profiles_by_shard": ["Default"] } ] },
      { "type_alias": "TestType2",
        "layout": [ { "min_nodes_by_shard": ["2"], "max_nodes_by_shard": ["3"],
                      "reserved_node_ids_by_shard": [["2", "3", "4"]],
                      "delivery_modes_by_shard": ["Ordered"], "profiles_by_shard": ["Default"] } ] }
    ]`) as unknown;
    const allocator = new SubgroupAllocator(layoutFromJson(json));
    const shard = (a: Allocation, t: number): { members: number[]; senders: boolean[] } => ({
      members: [...a.types[t].subgroups[0][0].members],
      senders: [...a.types[t].subgroups[0][0].senders],
    });
    let view = [0, 1, 2];
    let alloc: Allocation;

    it('TEST 10: reserved ids present go to every shard reserving them; only *1 sends in TestType1', () => {
      alloc = step(allocator, view);
      expect(shard(alloc, 0)).to.deep.equal({ members: [1, 2], senders: [true, false] });
      expect(shard(alloc, 1)).to.deep.equal({ members: [2, 0], senders: [true, true] });
      expect(alloc.types[0].subgroups[0][0].profile).to.equal('default');
    });

    it('TEST 11: reserved joiners 3 and 4 join their shards, even past maxNodes', () => {
      view = nextMembers(view, [], [3, 4]);
      alloc = step(allocator, view, alloc);
      expect(shard(alloc, 0)).to.deep.equal({ members: [1, 2, 3], senders: [true, false, false] });
      // As in Derecho, reserved ids are never turned away: 4 members in a shard of max 3.
      expect(shard(alloc, 1)).to.deep.equal({ members: [2, 0, 3, 4], senders: [true, true, true, true] });
    });

    it('TEST 12: nodes 0 and 2 fail; 2 was in both subgroups', () => {
      view = nextMembers(view, [0, 2]);
      expect(view).to.deep.equal([1, 3, 4]);
      alloc = step(allocator, view, alloc);
      expect(shard(alloc, 0)).to.deep.equal({ members: [1, 3], senders: [true, false] });
      expect(shard(alloc, 1)).to.deep.equal({ members: [3, 4], senders: [true, true] });
    });

    it('TEST 13: unreserved joiners 5 and 6 fill both shards up to max', () => {
      view = nextMembers(view, [], [5, 6]);
      alloc = step(allocator, view, alloc);
      expect(shard(alloc, 0)).to.deep.equal({ members: [1, 3, 5], senders: [true, false, false] });
      expect(shard(alloc, 1)).to.deep.equal({ members: [3, 4, 6], senders: [true, true, true] });
    });

    it('TEST 14: 3 and 5 fail, reserved node 2 rejoins both shards', () => {
      view = nextMembers(view, [1, 3], [2]);
      expect(view).to.deep.equal([1, 4, 6, 2]);
      alloc = step(allocator, view, alloc);
      expect(shard(alloc, 0)).to.deep.equal({ members: [1, 2], senders: [true, false] });
      expect(shard(alloc, 1)).to.deep.equal({ members: [4, 6, 2], senders: [true, true, true] });
      expect(alloc.unassigned).to.deep.equal([]);
    });

    it('an inadequate first view: only reserved ids, too few of them', () => {
      expect(() => allocator.allocate([1])).to.throw(InadequateLayoutError, 'needs at least 4 nodes but the view has 1');
    });
  });
});
