/**
 * The RPC layer of one member (reference §2.9): ordered calls as cooked multicasts run on every
 * replica in delivery order with replies by P2P; p2p calls as request/reply over P2P, run in FIFO
 * order at the target, interleaved with (not ordered against) deliveries.
 *
 * It owns the local replicas (one per typed subgroup shard this node is in) and every pending
 * call this node made. It talks to the group through `RpcTransport`, so it holds no socket itself.
 */
import type { DeliverOutput } from '../core/core-io.js';
import type { Hlc } from '../core/hlc.js';
import type { GroupView } from '../core/membership/group-view.js';
import { invariant } from '../core/invariant.js';
import { Packr } from 'msgpackr';
import type { Version } from '../core/version.js';
import type { Logger } from '../driver/logger.js';
import { NotAMemberError } from '../replicated/errors.js';
import type { NodeId } from '../replicated/types.js';
import type { MethodCodec, SchemaCodec } from './marshal.js';
import { enterApplied, exitApplied } from './current-version.js';
import { OrderedCallResults, type ReplyOutcome } from './query-results.js';
import { PersistenceFrontier } from './persistence-frontier.js';
import { restoreReplica, snapshotReplica } from './replica-state.js';
import { ReplicaVersions, type PersistenceSettings } from './replica-versions.js';
import { InvalidNodeError, NodeRemovedError, RemoteError, RpcWireError, SenderRemovedError } from './rpc-errors.js';
import {
  checkOrderedRequest,
  decodeRemoteError,
  decodeRpcFrame,
  encodeRemoteError,
  MAX_ORDERED_REPLIES,
  ORDERED_HEADER_BYTES,
  OrderedRepliesBuilder,
  p2pReplyHeader,
  p2pRequestHeader,
  readOrderedReplies,
  readU16,
  readU32,
  ReplyStatus,
  RpcKind,
  writeOrderedHeader,
  type OrderedReplyEntry,
} from './rpc-wire.js';

/** What the engine needs from the group: who we are, the view, and the two ways to send. */
export interface RpcTransport {
  readonly nodeId: number;
  readonly channel: number;
  readonly log: Logger;
  /** The installed view, or undefined between views. */
  view(): GroupView | undefined;
  /** Cooked multicast to my shard of `subgroupId` (queued by the core when the window is full). The engine never writes `payload` again. */
  multicast(subgroupId: number, payload: Uint8Array): void;
  sendP2P(to: number, chunks: readonly Uint8Array[]): void;
  /** Drops the connection to a misbehaving peer, with a log line naming why. */
  dropPeer(peer: number, why: string): void;
  /** Tells the core this node's log of `subgroupId` is durable through `version` (its `persisted` input). */
  persisted?(subgroupId: number, version: Version): void;
  /** This node can no longer make `subgroupId` durable (its disk failed): it must leave. */
  persistenceFailed?(subgroupId: number, error: Error): void;
}

export interface RpcEngineOptions {
  /**
   * Where replicas keep their Persistent fields (the config's `persistence` section). Without
   * it, versioned fields are kept in memory only.
   */
  readonly persistence?: PersistenceSettings;
}

/** State transfer of a replica: its plain fields, and its versioned fields' whole logs. */
const transferPackr = new Packr({ useRecords: false, mapsAsObjects: true });

/** How to build this node's replica of a typed subgroup's shard. */
export interface ReplicaFactory {
  /** The class's wire name (the subgroup's type in the view). */
  readonly className: string;
  create(info: { readonly subgroupIndex: number; readonly shard: number; readonly nodeId: number }): object;
}

interface Replica {
  readonly className: string;
  readonly instance: Record<string, unknown>;
  readonly persistent: boolean;
  /** Its versioned fields (absent when it has none). */
  readonly versions: ReplicaVersions | undefined;
  /** Ordered calls create versions (ordered and persistent shards, not unordered ones). */
  readonly versioning: boolean;
  /** Delivery-codec lookups by wire id, filled as ids are first seen (a table per replica, not a Map per call). */
  readonly ordered: (MethodCodec | undefined)[];
}

/** One ordered call this node made and still waits on: its results, with what reading replies needs. */
class PendingOrdered<R = unknown> extends OrderedCallResults<R> {
  constructor(
    readonly codec: MethodCodec,
    readonly subgroupId: number,
  ) {
    super();
  }
}

