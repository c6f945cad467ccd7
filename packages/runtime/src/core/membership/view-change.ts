/**
 * What an application hears when a view installs: the view itself, plus who joined and who
 * departed since the previous view, and where this node sits now.
 */
import type { GroupView } from './group-view.js';

export interface ShardPlacement {
  /** The subgroup's type (class name or raw subgroup name) and index among that type's subgroups. */
  readonly type: string;
  readonly index: number;
  readonly subgroupId: number;
  readonly shard: number;
}

export interface ViewChange extends GroupView {
  /** Node ids that are members now and were not in the previous view (all, for a node's first view). */
  readonly joined: readonly number[];
  /** Node ids of the previous view that are gone (failed, removed or left). */
  readonly departed: readonly number[];
  /** The shards this node is a member of in this view. */
  readonly myShards: readonly ShardPlacement[];
}

export function describeViewChange(view: GroupView, previous: GroupView | undefined, myId: number): ViewChange {
  const before = new Set(previous?.members.map((m) => m.id) ?? []);
  const now = new Set(view.members.map((m) => m.id));
  const myShards: ShardPlacement[] = [];
  view.subgroups.forEach((sg, subgroupId) => {
    const shard = sg.shards.findIndex((s) => s.members.includes(myId));
    if (shard >= 0) myShards.push({ type: sg.type, index: sg.index, subgroupId, shard });
  });
  return {
    ...view,
    joined: [...now].filter((id) => !before.has(id)),
    departed: [...before].filter((id) => !now.has(id)),
    myShards,
  };
}
