/**
 * An independent checker of allocator output against the properties of reference §2.14/§2.15:
 * written from the spec, not from the allocator's code, so the two can disagree.
 */
import { expect } from 'chai';
import type { Allocation, GroupLayout, ShardPolicy } from '../../src/layout/index.js';

export interface CheckInput {
  readonly layout: GroupLayout;
  readonly members: readonly number[];
  readonly previous?: Pick<Allocation, 'types'>;
}

function allReserved(layout: GroupLayout): Set<number> {
  const out = new Set<number>();
  for (const { layout: l } of layout) {
    if (l.kind === 'sharded') for (const sg of l.subgroups) for (const sh of sg.shards) for (const id of sh.reservedNodeIds) out.add(id);
  }
  return out;
}

/** Shards in layout order with their policies and previous survivors. */
function shardsOf(input: CheckInput): { t: number; g: number; s: number; policy: ShardPolicy; survivors: number[] }[] {
  const memberSet = new Set(input.members);
  const out: { t: number; g: number; s: number; policy: ShardPolicy; survivors: number[] }[] = [];
  input.layout.forEach(({ layout: l }, t) => {
    if (l.kind !== 'sharded') return;
    l.subgroups.forEach((sg, g) =>
      sg.shards.forEach((policy, s) => {
        const before = input.previous?.types[t].subgroups[g][s].members ?? [];
        out.push({ t, g, s, policy, survivors: before.filter((id) => memberSet.has(id)) });
      }),
    );
  });
  return out;
}

/**
 * The fewest distinct nodes a view needs: every node that must stay put (survivors, reserved ids
 * present), plus for each shard the members still missing to reach its minimum.
 */
export function nodesNeeded(input: CheckInput): number {
  const memberSet = new Set(input.members);
  const pinned = new Set<number>();
  let missing = 0;
  for (const { policy, survivors } of shardsOf(input)) {
    const inherent = new Set([...survivors, ...policy.reservedNodeIds.filter((id) => memberSet.has(id))]);
    for (const id of inherent) pinned.add(id);
    missing += Math.max(0, policy.minNodes - inherent.size);
  }
  return pinned.size + missing;
}