/** Bodies above this many bytes in one caller's reply frame send it at once (keeps frames bounded). */
const MAX_REPLY_FRAME_BODY_BYTES = 4 << 20;

interface PendingP2P {
  readonly target: number;
  readonly codec: MethodCodec;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface P2PJob {
  readonly from: number;
  readonly invocation: number;
  readonly replica: Replica;
  readonly codec: MethodCodec;
  readonly args: unknown[];
}

const MAX_INVOCATION = 0xffffffff;

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

export class RpcEngine {
  private readonly replicas = new Map<number, Replica>();
  private readonly ordered = new Map<number, PendingOrdered>();
  private readonly p2p = new Map<number, PendingP2P>();
  /** Ordered calls made while no view was installed: sent when the next one starts. */
  private waitingForView: (() => void)[] = [];
  private readonly removed = new Map<NodeId, string>();
  private readonly p2pQueue: P2PJob[] = [];
  /** P2P requests that came before this node's view started (their sender started first). */
  private beforeView: { from: number; bytes: Uint8Array }[] = [];
  private p2pRunning = false;
  private nextInvocation = 1;
  private closed = false;
  /** Replies to other members' ordered calls, per caller, sent together when this delivery batch ends. */
  private readonly replyFrames = new Map<number, OrderedRepliesBuilder>();
  private replyFlushScheduled = false;
  /** Which subgroups this node is a member of, for the view it was computed in. */
  private memberOf: { view: GroupView; subgroups: boolean[] } | undefined;
  /** Persistence frontiers of the persistent subgroups this node holds a replica of. */
  private readonly frontiers = new Map<number, PersistenceFrontier>();

  constructor(
    private readonly transport: RpcTransport,
    readonly codec: SchemaCodec,
    private readonly factories: ReadonlyMap<string, ReplicaFactory>,
    /** Decodes delivered ordered calls: their payload is a copy the core handed over, so byte arrays may alias it. */
    private readonly deliveryCodec: SchemaCodec = codec,
    private readonly options: RpcEngineOptions = {},
  ) {}

  /** Whether `type` (a subgroup's type in the view) is one of the typed classes. */
  isTyped(type: string): boolean {
    return this.factories.has(type);
  }

  /** A view started: build the replicas this node now holds, and send calls that waited for it. */
  onView(view: GroupView): void {
    this.ensureReplicas(view);
    // The previous view ended only once its trimmed prefix was persisted at every member that
    // carries on (view-manager install()): its versions are globally persisted now, even if
    // the old view's frontier never said so (a failed member held it back).
    if (view.vid > 0) {
      const beforeThisView = (BigInt(view.vid) << 32n) - 1n;
      for (const frontier of this.frontiers.values()) frontier.advanceGlobal(beforeThisView);
    }
    const early = this.beforeView;
    this.beforeView = [];
    for (const { from, bytes } of early) this.onFrame(from, bytes);
    const waiting = this.waitingForView;
    this.waitingForView = [];
    for (const send of waiting) send();
  }

  /** The local replica of typed subgroup `subgroupId`, if this node is in one of its shards. */
  localReplica(subgroupId: number): object | undefined {
    return this.replicas.get(subgroupId)?.instance;
  }

  /**
   * The state of my replica of `subgroupId` for a joiner, or null when I hold none: its plain
   * fields (or its snapshotState()), and the whole retained log of each versioned field, so the
   * joiner ends with the same values and the same version history.
   */
  snapshotReplica(subgroupId: number): Uint8Array | null {
    const replica = this.replicas.get(subgroupId);
    if (replica === undefined) return null;
    const versioned = replica.versions?.registry.fieldNames ?? [];
    return transferPackr.pack({ fields: snapshotReplica(replica.instance, versioned), versions: replica.versions?.serialize() ?? null });
  }

