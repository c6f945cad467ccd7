/**
 * A view of the whole group as membership agrees on it: the members with their addresses, and the
 * subgroup allocation with the multicast parameters of every subgroup. The leader builds it and
 * ships it whole, so every member lays out the same SST from the same data instead of trusting
 * that everyone's configuration and code compute the same thing.
 */
import type { MulticastParams, ShardLayout, ViewLayout } from '../view.js';

export interface MemberAddress {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

/** Multicast parameters of a subgroup plus the RDMC block size its large messages use. */
export interface SubgroupParams extends MulticastParams {
  readonly blockBytes: number;
}

export interface GroupSubgroup {
  /** The replicated type (or raw subgroup name) this subgroup belongs to. */
  readonly type: string;
  /** Index among the subgroups of its type. */
  readonly index: number;
  readonly shards: readonly ShardLayout[];
  readonly params: SubgroupParams;
}

export interface GroupView {
  readonly vid: number;
  /** In rank order: members[r] owns SST row r. */
  readonly members: readonly MemberAddress[];
  /** In subgroup-id order. */
  readonly subgroups: readonly GroupSubgroup[];
}

/** The core's view of `view` from node `myId`'s seat; throws when `myId` is not a member. */
export function viewLayoutFor(view: GroupView, myId: number): ViewLayout {
  const myRank = view.members.findIndex((m) => m.id === myId);
  if (myRank < 0) throw new Error(`node ${myId} is not a member of view ${view.vid} (members: ${view.members.map((m) => m.id).join(', ')})`);
  return {
    vid: view.vid,
    members: view.members.map((m) => m.id),
    myRank,
    subgroups: view.subgroups.map((s) => ({ shards: s.shards, params: s.params })),
  };
}
