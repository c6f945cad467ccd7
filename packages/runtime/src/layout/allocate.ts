/**
 * Derecho's default subgroup allocator (reference §2.14, `src/core/subgroup_functions.cpp`), pure:
 * (layout, the view's members in rank order, the previous view's allocation) -> allocation, or
 * InadequateLayoutError when the view is too small.
 *
 * 1. Sizes. Each shard's "inherent" members are its survivors from the previous view plus its
 *    reserved ids present now; its size starts at max(minNodes, |inherent|). If the distinct nodes
 *    this needs exceed the view, the view is inadequate. Otherwise shards grow by one, round-robin
 *    in type/subgroup/shard order, until every shard is at maxNodes or every member is used.
 * 2. Members. Each shard keeps its survivors (same order, same sender flags), takes its reserved ids
 *    that are present, then fills up from the pool of unassigned members in rank order.
 * 3. Whole-view types take every member; cross-product types are derived from the sharded ones.
 *
 * Deliberate departures from the reference, each fixing a [quirk]:
 * - No `next_unassigned_rank`. Derecho tracks "members below this rank are assigned" and rearranges
 *   members so that holds; with reserved ids it breaks (the first view orders reserved ids by id,
 *   later views index the unrearranged member list, and a joining reserved id can be handed to a
 *   second shard of the same subgroup). Here the pool is computed from what it means: members in
 *   rank order that are neither reserved nor kept by a shard of the previous allocation.
 * - Derecho's growth loop stops only when every shard equals its max; a shard pushed past its max by
 *   reserved ids never does, and the loop spins. Here it stops when no shard can grow.
 * - A cross-product source member that also belongs to the target shard is listed once, not twice.
 * - Reserved ids are taken in rank order (Derecho: id order), like every other member.
 *
 * Kept from the reference: reserved ids present always join their shard, even past maxNodes (its
 * own sample layout reserves 3 ids for shards of at most 2); a non-reserved node is in at most one
 * sharded shard in the whole group; the allocation never moves a surviving node.
 */
import type { ShardLayout } from '../core/view.js';
import { invariant } from '../core/invariant.js';
import type { Allocation, TypeAllocation } from './allocation.js';
import { InadequateLayoutError } from './errors.js';
import type { GroupLayout, ShardPolicy, SubgroupRef } from './spec.js';
import { isNodeId, validateGroupLayout, type ValidateOptions } from './validate.js';

interface ShardSlot {
  readonly t: number;
  readonly g: number;
  readonly s: number;
  readonly policy: ShardPolicy;
  /** Surviving members of this shard in the previous view, in their old order. */
  readonly survivors: readonly number[];
  readonly survivorSenders: readonly boolean[];
  /** This shard's reserved ids that are members now and not already survivors, in rank order. */
  readonly newReserved: readonly number[];
  size: number;
}

/**
 * Allocates members to the subgroups of one layout. Construct once per group (validates the layout
 * and indexes its reserved ids), then call `allocate` for every proposed view.
 */
export class SubgroupAllocator {
  readonly layout: GroupLayout;
  /** Every id reserved by any shard (Derecho's `all_reserved_node_ids`). */
  readonly reservedNodeIds: ReadonlySet<number>;

  constructor(layout: GroupLayout, options: Pick<ValidateOptions, 'paths'> = {}) {
    validateGroupLayout(layout, options);
    this.layout = layout;
    const reserved = new Set<number>();
    for (const { layout: l } of layout) {
      if (l.kind !== 'sharded') continue;
      for (const subgroup of l.subgroups) for (const shard of subgroup.shards) for (const id of shard.reservedNodeIds) reserved.add(id);
    }
    this.reservedNodeIds = reserved;
  }

  /** The fewest members any view needs (every shard at its minimum, reserved ids all absent). */
  get minimumNodes(): number {
    let total = 0;
    for (const { layout: l } of this.layout) {
      if (l.kind !== 'sharded') continue;
      for (const subgroup of l.subgroups) for (const shard of subgroup.shards) total += shard.minNodes;
    }
    return total;
  }