  /**
   * A joiner's replica of `subgroupId` starts from the old shard leader's state: build it from
   * the factory as usual, then restore the transferred state into it.
   */
  installReplicaState(view: GroupView, subgroupId: number, state: Uint8Array | null): void {
    this.createReplica(view, subgroupId, state === null);
    const replica = this.replicas.get(subgroupId);
    if (replica === undefined || state === null) return;
    const transfer = transferPackr.unpack(state) as { fields?: unknown; versions?: unknown } | null;
    if (typeof transfer !== 'object' || transfer === null || !(transfer.fields instanceof Uint8Array)) throw new TypeError(`the state transferred for ${replica.className} subgroup ${subgroupId} is not a replica state`);
    restoreReplica(replica.instance, transfer.fields, replica.versions?.registry.fieldNames ?? []);
    const versions = transfer.versions;
    if (versions instanceof Uint8Array) {
      if (replica.versions === undefined) throw new Error(`the state transferred for ${replica.className} subgroup ${subgroupId} carries versioned fields, but this node's replica has none (different builds?)`);
      replica.versions.restore(versions);
    } else if (replica.versions !== undefined) {
      throw new Error(`the state transferred for ${replica.className} subgroup ${subgroupId} carries no versioned fields, but this node's replica has ${replica.versions.registry.fieldNames.join(', ')} (different builds?)`);
    }
  }

  private ensureReplicas(view: GroupView): void {
    for (let subgroupId = 0; subgroupId < view.subgroups.length; subgroupId++) this.createReplica(view, subgroupId, true);
  }

  /** Builds my replica of `subgroupId` if I am in one of its shards and hold none yet. */
  private createReplica(view: GroupView, subgroupId: number, startsEmpty: boolean): void {
    if (this.replicas.has(subgroupId)) return;
    const sg = view.subgroups[subgroupId];
    const factory = sg === undefined ? undefined : this.factories.get(sg.type);
    if (factory === undefined) return;
    const me = this.transport.nodeId;
    const shard = sg.shards.findIndex((s) => s.members.includes(me));
    if (shard < 0) return;
    const instance = factory.create({ subgroupIndex: sg.index, shard, nodeId: me });
    if (typeof instance !== 'object' || instance === null) throw new TypeError(`the factory of ${sg.type} returned ${instance === null ? 'null' : typeof instance}, expected an instance`);
    const mode = sg.shards[shard].mode;
    const persistent = mode === 'persistent';
    const settings = this.options.persistence;
    let frontier: PersistenceFrontier | undefined;
    if (persistent) this.frontiers.set(subgroupId, (frontier = new PersistenceFrontier(subgroupId)));
    const versions = ReplicaVersions.create(
      instance,
      {
        subgroupId,
        shard,
        className: sg.type,
        durable: persistent && settings !== undefined && settings.enabled,
        settings: settings ?? { enabled: false, dir: '', fsync: false },
        log: this.transport.log,
        onPersisted: (version) => {
          this.transport.persisted?.(subgroupId, version);
          frontier?.advanceLocal(version);
        },
        globalPersisted: frontier === undefined ? undefined : () => frontier.global,
        onFailed: (error) => {
          const failure = new Error(`node ${me} cannot make ${sg.type} subgroup ${subgroupId} durable: ${error.message}`);
          frontier?.fail(failure);
          this.transport.persistenceFailed?.(subgroupId, failure);
        },
      },
      startsEmpty,
    );
    this.replicas.set(subgroupId, { className: sg.type, instance: instance as Record<string, unknown>, persistent, versions, versioning: mode !== 'unordered', ordered: [] });
  }

  // ---- persistence ----------------------------------------------------------------------------

  /**
   * The core asks for `subgroupId` to be made durable through `version` (its `persist` output).
   * A replica with Persistent fields on disk runs a group commit and answers when it is done;
   * anything else has nothing to write and answers at once.
   */
  onPersist(subgroupId: number, version: Version): void {
    const versions = this.replicas.get(subgroupId)?.versions;
    if (versions !== undefined && versions.durable) {
      versions.requestPersist(version);
      return;
    }
    this.transport.persisted?.(subgroupId, version);
    this.frontiers.get(subgroupId)?.advanceLocal(version);
  }

  /** Every member of my shard of `subgroupId` persisted through `version` (the core's globalPersisted). */
  onGlobalPersisted(subgroupId: number, version: Version): void {
    this.frontiers.get(subgroupId)?.advanceGlobal(version);
  }

  private invocationId(): number {
    const id = this.nextInvocation;
    this.nextInvocation = id === MAX_INVOCATION ? 1 : id + 1;
    // The detail closure only when it fails: this runs once per call.
    if (this.ordered.has(id) || this.p2p.has(id)) invariant(false, 'invocation ids are not reused while pending', () => `id ${id}`);
    return id;
  }

  // ---- caller side ------------------------------------------------------------------------

