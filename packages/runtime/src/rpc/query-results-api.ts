/**
 * The caller's view of an RPC call's results, defined here so `rpc` owns the type it implements
 * (query-results.ts) and `replicated` re-exports it as part of the user API.
 */
import type { Hlc } from '../core/hlc.js';
import type { Version } from '../core/version.js';
import type { CallPromise } from './call-errors.js';

/** Node ids as the rest of the runtime uses them. */
export type NodeId = number;

/**
 * The replies to one ordered call, available at once and filled in as the call is delivered and
 * the shard members answer (reference §2.9). The runtime class implementing it comes with Group.
 */
export interface QueryResults<R> {
  /**
   * Per-member reply promises, keyed by node id; resolves once the call is delivered, with
   * exactly the shard members of the delivering view. A member that leaves before replying
   * rejects its entry with NodeRemovedError; a handler that threw rejects it with RemoteError;
   * SenderRemovedError when this node left first (see `CallError`).
   */
  readonly replies: Promise<ReadonlyMap<NodeId, CallPromise<R>>>;
  /** Every member's reply; rejects with the first member's failure (a `CallError`). */
  all(): CallPromise<Map<NodeId, R>>;
  /** The first reply to arrive (all replicas compute the same value): its value, or its RemoteError (a `CallError`). */
  first(): CallPromise<R>;
  /** The version the call created, once delivered. */
  readonly version: Promise<Version>;
  /** The HLC stamped on that version. */
  readonly hlc: Promise<Hlc>;
  /**
   * Resolves when this node's log is durable through the call's version (persistent shards: the
   * object's Persistent fields are synced; see persistent/README.md). Ordered shards: at delivery.
   * Rejects if the call is aborted, or this node cannot make it durable (disk error, it left).
   */
  localPersistence(): Promise<void>;
  /**
   * Resolves when every member of the delivering shard made the call's version durable (the
   * shard's global persistence frontier reached it). Ordered shards: at delivery.
   */
  globalPersistence(): Promise<void>;
}
