/**
 * What the shell asks of the replicas above it (the RPC layer's, or the simulator's stand-ins):
 * durability of persistent subgroups, state for state transfer, and the restart log. Each answers
 * through the shell (`persisted`) or through its callback, so the same hooks work over real disks
 * and promises and over the simulator's virtual clock.
 */
import type { Version } from '../core/version.js';
import type { GroupView } from '../core/membership/group-view.js';

/** Makes persistent subgroups durable (the RPC layer's replicas' logs). */
export interface PersistenceHandler {
  /** The core asks for `subgroup` to be durable through `version`; answer with `MemberShell.persisted`. */
  persist(subgroup: number, version: Version): void;
  /** Every member of my shard of `subgroup` is durable through `version`. */
  globalPersisted(subgroup: number, version: Version): void;
}

/** Snapshots and installs replica state for state transfer (bytes opaque to the shell). */
export interface StateHandler {
  snapshot(subgroupId: number): Uint8Array | null;
  install(view: GroupView, subgroupId: number, state: Uint8Array | null): void;
}

/** A ragged trim as the restart log records it. */
export interface TrimRecord {
  readonly vid: number;
  readonly subgroup: number;
  readonly shard: number;
  readonly shardLeader: number;
  readonly throughIndex: readonly number[];
}

/**
 * Where installed views and ragged trims go for a total restart. `done` is called once the record
 * is durable, or with the error that kept it from being written.
 */
export interface RestartLogHook {
  appendView(view: GroupView, done: (err?: Error) => void): void;
  appendTrim(trim: TrimRecord, done: (err?: Error) => void): void;
}