  /** An ordered call from this node: returns its results at once; the multicast may wait for a view. */
  callOrdered<R>(subgroupId: number, codec: MethodCodec, args: readonly unknown[]): OrderedCallResults<R> {
    if (this.closed) throw new SenderRemovedError(`node ${this.transport.nodeId} has left the group; it cannot call ${codec.className}.${codec.methodName}`);
    if (!codec.method.ordered) throw new TypeError(`${codec.className}.${codec.methodName} is not an @Ordered() method`);
    const view = this.transport.view();
    if (view !== undefined) this.requireMember(view, subgroupId, codec);
    // Header and arguments in one buffer, encoded in place: no second copy of the arguments.
    const payload = codec.encodeArgsFramed(args, ORDERED_HEADER_BYTES);
    const invocation = this.invocationId();
    writeOrderedHeader(payload, codec.method.id, this.transport.nodeId, invocation);
    const results = new PendingOrdered<R>(codec, subgroupId);
    this.ordered.set(invocation, results as PendingOrdered);
    if (view !== undefined) {
      // Refusals (a payload over maxPayloadBytes, ...) throw here, at the call.
      try {
        this.transport.multicast(subgroupId, payload);
      } catch (err) {
        this.ordered.delete(invocation);
        throw err;
      }
      return results;
    }
    this.waitingForView.push(() => {
      try {
        const v = this.transport.view();
        if (v !== undefined) this.requireMember(v, subgroupId, codec);
        this.transport.multicast(subgroupId, payload);
      } catch (err) {
        this.ordered.delete(invocation);
        results.abort(err as Error);
      }
    });
    return results;
  }

  private requireMember(view: GroupView, subgroupId: number, codec: MethodCodec): void {
    let cached = this.memberOf;
    if (cached === undefined || cached.view !== view) {
      const me = this.transport.nodeId;
      cached = this.memberOf = { view, subgroups: view.subgroups.map((sg) => sg.shards.some((s) => s.members.includes(me))) };
    }
    if (cached.subgroups[subgroupId] !== true) {
      const sg = view.subgroups[subgroupId];
      throw new NotAMemberError(`node ${this.transport.nodeId} is not in any shard of ${codec.className}[${sg?.index ?? '?'}] in view ${view.vid}; use group.peer() for p2p calls from outside`);
    }
  }

  /** A p2p call to `target`, a member of (some shard of) `subgroupId` in the current view. */
  callP2P<R>(subgroupId: number, target: NodeId, codec: MethodCodec, args: readonly unknown[]): Promise<R> {
    if (this.closed) return Promise.reject(new SenderRemovedError(`node ${this.transport.nodeId} has left the group; it cannot call ${codec.className}.${codec.methodName}`));
    if (!codec.method.p2p) throw new TypeError(`${codec.className}.${codec.methodName} is not a @P2P() method; p2p calls may only name @P2P() methods`);
    const view = this.transport.view();
    const sg = view?.subgroups[subgroupId];
    if (view === undefined || sg === undefined) throw new InvalidNodeError(`no installed view holds ${codec.className} subgroup ${subgroupId}`);
    if (!sg.shards.some((s) => s.members.includes(target))) {
      throw new InvalidNodeError(`node ${target} is not a member of ${codec.className}[${sg.index}] in view ${view.vid} (members: ${sg.shards.map((s, i) => `shard ${i}: ${s.members.join(', ')}`).join('; ')})`);
    }
    const argBytes = codec.encodeArgs(args);
    const removed = this.removed.get(target);
    if (removed !== undefined) return Promise.reject(new NodeRemovedError(target, removed));
    const invocation = this.invocationId();
    const promise = new Promise<R>((resolve, reject) => {
      this.p2p.set(invocation, { target, codec, resolve: resolve as (v: unknown) => void, reject });
    });
    if (target === this.transport.nodeId) {
      // A call to myself takes the same FIFO path as one from a peer, without the wire.
      const replica = this.replicas.get(subgroupId);
      invariant(replica !== undefined, 'a member holds its replica', () => `${codec.className} subgroup ${subgroupId}`);
      this.enqueueP2P({ from: target, invocation, replica, codec, args: codec.decodeArgs(argBytes) });
    } else {
      try {
        this.transport.sendP2P(target, [p2pRequestHeader(this.transport.channel, codec.method.id, subgroupId, invocation), argBytes]);
      } catch (err) {
        this.p2p.delete(invocation);
        return Promise.reject(new NodeRemovedError(target, (err as Error).message));
      }
    }
    return promise;
  }