/** Asserts every allocation property; returns nothing, fails the test on the first breach. */
export function checkAllocation(input: CheckInput, allocation: Allocation): void {
  const { layout, members, previous } = input;
  const memberSet = new Set(members);
  const reserved = allReserved(layout);
  expect(allocation.types.map((t) => t.type)).to.deep.equal(layout.map((e) => e.type), 'types in layout order');

  const placedNonReserved = new Map<number, string>();
  let spareCapacity = false;
  for (const { t, g, s, policy, survivors } of shardsOf(input)) {
    const where = `${layout[t].type}[${g}] shard ${s}`;
    const shard = allocation.types[t].subgroups[g][s];
    expect(shard, where).to.not.equal(undefined);
    expect(shard.senders.length, `${where} senders`).to.equal(shard.members.length);
    expect(new Set(shard.members).size, `${where} has no duplicate`).to.equal(shard.members.length);
    for (const id of shard.members) expect(memberSet.has(id), `${where} member ${id} is in the view`).to.equal(true);
    expect(shard.mode, `${where} mode`).to.equal(policy.mode);
    expect(shard.profile, `${where} profile`).to.equal(policy.profile);

    // Survivors stay, in their old order, with their old sender flags.
    const before = previous?.types[t].subgroups[g][s];
    expect(shard.members.slice(0, survivors.length), `${where} keeps survivors first`).to.deep.equal(survivors);
    if (before) {
      for (const id of survivors) {
        expect(shard.senders[shard.members.indexOf(id)], `${where} keeps sender flag of ${id}`).to.equal(before.senders[before.members.indexOf(id)]);
      }
    }
    // Present reserved ids are always in; reserved ids of other shards never come in as fillers.
    const presentReserved = policy.reservedNodeIds.filter((id) => memberSet.has(id));
    for (const id of presentReserved) expect(shard.members, `${where} holds reserved ${id}`).to.include(id);
    for (const id of shard.members) {
      if (reserved.has(id) && !policy.reservedNodeIds.includes(id)) {
        expect(survivors, `${where}: ${id} is reserved elsewhere, so only a survivor may hold it here`).to.include(id);
      }
      if (!reserved.has(id)) {
        expect(placedNonReserved.has(id), `non-reserved ${id} in ${where} and ${placedNonReserved.get(id)}`).to.equal(false);
        placedNonReserved.set(id, where);
      }
    }
    // Sizes within [min, max], max stretched only by what must stay (survivors, reserved ids).
    const inherent = new Set([...survivors, ...presentReserved]).size;
    expect(shard.members.length, `${where} size ≥ min`).to.be.at.least(policy.minNodes);
    expect(shard.members.length, `${where} size ≤ max`).to.be.at.most(Math.max(policy.maxNodes, inherent));
    if (shard.members.length < policy.maxNodes) spareCapacity = true;
    // Senders: everyone, unless the shard lists reserved senders.
    shard.members.forEach((id, k) => {
      const isSurvivor = survivors.includes(id);
      if (isSurvivor) return;
      const expected = policy.reservedSenderIds.length === 0 || policy.reservedSenderIds.includes(id);
      expect(shard.senders[k], `${where} sender flag of new member ${id}`).to.equal(expected);
    });
  }
  // Shards of one subgroup are disjoint.
  layout.forEach(({ layout: l }, t) => {
    if (l.kind !== 'sharded') return;
    allocation.types[t].subgroups.forEach((shards, g) => {
      const seen = new Set<number>();
      for (const shard of shards) {
        for (const id of shard.members) {
          expect(seen.has(id), `${layout[t].type}[${g}]: ${id} in two shards`).to.equal(false);
          seen.add(id);
        }
      }
    });
    expect(allocation.types[t].subgroups.length).to.equal(l.subgroups.length);
  });
  // Spares only when every shard is full; spares are exactly the members in no sharded shard.
  const inSharded = new Set<number>();
  layout.forEach(({ layout: l }, t) => {
    if (l.kind === 'sharded') for (const shards of allocation.types[t].subgroups) for (const sh of shards) for (const id of sh.members) inSharded.add(id);
  });
  expect(allocation.unassigned).to.deep.equal(members.filter((id) => !inSharded.has(id)));
  const spareNonReserved = allocation.unassigned.filter((id) => !reserved.has(id));
  if (spareCapacity) expect(spareNonReserved, 'no spare node while a shard is below its max').to.deep.equal([]);

  // Whole-view and cross-product types.
  layout.forEach(({ type, layout: l }, t) => {
    if (l.kind === 'wholeView') {
      expect(allocation.types[t].subgroups).to.have.length(1);
      expect(allocation.types[t].subgroups[0][0].members).to.deep.equal([...members]);
    }
    if (l.kind === 'crossProduct') {
      const source = allocation.types.find((x) => x.type === l.source.type)!.subgroups[l.source.index];
      const target = allocation.types.find((x) => x.type === l.target.type)!.subgroups[l.target.index];
      const senders = source.flatMap((s) => s.members);
      const got = allocation.types[t].subgroups;
      expect(got.length, `${type} count`).to.equal(senders.length * target.length);
      senders.forEach((sender, i) =>
        target.forEach((targetShard, j) => {
          const [only] = got[i * target.length + j];
          expect(only.members[0]).to.equal(sender);
          expect(new Set(only.members)).to.deep.equal(new Set([sender, ...targetShard.members]));
          expect(only.senders).to.deep.equal(only.members.map((_, k) => k === 0));
        }),
      );
    }
  });
}

/** Derecho's test helper `make_next_view`: drop members at `ranks`, append `joiners`. */
export function nextMembers(members: readonly number[], failedRanks: Iterable<number>, joiners: readonly number[] = []): number[] {
  const failed = new Set(failedRanks);
  return [...members.filter((_, rank) => !failed.has(rank)), ...joiners];
}

export function range(from: number, toExclusive: number): number[] {
  return Array.from({ length: toExclusive - from }, (_, i) => from + i);
}
