/**
 * The RPC layer of one member (reference §2.9): ordered calls as cooked multicasts run on every
 * replica in delivery order with replies by P2P; p2p calls as request/reply over P2P, run in FIFO
 * order at the target, interleaved with (not ordered against) deliveries.
 *
 * This class only composes the parts, one concern each, and routes the group's events to them:
 * - rpc-caller.ts: the calls this node makes, pending until their replies settle them;
 * - replica-host.ts: this node's replicas and the dispatch of delivered ordered calls to them;
 * - reply-batcher.ts: replies to other members' ordered calls, one message per caller per batch;
 * - p2p-server.ts: p2p requests to this node, run in FIFO order;
 * - replica-transfer.ts: a replica's state for a joiner, and its installation there;
 * - persistence-frontiers.ts: the core's persist requests and the persistence frontiers.
 * It talks to the group through `RpcTransport`, so it holds no socket itself.
 */
import type { DeliverOutput } from '../core/core-io.js';
import type { GroupView } from '../core/membership/group-view.js';
import type { Version } from '../core/version.js';
import type { DedupLimits } from './call-dedup.js';
import type { CallId } from './call-id.js';
import type { MethodCodec, SchemaCodec } from './marshal.js';
import { P2PServer } from './p2p-server.js';
import { PersistenceFrontiers } from './persistence-frontiers.js';
import type { NodeId } from './query-results-api.js';
import type { OrderedCallResults } from './query-results.js';
import { ReplicaHost, type ReplicaFactory } from './replica-host.js';
import { installTransferredState, transferState } from './replica-transfer.js';
import type { PersistenceSettings } from './replica-versions.js';
import { ReplyBatcher } from './reply-batcher.js';
import { RpcCaller } from './rpc-caller.js';
import type { HistoricalSelector } from './historical-read.js';
import { RpcWireError, SenderRemovedError } from './rpc-errors.js';
import type { RpcTransport } from './rpc-transport.js';
import { decodeRpcFrame, readOrderedReplies, RpcKind } from './rpc-wire.js';

export type { ReplicaFactory, RpcTransport };

export interface RpcEngineOptions {
  /**
   * Where replicas keep their Persistent fields (the config's `persistence` section). Without
   * it, versioned fields are kept in memory only.
   */
  readonly persistence?: PersistenceSettings;
  /** Send the stack of an exception a handler throws with its error (config `logging.remoteStacks`). */
  readonly remoteStacks?: boolean;
  /** How long and how many exactly-once replies each replica keeps (default DEFAULT_DEDUP_LIMITS). */
  readonly dedup?: DedupLimits;
}