  // ---- delivery of ordered calls ----------------------------------------------------------

  /** A cooked delivery: run the call on this node's replica and answer the caller. */
  onDeliver(d: DeliverOutput, view: GroupView): void {
    let replica = this.replicas.get(d.subgroup);
    if (replica === undefined) {
      // Deliveries can come with a view's start, before its 'view' event built the replicas.
      try {
        this.ensureReplicas(view);
      } catch (err) {
        // The 'view' event meets the same failure and stops the node (Group); skip until then.
        this.transport.log.error({ subgroup: d.subgroup }, 'cannot build the replica for a delivery: %s', (err as Error).message);
        return;
      }
      replica = this.replicas.get(d.subgroup);
      if (replica === undefined) {
        this.transport.log.error({ subgroup: d.subgroup, sender: d.senderNode }, 'an RPC message for a subgroup without a local replica; skipped');
        return;
      }
    }
    const payload = d.payload;
    try {
      checkOrderedRequest(payload);
    } catch (err) {
      // Every member delivers the same bytes, so every member skips it the same way.
      this.transport.log.error({ subgroup: d.subgroup, sender: d.senderNode }, 'skipping a malformed ordered RPC message: %s', (err as Error).message);
      return;
    }
    const methodId = readU16(payload, 2);
    const caller = readU32(payload, 4);
    const invocation = readU32(payload, 8);
    const me = this.transport.nodeId;
    const mine = caller === me ? this.ordered.get(invocation) : undefined;
    let codec = replica.ordered[methodId];
    if (codec === undefined) {
      try {
        codec = this.deliveryCodec.methodById(replica.className, methodId);
        if (!codec.method.ordered) throw new Error(`${replica.className}.${codec.methodName} is not an @Ordered() method`);
      } catch (err) {
        this.transport.log.error({ subgroup: d.subgroup, caller }, 'skipping an ordered RPC message: %s', (err as Error).message);
        if (mine !== undefined) {
          this.ordered.delete(invocation);
          mine.abort(err as Error);
        }
        return;
      }
      replica.ordered[methodId] = codec;
    }
    const replyExpected = codec.method.result.t !== 'void';
    if (mine !== undefined) {
      const members = view.subgroups[d.subgroup].shards[d.shard].members;
      if (mine.delivered(members, d.version, d.hlc, replyExpected, replica.persistent ? this.frontiers.get(d.subgroup) : undefined, this.removed)) this.ordered.delete(invocation);
    }

    // Run the handler inline (no closure or outcome object per call): this is the hot path.
    let value: unknown;
    let threw = false;
    const outer = enterApplied(d.version, d.hlc);
    try {
      const args = codec.decodeArgsAt(payload, ORDERED_HEADER_BYTES);
      const method = replica.instance[codec.methodName];
      if (typeof method !== 'function') throw new TypeError(`${replica.className}.${codec.methodName} is not a method of the local replica`);
      value = (method as (...a: unknown[]) => unknown).apply(replica.instance, args);
    } catch (error) {
      threw = true;
      value = error;
    } finally {
      exitApplied(outer);
    }
    // The version holds what the handler did synchronously: an async handler's work after its
    // first await is not part of it (it lands in a later version, differently at each replica).
    if (replica.versions !== undefined && replica.versioning) this.stampVersion(replica, d);
    if (!replyExpected) {
      if (threw) this.logHandlerError(codec, value);
      else if (isThenable(value)) Promise.resolve(value).catch((err: unknown) => this.logHandlerError(codec, err));
      return;
    }
    if (threw) this.answerOrdered(caller, d.subgroup, invocation, codec, false, value);
    else if (isThenable(value)) {
      const c = codec;
      Promise.resolve(value).then(
        (v) => this.answerOrdered(caller, d.subgroup, invocation, c, true, v),
        (error: unknown) => this.answerOrdered(caller, d.subgroup, invocation, c, false, error),
      );
    } else this.answerOrdered(caller, d.subgroup, invocation, codec, true, value);
  }