  /**
   * The allocation for a view whose members are `members` (rank order), given the allocation of
   * the previous installed view (none for the first view, or after a total restart without one).
   * Throws InadequateLayoutError if the view cannot hold every shard's minimum.
   */
  allocate(members: readonly number[], previous?: Pick<Allocation, 'types'>): Allocation {
    const memberSet = new Set(members);
    invariant(memberSet.size === members.length, 'layout.members-distinct', () => `view members repeat an id: ${members.join(',')}`);
    invariant(members.every(isNodeId), 'layout.members-are-node-ids', () => `view members must be u32 node ids: ${members.join(',')}`);
    if (previous !== undefined) this.checkPreviousMatches(previous);
    const rankOf = new Map(members.map((id, rank) => [id, rank]));

    const slots = this.sizeShards(members, memberSet, rankOf, previous);
    const types = this.assignMembers(members, slots);
    const placed = new Set<number>();
    this.layout.forEach(({ layout: l }, t) => {
      if (l.kind === 'sharded') for (const shards of types[t].subgroups) for (const shard of shards) for (const id of shard.members) placed.add(id);
    });
    this.assertDisjointShards(types);
    return { types, unassigned: members.filter((id) => !placed.has(id)) };
  }

  /** Derecho's core assumes a node has at most one shard per subgroup (its `my_subgroups` map). */
  private assertDisjointShards(types: readonly TypeAllocation[]): void {
    types.forEach(({ type, subgroups }) =>
      subgroups.forEach((shards, g) => {
        const seen = new Set<number>();
        for (const shard of shards) {
          for (const id of shard.members) {
            invariant(!seen.has(id), 'layout.one-shard-per-subgroup', () => `node ${id} is in two shards of ${type}[${g}]`);
            seen.add(id);
          }
        }
      }),
    );
  }

  private checkPreviousMatches(previous: Pick<Allocation, 'types'>): void {
    invariant(previous.types.length === this.layout.length, 'layout.previous-matches-layout', () =>
      `previous allocation has ${previous.types.length} types, the layout ${this.layout.length}`);
    this.layout.forEach(({ type, layout: l }, t) => {
      const prev = previous.types[t];
      invariant(prev.type === type, 'layout.previous-matches-layout', () => `previous allocation has type "${prev.type}" at ${t}, the layout "${type}"`);
      if (l.kind !== 'sharded') return;
      invariant(prev.subgroups.length === l.subgroups.length, 'layout.previous-matches-layout', () =>
        `type "${type}": previous allocation has ${prev.subgroups.length} subgroups, the layout ${l.subgroups.length}`);
      l.subgroups.forEach((subgroup, g) => {
        invariant(prev.subgroups[g].length === subgroup.shards.length, 'layout.previous-matches-layout', () =>
          `type "${type}" subgroup ${g}: previous allocation has ${prev.subgroups[g].length} shards, the layout ${subgroup.shards.length}`);
      });
    });
  }

  private sizeShards(
    members: readonly number[],
    memberSet: ReadonlySet<number>,
    rankOf: ReadonlyMap<number, number>,
    previous: Pick<Allocation, 'types'> | undefined,
  ): ShardSlot[] {
    const slots: ShardSlot[] = [];
    // Reserved ids present are needed once each, however many shards (of different subgroups) share them.
    const presentReserved = members.filter((id) => this.reservedNodeIds.has(id));
    let nodesNeeded = presentReserved.length;
    const shortShards: string[] = [];

    this.layout.forEach(({ type, layout: l }, t) => {
      if (l.kind !== 'sharded') return;
      l.subgroups.forEach((subgroup, g) => {
        subgroup.shards.forEach((policy, s) => {
          const before = previous?.types[t].subgroups[g][s];
          const survivors: number[] = [];
          const survivorSenders: boolean[] = [];
          before?.members.forEach((id, k) => {
            if (memberSet.has(id)) {
              survivors.push(id);
              survivorSenders.push(before.senders[k]);
            }
          });
          const kept = new Set(survivors);
          const newReserved = policy.reservedNodeIds
            .filter((id) => memberSet.has(id) && !kept.has(id))
            .sort((a, b) => rankOf.get(a)! - rankOf.get(b)!);
          const inherent = survivors.length + newReserved.length;
          // Reserved survivors were counted with presentReserved already.
          nodesNeeded += survivors.filter((id) => !this.reservedNodeIds.has(id)).length;
          if (inherent < policy.minNodes) {
            nodesNeeded += policy.minNodes - inherent;
            shortShards.push(`${type}[${g}] shard ${s} (${inherent}/${policy.minNodes})`);
          }
          slots.push({ t, g, s, policy, survivors, survivorSenders, newReserved, size: Math.max(policy.minNodes, inherent) });
        });
      });
    });

    if (nodesNeeded > members.length) throw new InadequateLayoutError(nodesNeeded, members.length, shortShards);

    // Spread the remaining members one per shard per round, so shards grow evenly toward their max.
    let grew = true;
    while (grew && nodesNeeded < members.length) {
      grew = false;
      for (const slot of slots) {
        if (nodesNeeded >= members.length) break;
        if (slot.size < slot.policy.maxNodes) {
          slot.size++;
          nodesNeeded++;
          grew = true;
        }
      }
    }
    return slots;
  }

