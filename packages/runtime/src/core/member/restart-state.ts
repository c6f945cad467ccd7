/**
 * What a member brings to a total restart (reference §2.13): the last view it logged, the ragged
 * trims it logged around it, and per shard it held the newest version and HLC of its field logs,
 * under an identity that keeps logs of another cluster or schema out. The shell reads it from the
 * restart log (`persistent/restart-log.ts`, `RestartLogContent`) and the field logs, and hands it
 * to the Member with its `start` input.
 */
import type { Hlc } from '../hlc.js';
import type { GroupView } from '../membership/group-view.js';
import { makeVersion, type Version } from '../version.js';

/** A ragged trim as the member logged it (the view manager's `logTrim`; `LoggedTrim` on disk). */
export interface RestartTrim {
  /** The view the trim ends. */
  readonly vid: number;
  readonly subgroup: number;
  readonly shard: number;
  /** The shard leader that decided it. */
  readonly shardLeader: number;
  /** Per sender rank of the shard: the index of the last message delivered (-1: none). */
  readonly throughIndex: readonly number[];
}

/** The newest entry of one shard's field logs on this member. */
export interface RestartShardLog {
  readonly subgroup: number;
  readonly shard: number;
  /**
   * The newest version every field log of the shard holds (the minimum over its fields of their
   * newest version; -1n: none). A tail sent to this member starts after it.
   */
  readonly newestVersion: Version;
  /** The newest HLC in the shard's field logs (the new run's deliveries continue after it). */
  readonly newestHlc: Hlc;
}

/** Logs of one deployment and one schema restart together; anything else is refused. */
export interface RestartIdentity {
  /** The cluster's name (configuration), e.g. "orders-prod". */
  readonly cluster: string;
  /** A digest of the replicated types and their layout, so logs are never read under another schema. */
  readonly schema: string;
}

export interface RestartState {
  readonly identity: RestartIdentity;
  /** The last view this member installed and logged. */
  readonly view: GroupView;
  /** The trims logged since the view before it (RestartLogContent.trims). */
  readonly trims: readonly RestartTrim[];
  /** One entry per shard whose field logs this member holds. */
  readonly logs: readonly RestartShardLog[];
}

/**
 * The newest version a ragged trim lets through: seq = index × S + sender rank, S the shard's
 * senders, so the trim's last seq is the largest of throughIndex[k] × S + k (§2.13 "version(trim.vid,
 * max seq implied by trim)"). A trim that delivers nothing in its view keeps only earlier views.
 */
export function trimVersion(trim: RestartTrim): Version {
  const senders = trim.throughIndex.length;
  let maxSeq = -1;
  trim.throughIndex.forEach((index, k) => {
    if (index >= 0) maxSeq = Math.max(maxSeq, index * senders + k);
  });
  return maxSeq < 0 ? makeVersion(trim.vid, 0) - 1n : makeVersion(trim.vid, maxSeq);
}