  private stampVersion(replica: Replica, d: DeliverOutput): void {
    try {
      replica.versions!.version(d.version, d.hlc);
    } catch (err) {
      // Every replica stamps the same versions, so this is a local fault (a closed log, a full
      // disk buffer): say so loudly; the replica's history now has a hole at this version.
      this.transport.log.error({ subgroup: d.subgroup, version: String(d.version) }, 'cannot record version %s of %s: %s', String(d.version), replica.className, (err as Error).message);
    }
  }

  private logHandlerError(codec: MethodCodec, err: unknown): void {
    this.transport.log.warn({ method: `${codec.className}.${codec.methodName}` }, 'a void handler threw (void calls have no replies): %s', err instanceof Error ? err.message : String(err));
  }

  /**
   * This replica's answer to an ordered call: straight into the caller's results when the caller
   * is this node, else into the caller's reply frame, which goes out when the current delivery
   * batch (this synchronous run) ends: one P2P message per caller per batch, not one per call.
   */
  private answerOrdered(caller: number, subgroupId: number, invocation: number, codec: MethodCodec, ok: boolean, valueOrError: unknown): void {
    if (caller === this.transport.nodeId) {
      this.ownOrderedReply(invocation, ok ? { ok: true, value: valueOrError } : { ok: false, error: valueOrError });
      return;
    }
    if (this.closed) return;
    const [status, body] = this.replyBody(codec, ok, valueOrError);
    let frame = this.replyFrames.get(caller);
    if (frame === undefined) this.replyFrames.set(caller, (frame = new OrderedRepliesBuilder()));
    frame.add(status, subgroupId, invocation, body);
    if (frame.count >= MAX_ORDERED_REPLIES || frame.bodyBytesSoFar >= MAX_REPLY_FRAME_BODY_BYTES) this.sendReplyFrame(caller, frame);
    else if (!this.replyFlushScheduled) {
      this.replyFlushScheduled = true;
      queueMicrotask(() => this.flushReplies());
    }
  }

  /** Sends every caller's pending reply frame. */
  private flushReplies(): void {
    this.replyFlushScheduled = false;
    for (const [caller, frame] of this.replyFrames) if (frame.count > 0) this.sendReplyFrame(caller, frame);
  }

  private sendReplyFrame(caller: number, frame: OrderedRepliesBuilder): void {
    const count = frame.count;
    const bytes = frame.take(this.transport.channel);
    try {
      this.transport.sendP2P(caller, [bytes]);
    } catch (err) {
      // The caller is gone: it fails those calls itself (its own leave or close).
      this.transport.log.warn({ to: caller, replies: count }, 'cannot send RPC replies: %s', (err as Error).message);
    }
  }

  private apply(replica: Replica, codec: MethodCodec, args: unknown[]): Outcome {
    try {
      const method = replica.instance[codec.methodName];
      if (typeof method !== 'function') throw new TypeError(`${replica.className}.${codec.methodName} is not a method of the local replica`);
      const value = (method as (...a: unknown[]) => unknown).apply(replica.instance, args);
      return isThenable(value) ? { kind: 'async', promise: Promise.resolve(value) } : { kind: 'value', value };
    } catch (error) {
      return { kind: 'threw', error };
    }
  }

  /** My own replica's answer to my own call: through the codec, so the caller never shares the replica's objects. */
  private ownOrderedReply(invocation: number, result: { ok: true; value: unknown } | { ok: false; error: unknown }): void {
    const pending = this.ordered.get(invocation);
    if (pending === undefined) return;
    if (pending.reply(this.transport.nodeId, this.localOutcome(pending.codec, result))) this.ordered.delete(invocation);
  }

  private localOutcome(codec: MethodCodec, result: { ok: true; value: unknown } | { ok: false; error: unknown }): ReplyOutcome<unknown> {
    const me = this.transport.nodeId;
    if (!result.ok) return { ok: false, error: toRemoteError(me, result.error) };
    try {
      return { ok: true, value: codec.decodeResult(codec.encodeResult(result.value)) };
    } catch (err) {
      return { ok: false, error: toRemoteError(me, err) };
    }
  }

  /** A reply's status and body: the marshalled result, or the error (a result that fails to marshal is one). */
  private replyBody(codec: MethodCodec, ok: boolean, valueOrError: unknown): [ReplyStatus, Uint8Array] {
    if (ok) {
      try {
        return [ReplyStatus.Ok, codec.encodeResult(valueOrError)];
      } catch (err) {
        return [ReplyStatus.Exception, encodeRemoteError(err)];
      }
    }
    return [ReplyStatus.Exception, encodeRemoteError(valueOrError)];
  }

