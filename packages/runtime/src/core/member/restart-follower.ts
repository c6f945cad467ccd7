/**
 * What one member does with a restart plan, and with what a restarted group kept, as pure
 * functions of its own logs: which shards it truncates, which tails it sends and which it waits
 * for, and how its logs look afterwards (reference §2.13).
 */
import type { Version } from '../version.js';
import type { RestartedTrims } from './control-messages.js';
import type { RestartPlan } from './restart-plan.js';
import type { RestartShardLog } from './restart-state.js';

export interface Truncation {
  readonly subgroup: number;
  readonly shard: number;
  readonly afterVersion: Version;
  /** The log's newest version before, when the truncation drops versions (for the note that says so). */
  readonly drops: Version | undefined;
  /** Why the log ends there (the plan's reason), for that note. */
  readonly reason: string;
}

export interface RestartDuties {
  /** Every shard of the plan whose logs this member holds truncates after the agreed trim. */
  readonly truncations: readonly Truncation[];
  /** This member is the source of these tails. */
  readonly tailsToSend: readonly { readonly to: number; readonly subgroup: number; readonly shard: number; readonly afterVersion: Version; readonly throughVersion: Version }[];
  /** Shards ("subgroup:shard") whose tail this member waits for. */
  readonly awaitedTails: readonly string[];
  /** Its logs once truncated (tails still to come are not counted). */
  readonly logs: readonly RestartShardLog[];
}

export function restartDuties(plan: RestartPlan, myId: number, logs: readonly RestartShardLog[]): RestartDuties {
  const truncations: Truncation[] = [];
  const tailsToSend: RestartDuties['tailsToSend'][number][] = [];
  const awaitedTails: string[] = [];
  for (const sp of plan.shards) {
    const held = logs.find((l) => l.subgroup === sp.subgroup && l.shard === sp.shard);
    if (held !== undefined) truncations.push({ subgroup: sp.subgroup, shard: sp.shard, afterVersion: sp.keepThrough, drops: held.newestVersion > sp.keepThrough ? held.newestVersion : undefined, reason: sp.reason });
    if (sp.source === myId) {
      for (const t of sp.tails) if (t.to !== myId) tailsToSend.push({ to: t.to, subgroup: sp.subgroup, shard: sp.shard, afterVersion: t.afterVersion, throughVersion: sp.keepThrough });
    } else if (sp.tails.some((t) => t.to === myId)) awaitedTails.push(`${sp.subgroup}:${sp.shard}`);
  }
  const truncated = logs.map((l) => {
    const sp = plan.shards.find((x) => x.subgroup === l.subgroup && x.shard === l.shard);
    return sp !== undefined && l.newestVersion > sp.keepThrough ? { ...l, newestVersion: sp.keepThrough } : l;
  });
  return { truncations, tailsToSend, awaitedTails, logs: truncated };
}

/**
 * A member coming back with logs to a group that restarted without it: if its last logged view
 * is older than the restart view, the versions of its logs after what the restart kept were
 * never committed, and it drops them before joining.
 */
export function lateTruncations(restarted: RestartedTrims, lastLoggedVid: number, logs: readonly RestartShardLog[]): Truncation[] {
  if (lastLoggedVid >= restarted.vid) return [];
  return restarted.shards.flatMap((k) => {
    const held = logs.find((l) => l.subgroup === k.subgroup && l.shard === k.shard);
    if (held === undefined || held.newestVersion <= k.keepThrough) return [];
    return [{ subgroup: k.subgroup, shard: k.shard, afterVersion: k.keepThrough, drops: held.newestVersion, reason: `the group restarted in view ${restarted.vid} keeping only those` }];
  });
}
