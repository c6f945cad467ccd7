/**
 * The next view of a committed batch (reference §2.11 (h), `make_next_view`): survivors keep their
 * relative order, joiners are appended in proposal order, removed members are gone, vid + 1, and
 * the subgroups come from the injected allocator given the previous view's allocation so that
 * survivors stay in their shards. Also: who sends subgroup state to whom (§2.12).
 */
import { invariant } from '../invariant.js';
import type { ChangeProposal } from './membership-columns.js';
import type { GroupSubgroup, GroupView, MemberAddress } from './group-view.js';

/**
 * Allocates the subgroups of a candidate view (members in rank order) given the previous view.
 * Throws InadequateLayoutError (from `../../layout`) when the members cannot provision every
 * shard's minimum; any other throw is a bug.
 */
export type AllocateNextView = (memberIds: readonly number[], previous: GroupView) => readonly GroupSubgroup[];

export interface NextView {
  readonly view: GroupView;
  /** Node ids of members removed by the batch (failed or left), in old rank order. */
  readonly removed: readonly number[];
  /** Joiners in proposal order. */
  readonly joined: readonly MemberAddress[];
}

export function makeNextView(current: GroupView, batch: readonly ChangeProposal[], allocate: AllocateNextView): NextView {
  const inView = new Set(current.members.map((m) => m.id));
  const removedSet = new Set<number>();
  const joined: MemberAddress[] = [];
  for (const change of batch) {
    if (inView.has(change.node)) removedSet.add(change.node);
    else {
      invariant(change.address !== undefined, 'a join carries the joiner address', () => `join of node ${change.node} without address`);
      invariant(!joined.some((j) => j.id === change.node), 'a node joins once per batch', () => `node ${change.node}`);
      joined.push(change.address);
    }
  }
  const survivors = current.members.filter((m) => !removedSet.has(m.id));
  const members = [...survivors, ...joined];
  const subgroups = allocate(
    members.map((m) => m.id),
    current,
  );
  const ids = new Set(members.map((m) => m.id));
  for (const sg of subgroups)
    for (const shard of sg.shards)
      for (const id of shard.members) invariant(ids.has(id), 'allocation uses only members of the next view', () => `node ${id} in ${sg.type}[${sg.index}]`);
  return {
    view: { vid: current.vid + 1, members, subgroups },
    removed: current.members.filter((m) => removedSet.has(m.id)).map((m) => m.id),
    joined,
  };
}

/** One state transfer decided at a view boundary: the old shard leader `from` sends subgroup state to `to`. */
export interface StateTransfer {
  readonly subgroup: number;
  /** Shard number in the NEW view. */
  readonly shard: number;
  readonly from: number;
  readonly to: number;
}

/**
 * For every shard of the new view, the member that holds its state (the lowest-ranked member of the
 * same shard number in the old view that survives into the new one) sends it to each member of the
 * new shard that was not in that old shard. No survivor: nobody has the state (no transfer; the
 * shard starts empty). Subgroups are matched by id, shards by number, as Derecho's
 * old-shard-leaders table.
 */
export function stateTransfers(previous: GroupView, next: GroupView): StateTransfer[] {
  const nextIds = new Set(next.members.map((m) => m.id));
  const rankOf = new Map(previous.members.map((m, r) => [m.id, r]));
  const out: StateTransfer[] = [];
  next.subgroups.forEach((sg, g) => {
    const old = previous.subgroups[g];
    sg.shards.forEach((shard, s) => {
      const oldShard = old?.shards[s];
      if (!oldShard) return;
      const holders = oldShard.members.filter((id) => nextIds.has(id)).sort((a, b) => rankOf.get(a)! - rankOf.get(b)!);
      const from = holders[0];
      if (from === undefined) return;
      for (const to of shard.members) if (!oldShard.members.includes(to)) out.push({ subgroup: g, shard: s, from, to });
    });
  });
  return out;
}