  private sendReply(to: number, codec: MethodCodec, result: { ok: true; value: unknown } | { ok: false; error: unknown }, header: (status: ReplyStatus) => Uint8Array): void {
    const [status, body] = result.ok ? this.replyBody(codec, true, result.value) : this.replyBody(codec, false, result.error);
    try {
      this.transport.sendP2P(to, [header(status), body]);
    } catch (err) {
      this.transport.log.warn({ to, method: `${codec.className}.${codec.methodName}` }, 'cannot send an RPC reply: %s', (err as Error).message);
    }
  }

  // ---- P2P frames -------------------------------------------------------------------------

  /** One Channel.Rpc message from `from` (without the channel byte). Malformed ones drop the peer. */
  onFrame(from: number, bytes: Uint8Array): void {
    if (this.closed) return;
    try {
      this.handleFrame(from, bytes);
    } catch (err) {
      if (err instanceof RpcWireError) this.transport.dropPeer(from, `malformed RPC message: ${err.message}`);
      else this.transport.log.error({ peer: from }, 'failed to handle an RPC message: %s', err instanceof Error ? err.message : String(err));
    }
  }

  private handleFrame(from: number, bytes: Uint8Array): void {
    const frame = decodeRpcFrame(bytes);
    switch (frame.kind) {
      case RpcKind.P2PRequest: {
        const replica = this.replicas.get(frame.subgroupId);
        if (replica === undefined && this.transport.view() === undefined) {
          this.beforeView.push({ from, bytes });
          return;
        }
        if (replica === undefined) {
          // Not malformed: the caller's view may say otherwise (after a view change). Tell it.
          const err = new NotAMemberError(`node ${this.transport.nodeId} holds no replica of subgroup ${frame.subgroupId}`);
          this.transport.sendP2P(from, [p2pReplyHeader(this.transport.channel, ReplyStatus.Exception, frame.invocation), encodeRemoteError(err)]);
          return;
        }
        let codec: MethodCodec;
        try {
          codec = this.codec.methodById(replica.className, frame.methodId);
        } catch (err) {
          throw new RpcWireError((err as Error).message);
        }
        if (!codec.method.p2p) throw new RpcWireError(`${replica.className}.${codec.methodName} is not a @P2P() method`);
        // Decoded now, not when its turn comes: bad bytes drop the peer before anything runs.
        const args = wireDecode(() => codec.decodeArgs(frame.args));
        this.enqueueP2P({ from, invocation: frame.invocation, replica, codec, args });
        return;
      }
      case RpcKind.P2PReply: {
        const pending = this.p2p.get(frame.invocation);
        if (pending === undefined || pending.target !== from) return; // late (the call already failed)
        this.p2p.delete(frame.invocation);
        const outcome = this.decodeReply(from, pending.codec, frame.status, frame.body, 0, frame.body.length);
        if (outcome.ok) pending.resolve(outcome.value);
        else pending.reject(outcome.error);
        return;
      }
      case RpcKind.OrderedReply:
        this.onOrderedReply(from, { status: frame.status, subgroupId: frame.subgroupId, invocation: frame.invocation, frame: frame.body, bodyStart: 0, bodyEnd: frame.body.length });
        return;
      case RpcKind.OrderedReplies:
        readOrderedReplies(frame.frame, (entry) => this.onOrderedReply(from, entry));
        return;
    }
  }

  /** One member's reply to one of my ordered calls (late ones, for calls already failed, are dropped). */
  private onOrderedReply(from: number, entry: Readonly<OrderedReplyEntry>): void {
    const pending = this.ordered.get(entry.invocation);
    if (pending === undefined || pending.subgroupId !== entry.subgroupId) return;
    if (pending.reply(from, this.decodeReply(from, pending.codec, entry.status, entry.frame, entry.bodyStart, entry.bodyEnd))) this.ordered.delete(entry.invocation);
  }