  private assignMembers(members: readonly number[], slots: readonly ShardSlot[]): TypeAllocation[] {
    const kept = new Set<number>();
    for (const slot of slots) for (const id of slot.survivors) kept.add(id);
    const pool = members.filter((id) => !this.reservedNodeIds.has(id) && !kept.has(id));
    let next = 0;

    const sharded = new Map<number, ShardLayout[][]>();
    for (const slot of slots) {
      const { policy } = slot;
      const shardMembers = [...slot.survivors, ...slot.newReserved];
      const senders = [...slot.survivorSenders];
      const onlyReservedSend = policy.reservedSenderIds.length > 0;
      for (const id of slot.newReserved) senders.push(!onlyReservedSend || policy.reservedSenderIds.includes(id));
      while (shardMembers.length < slot.size) {
        invariant(next < pool.length, 'layout.pool-suffices', () => `sizing promised ${slot.size} members to a shard but the pool ran out`);
        shardMembers.push(pool[next++]);
        senders.push(!onlyReservedSend);
      }
      let subgroupsOfType = sharded.get(slot.t);
      if (subgroupsOfType === undefined) sharded.set(slot.t, (subgroupsOfType = []));
      (subgroupsOfType[slot.g] ??= [])[slot.s] = shardLayout(shardMembers, senders, policy.mode, policy.profile);
    }

    const types: TypeAllocation[] = this.layout.map(({ type, layout: l }, t) => {
      switch (l.kind) {
        case 'sharded':
          return { type, subgroups: sharded.get(t) ?? [] };
        case 'wholeView':
          return { type, subgroups: [[shardLayout([...members], members.map(() => true), l.mode, l.profile)]] };
        case 'crossProduct':
          return { type, subgroups: [] };
      }
    });
    this.layout.forEach(({ type, layout: l }, t) => {
      if (l.kind !== 'crossProduct') return;
      const source = this.resolve(types, l.source);
      const target = this.resolve(types, l.target);
      const crossed: ShardLayout[][] = [];
      for (const sourceShard of source) {
        for (const sender of sourceShard.members) {
          for (const targetShard of target) {
            const receivers = targetShard.members.filter((id) => id !== sender);
            crossed.push([shardLayout([sender, ...receivers], [true, ...receivers.map(() => false)], l.mode, l.profile)]);
          }
        }
      }
      types[t] = { type, subgroups: crossed };
    });
    invariant(types.every((t, i) => t.type === this.layout[i].type), 'layout.type-order', () => 'allocation lost the layout type order');
    return types;
  }

  private resolve(types: readonly TypeAllocation[], ref: SubgroupRef): readonly ShardLayout[] {
    const shards = types.find((t) => t.type === ref.type)?.subgroups[ref.index];
    invariant(shards !== undefined, 'layout.cross-product-ref', () => `cross-product refers to missing subgroup ${ref.type}[${ref.index}]`);
    return shards;
  }
}

function shardLayout(members: number[], senders: boolean[], mode: ShardLayout['mode'], profile: string): ShardLayout {
  return Object.freeze({ members: Object.freeze(members), senders: Object.freeze(senders), mode, profile });
}

/** One-shot form of `new SubgroupAllocator(layout).allocate(members, previous)`. */
export function allocateSubgroups(layout: GroupLayout, members: readonly number[], previous?: Pick<Allocation, 'types'>): Allocation {
  return new SubgroupAllocator(layout).allocate(members, previous);
}
