/**
 * What a member brings to a total restart, read from its disk: the restart log's last view and
 * ragged trims, and per shard whose field logs it holds, their newest version and HLC. The Member
 * takes it with its `start` input (`core/member/restart-state.ts`); a node without a logged view
 * starts as a new member.
 */
import type { RestartIdentity, RestartState } from '../core/member/restart-state.js';
import type { PersistentRegistry } from './registry.js';
import type { RestartLogContent } from './restart-log.js';

/** The field logs of one shard this member holds. */
export interface HeldShardLogs {
  readonly subgroup: number;
  readonly shard: number;
  readonly registry: PersistentRegistry;
}

/** The restart state of this member, or undefined when its restart log holds no view (nothing to restart from). */
export function readRestartState(content: RestartLogContent, shards: readonly HeldShardLogs[], identity: RestartIdentity): RestartState | undefined {
  if (content.view === undefined) return undefined;
  return {
    identity,
    view: content.view,
    trims: content.trims.map((t) => ({ vid: t.vid, subgroup: t.subgroup, shard: t.shard, shardLeader: t.shardLeader, throughIndex: [...t.throughIndex] })),
    logs: shards.map(({ subgroup, shard, registry }) => ({ subgroup, shard, newestVersion: registry.latestVersion, newestHlc: registry.latestTime })),
  };
}
