/**
 * A member's picture of the group for operators (`GET /status`, `derecho status`): the view,
 * every shard with its members, the frontiers this node sees for the members of its own shards
 * (read from its SST copy) and their lag, and whether the group is wedged and why.
 */
import { formatVersion } from '../core/version.js';
import type { ObservedNode } from './observed-node.js';

export interface MemberProgress {
  readonly node: number;
  /** Messages (by seq) this member delivered in this view, through `deliveredSeq`; -1: none yet. */
  readonly deliveredSeq: number;
  /** Version this member persisted through (`vid.seq`), or null before any. */
  readonly persisted: string | null;
  /** Seqs this member is behind the most advanced member of the shard (delivered). */
  readonly deliveryLag: number;
  /** Stability frontier (HLC microseconds) this member last published. */
  readonly stabilityFrontierUs: number;
}

export interface ShardStatus {
  readonly subgroupId: number;
  readonly type: string;
  readonly index: number;
  readonly shard: number;
  readonly mode: string;
  readonly members: readonly number[];
  /** Present for the shards this node belongs to (it sees their SST columns). */
  readonly frontiers?: {
    readonly delivered: string | null;
    readonly globallyPersisted: string | null;
    readonly queuedSends: number;
    readonly members: readonly MemberProgress[];
  };
}

export interface NodeStatus {
  readonly node: number;
  /** `running`, `changing` (a view change in progress), `joining`, or `stopped`. */
  readonly state: string;
  readonly view: { readonly vid: number; readonly members: readonly { readonly id: number; readonly address: string }[] } | null;
  readonly suspected: readonly number[];
  readonly wedged: boolean;
  /** Why the group is wedged or stalled, in words an operator can act on. */
  readonly reason: string | null;
  readonly shards: readonly ShardStatus[];
  /** When this status was taken (ISO 8601). */
  readonly at: string;
}

const versionText = (v: bigint): string | null => (v < 0n ? null : formatVersion(v));

export function nodeStatus(node: ObservedNode, now: Date): NodeStatus {
  const vm = node.protocol;
  const view = node.view;
  const shards: ShardStatus[] = [];
  if (view !== undefined) {
    view.subgroups.forEach((sg, subgroupId) => {
      sg.shards.forEach((shard, shardIndex) => {
        const mine = vm?.core.shardOf(subgroupId);
        let frontiers: ShardStatus['frontiers'];
        if (vm !== undefined && mine !== undefined && mine.shardIndex === shardIndex) {
          const rows = mine.memberFrontiers();
          const most = Math.max(...rows.map((r) => r.deliveredSeq));
          frontiers = {
            delivered: versionText(mine.lastDeliveredVersion),
            globallyPersisted: versionText(mine.globalPersistedVersion),
            queuedSends: node.queuedSends(subgroupId),
            members: rows.map((r) => ({
              node: view.members[r.row].id,
              deliveredSeq: r.deliveredSeq,
              persisted: versionText(r.persistedVersion),
              deliveryLag: most - r.deliveredSeq,
              stabilityFrontierUs: r.stabilityFrontierUs,
            })),
          };
        }
        shards.push({ subgroupId, type: sg.type, index: sg.index, shard: shardIndex, mode: shard.mode, members: shard.members, ...(frontiers === undefined ? {} : { frontiers }) });
      });
    });
  }
  const inadequate = node.inadequateReason;
  const stall = vm?.stallReason();
  const state = vm === undefined ? (view === undefined ? 'joining' : 'running') : vm.phase === 'running' ? 'running' : vm.phase === 'stopped' ? 'stopped' : 'changing';
  return {
    node: node.nodeId,
    state,
    view: view === undefined ? null : { vid: view.vid, members: view.members.map((m) => ({ id: m.id, address: `${m.host}:${m.port}` })) },
    suspected: vm?.suspectedIds ?? [],
    wedged: inadequate !== undefined || (vm?.core.isWedged ?? false),
    reason: inadequate ?? stall ?? null,
    shards,
    at: now.toISOString(),
  };
}