  /** A reply whose body is `bytes[start..end)`. */
  private decodeReply(from: number, codec: MethodCodec, status: ReplyStatus, bytes: Uint8Array, start: number, end: number): ReplyOutcome<unknown> {
    if (status === ReplyStatus.Exception) {
      const e = decodeRemoteError(bytes.subarray(start, end));
      return { ok: false, error: new RemoteError(from, e.name, e.message) };
    }
    try {
      return { ok: true, value: codec.decodeResultAt(bytes, start, end) };
    } catch (err) {
      // Bytes from the peer that do not decode are the peer's fault (see onFrame).
      throw new RpcWireError(err instanceof Error ? err.message : String(err));
    }
  }

  private enqueueP2P(job: P2PJob): void {
    this.p2pQueue.push(job);
    if (!this.p2pRunning) this.drainP2P();
  }

  /** FIFO at the target: a job starts only when the one before it (async ones included) finished. */
  private drainP2P(): void {
    this.p2pRunning = true;
    while (this.p2pQueue.length > 0 && !this.closed) {
      const job = this.p2pQueue.shift()!;
      const outcome = this.apply(job.replica, job.codec, job.args);
      if (outcome.kind === 'async') {
        outcome.promise.then(
          (value) => this.finishP2P(job, { ok: true, value }),
          (error: unknown) => this.finishP2P(job, { ok: false, error }),
        );
        return;
      }
      this.answerP2P(job, outcome.kind === 'value' ? { ok: true, value: outcome.value } : { ok: false, error: outcome.error });
    }
    this.p2pRunning = false;
  }

  private finishP2P(job: P2PJob, result: { ok: true; value: unknown } | { ok: false; error: unknown }): void {
    this.answerP2P(job, result);
    this.drainP2P();
  }

  private answerP2P(job: P2PJob, result: { ok: true; value: unknown } | { ok: false; error: unknown }): void {
    if (job.from === this.transport.nodeId) {
      const pending = this.p2p.get(job.invocation);
      if (pending === undefined) return;
      this.p2p.delete(job.invocation);
      const outcome = this.localOutcome(job.codec, result);
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
      return;
    }
    this.sendReply(job.from, job.codec, result, (status) => p2pReplyHeader(this.transport.channel, status, job.invocation));
  }

  // ---- failures -----------------------------------------------------------------------------

  /** A peer failed: its open reply entries reject with NodeRemovedError. */
  onPeerFailed(nodeId: NodeId, reason: string): void {
    this.removed.set(nodeId, reason);
    for (const [invocation, pending] of [...this.ordered]) if (pending.nodeRemoved(nodeId, reason)) this.ordered.delete(invocation);
    this.replyFrames.delete(nodeId);
    for (const [invocation, pending] of [...this.p2p]) {
      if (pending.target !== nodeId) continue;
      this.p2p.delete(invocation);
      pending.reject(new NodeRemovedError(nodeId, reason));
    }
  }

  /**
   * This node leaves: every call it still waits on rejects with SenderRemovedError, and the
   * replicas' logs are closed (flushed and synced). Resolves once they are; never rejects.
   */
  close(reason: string): Promise<void> {
    if (this.closed) return this.closing ?? Promise.resolve();
    // Replies this node already computed still go out (they were due before it left).
    this.flushReplies();
    this.replyFrames.clear();
    this.closed = true;
    const error = new SenderRemovedError(`node ${this.transport.nodeId} left the group before the replies came: ${reason}`);
    for (const pending of [...this.ordered.values()]) pending.abort(error);
    for (const pending of this.p2p.values()) pending.reject(error);
    this.ordered.clear();
    this.p2p.clear();
    this.p2pQueue.length = 0;
    this.waitingForView = [];
    for (const frontier of this.frontiers.values()) frontier.fail(error);
    const logs: Promise<void>[] = [];
    for (const replica of this.replicas.values()) if (replica.versions !== undefined) logs.push(replica.versions.close());
    this.closing = Promise.all(logs).then(() => undefined);
    return this.closing;
  }

  private closing: Promise<void> | undefined;
}

type Outcome = { kind: 'value'; value: unknown } | { kind: 'threw'; error: unknown } | { kind: 'async'; promise: Promise<unknown> };

function toRemoteError(node: number, thrown: unknown): RemoteError {
  return thrown instanceof Error ? new RemoteError(node, thrown.name, thrown.message) : new RemoteError(node, typeof thrown, String(thrown));
}

/** Any failure to decode bytes from a peer (msgpack errors, WireTypeError) is the peer's fault. */
function wireDecode<T>(decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    throw new RpcWireError(err instanceof Error ? err.message : String(err));
  }
}