export class RpcEngine {
  private readonly calls: RpcCaller;
  private readonly host: ReplicaHost;
  private readonly replies: ReplyBatcher;
  private readonly server: P2PServer;
  private readonly frontiers: PersistenceFrontiers;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly transport: RpcTransport,
    readonly codec: SchemaCodec,
    factories: ReadonlyMap<string, ReplicaFactory>,
    /** Decodes delivered ordered calls: their payload is a copy the core handed over, so byte arrays may alias it. */
    deliveryCodec: SchemaCodec = codec,
    options: RpcEngineOptions = {},
  ) {
    this.frontiers = new PersistenceFrontiers(transport);
    const remoteStacks = options.remoteStacks ?? false;
    this.replies = new ReplyBatcher(transport, remoteStacks);
    this.calls = new RpcCaller(transport, { runOwnCall: (subgroupId, invocation, method, args, selector) => this.server.runOwnCall(subgroupId, invocation, method, args, selector) }, remoteStacks);
    this.host = new ReplicaHost(transport, factories, deliveryCodec, options.persistence, this.frontiers, this.calls, this.replies, options.dedup);
    this.server = new P2PServer(transport, codec, this.host, this.calls, remoteStacks);
  }

  /** Whether `type` (a subgroup's type in the view) is one of the typed classes. */
  isTyped(type: string): boolean {
    return this.host.isTyped(type);
  }

  /** A view started: build the replicas this node now holds, and send calls that waited for it. */
  onView(view: GroupView): void {
    this.host.ensureReplicas(view);
    this.frontiers.viewStarted(view);
    for (const { from, bytes } of this.server.takeEarlyRequests()) this.onFrame(from, bytes);
    this.calls.onView();
  }

  /** The local replica of typed subgroup `subgroupId`, if this node is in one of its shards. */
  localReplica(subgroupId: number): object | undefined {
    return this.host.replica(subgroupId)?.instance;
  }

  /** The state of my replica of `subgroupId` for a joiner, or null when I hold none. */
  snapshotReplica(subgroupId: number): Uint8Array | null {
    const replica = this.host.replica(subgroupId);
    return replica === undefined ? null : transferState(replica);
  }

  /**
   * A joiner's replica of `subgroupId` starts from the old shard leader's state: build it from
   * the factory as usual, then restore the transferred state into it.
   */
  installReplicaState(view: GroupView, subgroupId: number, state: Uint8Array | null): void {
    this.host.createReplica(view, subgroupId, state === null);
    const replica = this.host.replica(subgroupId);
    if (replica !== undefined && state !== null) installTransferredState(replica, subgroupId, state);
  }

  /** The core asks for `subgroupId` to be made durable through `version` (its `persist` output). */
  onPersist(subgroupId: number, version: Version): void {
    this.frontiers.onPersist(subgroupId, version, this.host.replica(subgroupId)?.versions);
  }

  /** Every member of my shard of `subgroupId` persisted through `version` (the core's globalPersisted). */
  onGlobalPersisted(subgroupId: number, version: Version): void {
    this.frontiers.onGlobalPersisted(subgroupId, version);
  }

  /**
   * An ordered call from this node: returns its results at once; the multicast may wait for a
   * view. With `callId`, it is applied at most once however often it is retried (see call-dedup.ts).
   */
  callOrdered<R>(subgroupId: number, codec: MethodCodec, args: readonly unknown[], callId?: CallId): OrderedCallResults<R> {
    return this.calls.callOrdered<R>(subgroupId, codec, args, callId);
  }

  /** How many exactly-once replies and clients my replica of `subgroupId` holds (undefined: no replica). */
  dedupStats(subgroupId: number): { entries: number; clients: number } | undefined {
    const replica = this.host.replica(subgroupId);
    return replica === undefined ? undefined : { entries: replica.dedup.size, clients: replica.dedup.clientCount };
  }

  /** A p2p call to `target`, a member of (some shard of) `subgroupId` in the current view. */
  callP2P<R>(subgroupId: number, target: NodeId, codec: MethodCodec, args: readonly unknown[], selector?: HistoricalSelector): Promise<R> {
    return this.calls.callP2P<R>(subgroupId, target, codec, args, selector);
  }

  /** A cooked delivery: run the call on this node's replica and answer the caller. */
  onDeliver(d: DeliverOutput, view: GroupView): void {
    this.host.onDeliver(d, view);
  }

  /** One Channel.Rpc message from `from` (without the channel byte). Malformed ones drop the peer. */
  onFrame(from: number, bytes: Uint8Array): void {
    if (this.closed) return;
    try {
      this.route(from, bytes);
    } catch (err) {
      if (err instanceof RpcWireError) this.transport.dropPeer(from, `malformed RPC message: ${err.message}`);
      else this.transport.log.error({ peer: from }, 'failed to handle an RPC message: %s', err instanceof Error ? err.message : String(err));
    }
  }

  private route(from: number, bytes: Uint8Array): void {
    const frame = decodeRpcFrame(bytes);
    switch (frame.kind) {
      case RpcKind.P2PRequest:
        this.server.onRequest(from, frame, bytes);
        return;
      case RpcKind.P2PReply:
        this.calls.onP2PReply(from, frame.invocation, frame.status, frame.body);
        return;
      case RpcKind.OrderedReply:
        this.calls.onOrderedReply(from, { status: frame.status, subgroupId: frame.subgroupId, invocation: frame.invocation, frame: frame.body, bodyStart: 0, bodyEnd: frame.body.length });
        return;
      case RpcKind.OrderedReplies:
        readOrderedReplies(frame.frame, (entry) => this.calls.onOrderedReply(from, entry));
        return;
    }
  }

  /** A peer failed: its open reply entries reject with NodeRemovedError; replies due to it are dropped. */
  onPeerFailed(nodeId: NodeId, reason: string): void {
    this.calls.onPeerFailed(nodeId, reason);
    this.replies.dropCaller(nodeId);
  }

  /**
   * This node leaves: every call it still waits on rejects with SenderRemovedError, and the
   * replicas' logs are closed (flushed and synced). Resolves once they are; never rejects.
   */
  close(reason: string): Promise<void> {
    if (this.closed) return this.closing ?? Promise.resolve();
    this.replies.close();
    this.closed = true;
    const error = new SenderRemovedError(`node ${this.transport.nodeId} left the group before the replies came: ${reason}`);
    this.calls.close(error);
    this.server.close();
    this.frontiers.close(error);
    this.closing = this.host.closeLogs();
    return this.closing;
  }
}
