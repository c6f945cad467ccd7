/**
 * The allocator's output: for each replicated type (in layout order), its subgroups, each a list of
 * shards. Subgroup ids are assigned in that same order (type 0's subgroups first), as in Derecho's
 * `subgroup_ids_by_type_id`, so every member derives the same ids from the same allocation.
 */
import type { ShardLayout } from '../core/view.js';

export interface TypeAllocation {
  readonly type: string;
  /** `subgroups[i][j]` is shard j of subgroup i of this type. */
  readonly subgroups: readonly (readonly ShardLayout[])[];
}

export interface Allocation {
  readonly types: readonly TypeAllocation[];
  /** Members of the view in no sharded subgroup (spares), in rank order. */
  readonly unassigned: readonly number[];
}

/** One subgroup with the id every member gives it. */
export interface NumberedSubgroup {
  readonly subgroupId: number;
  readonly type: string;
  /** Index among the subgroups of its type. */
  readonly index: number;
  readonly shards: readonly ShardLayout[];
}

/** Every subgroup of the allocation with its subgroup id (ids are dense, from 0). */
export function numberSubgroups(allocation: Pick<Allocation, 'types'>): NumberedSubgroup[] {
  const out: NumberedSubgroup[] = [];
  for (const { type, subgroups } of allocation.types) {
    subgroups.forEach((shards, index) => out.push({ subgroupId: out.length, type, index, shards }));
  }
  return out;
}

/** The shards of subgroup `index` of `type`, or undefined if the allocation has no such subgroup. */
export function subgroupShards(allocation: Pick<Allocation, 'types'>, type: string, index = 0): readonly ShardLayout[] | undefined {
  return allocation.types.find((t) => t.type === type)?.subgroups[index];
}

/** Where `nodeId` sits: one entry per subgroup that has it, with its shard number there. */
export function placementsOf(allocation: Pick<Allocation, 'types'>, nodeId: number): { subgroupId: number; type: string; index: number; shard: number }[] {
  const out: { subgroupId: number; type: string; index: number; shard: number }[] = [];
  for (const subgroup of numberSubgroups(allocation)) {
    const shard = subgroup.shards.findIndex((s) => s.members.includes(nodeId));
    if (shard >= 0) out.push({ subgroupId: subgroup.subgroupId, type: subgroup.type, index: subgroup.index, shard });
  }
  return out;
}
