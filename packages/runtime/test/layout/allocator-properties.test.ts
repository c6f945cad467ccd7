/**
 * Property tests of the default allocator over random layouts and random sequences of failures and
 * joins (reference §2.14 item 5, §2.15 items 7 and 9), checked by the independent checker.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  DELIVERY_MODES,
  InadequateLayoutError,
  SubgroupAllocator,
  type Allocation,
  type GroupLayout,
  type ShardPolicy,
  type TypeLayoutEntry,
} from '../../src/layout/index.js';
import { checkAllocation, nodesNeeded } from './check-allocation.js';

const MAX_ID = 59;

const shardArb = fc
  .record({ minNodes: fc.integer({ min: 1, max: 3 }), extra: fc.integer({ min: 0, max: 2 }), mode: fc.constantFrom(...DELIVERY_MODES) })
  .map(({ minNodes, extra, mode }): ShardPolicy => ({
    minNodes,
    maxNodes: minNodes + extra,
    mode,
    profile: 'default',
    reservedNodeIds: [],
    reservedSenderIds: [],
  }));

/** A subgroup whose shards may reserve ids 0..11 (each id by at most one shard of the subgroup). */
const subgroupArb = (withReserved: boolean) =>
  fc.array(shardArb, { minLength: 1, maxLength: 3 }).chain((shardPolicies) =>
    fc
      .record({
        owner: fc.array(fc.integer({ min: -6, max: shardPolicies.length - 1 }), { minLength: 12, maxLength: 12 }),
        sends: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
      })
      .map(({ owner, sends }) => ({
        shards: shardPolicies.map((policy, s) => {
          if (!withReserved) return policy;
          const reservedNodeIds = owner.flatMap((o, id) => (o === s ? [id] : []));
          return { ...policy, reservedNodeIds, reservedSenderIds: reservedNodeIds.filter((id) => sends[id]) };
        }),
      })),
  );

const layoutArb: fc.Arbitrary<GroupLayout> = fc
  .record({
    withReserved: fc.boolean(),
    typeCount: fc.integer({ min: 1, max: 3 }),
    wholeView: fc.boolean(),
    crossProduct: fc.boolean(),
  })
  .chain(({ withReserved, typeCount, wholeView, crossProduct }) =>
    fc.array(fc.array(subgroupArb(withReserved), { minLength: 1, maxLength: 2 }), { minLength: typeCount, maxLength: typeCount }).map((types) => {
      const entries: TypeLayoutEntry[] = types.map((subgroups, t) => ({ type: `T${t}`, layout: { kind: 'sharded', subgroups } }));
      if (wholeView) entries.push({ type: 'All', layout: { kind: 'wholeView', mode: 'unordered', profile: 'default' } });
      if (crossProduct) {
        entries.push({
          type: 'Cross',
          layout: { kind: 'crossProduct', source: { type: 'T0', index: 0 }, target: { type: `T${typeCount - 1}`, index: 0 }, mode: 'ordered', profile: 'default' },
        });
      }
      return entries;
    }),
  );

const changeArb = fc.record({
  failures: fc.array(fc.boolean(), { maxLength: 40 }),
  joiners: fc.uniqueArray(fc.integer({ min: 0, max: MAX_ID }), { maxLength: 10 }),
});

const scenarioArb = fc.record({
  layout: layoutArb,
  initial: fc.uniqueArray(fc.integer({ min: 0, max: MAX_ID }), { maxLength: 30 }),
  changes: fc.array(changeArb, { maxLength: 8 }),
});

function tryAllocate(allocator: SubgroupAllocator, members: readonly number[], previous?: Allocation): Allocation | InadequateLayoutError {
  try {
    return allocator.allocate(members, previous);
  } catch (err) {
    if (err instanceof InadequateLayoutError) return err;
    throw err;
  }
}

describe('layout: allocator properties', () => {
  it('every allocation along random failures and joins satisfies the layout properties', () => {
    fc.assert(
      fc.property(scenarioArb, ({ layout, initial, changes }) => {
        const allocator = new SubgroupAllocator(layout);
        let members = initial;
        let installed: Allocation | undefined;
        let adequateViews = 0;
        for (let step = 0; step <= changes.length; step++) {
          if (step > 0) {
            const { failures, joiners } = changes[step - 1];
            const survivors = members.filter((_, rank) => !failures[rank]);
            members = [...survivors, ...joiners.filter((id) => !survivors.includes(id))];
          }
          const input = { layout, members, previous: installed };
          const result = tryAllocate(allocator, members, installed);
          // Inadequate exactly when the view has fewer nodes than the layout needs.
          const needed = nodesNeeded(input);
          if (result instanceof InadequateLayoutError) {
            expect(needed, `step ${step}: inadequate although ${members.length} nodes suffice`).to.be.greaterThan(members.length);
            expect(result.nodesNeeded).to.equal(needed);
            expect(result.nodesAvailable).to.equal(members.length);
            continue; // never installed: the next view is again judged against the last installed one
          }
          expect(needed, `step ${step}: adequate although ${members.length} < ${needed}`).to.be.at.most(members.length);
          checkAllocation(input, result);
          // Deterministic: the same input gives the same output, from this or a fresh allocator.
          expect(allocator.allocate(members, installed)).to.deep.equal(result);
          expect(new SubgroupAllocator(layout).allocate(members, installed)).to.deep.equal(result);
          installed = result;
          adequateViews++;
        }
        return adequateViews >= 0;
      }),
      { numRuns: 300 },
    );
  });

  it('first views without reserved ids: inadequate iff fewer members than the sum of minimums; fills to max', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(subgroupArb(false), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 60 }),
        (types, memberCount) => {
          const layout: GroupLayout = types.map((subgroups, t) => ({ type: `T${t}`, layout: { kind: 'sharded', subgroups } }));
          const policies = types.flat().flatMap((sg) => sg.shards);
          const sumMin = policies.reduce((a, p) => a + p.minNodes, 0);
          const sumMax = policies.reduce((a, p) => a + p.maxNodes, 0);
          const members = Array.from({ length: memberCount }, (_, i) => 1000 - i);
          const result = tryAllocate(new SubgroupAllocator(layout), members);
          if (memberCount < sumMin) {
            expect(result).to.be.instanceOf(InadequateLayoutError);
            return;
          }
          expect(result).to.not.be.instanceOf(InadequateLayoutError);
          const allocation = result as Allocation;
          checkAllocation({ layout, members }, allocation);
          const assigned = allocation.types.flatMap((t) => t.subgroups.flat()).reduce((a, s) => a + s.members.length, 0);
          expect(assigned).to.equal(Math.min(memberCount, sumMax));
          // Members are handed out in rank order: the assigned ones are exactly the first ranks.
          expect(allocation.unassigned).to.deep.equal(members.slice(assigned));
          // Growth is even: no shard is more than one member above another shard's share of growth,
          // unless the other is at its max.
          const grown = allocation.types.flatMap((t) => t.subgroups.flat()).map((s, i) => ({ extra: s.members.length - policies[i].minNodes, full: s.members.length === policies[i].maxNodes }));
          for (const a of grown) for (const b of grown) if (!b.full) expect(a.extra - b.extra).to.be.at.most(1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
