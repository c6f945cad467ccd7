/**
 * The replica host: this node's replicas (one per typed subgroup shard it is in), built from
 * their factories as views start, and the dispatch of calls to them. Delivered ordered calls run
 * inline in delivery order, each inside its version (currentVersion()), which is stamped on the
 * replica's versioned fields; their answers go to this node's own call or to the caller's reply
 * batch.
 */
import type { DeliverOutput } from '../core/core-io.js';
import type { GroupView } from '../core/membership/group-view.js';
import { enterApplied, exitApplied } from './current-version.js';
import type { MethodCodec, SchemaCodec } from './marshal.js';
import type { PersistenceFrontiers } from './persistence-frontiers.js';
import type { ReplyBatcher } from './reply-batcher.js';
import { ReplicaVersions, type PersistenceSettings } from './replica-versions.js';
import type { RpcCaller } from './rpc-caller.js';
import type { RpcTransport } from './rpc-transport.js';
import { DedupTable, DEFAULT_DEDUP_LIMITS, type DedupLimits, type RecordedReply } from './call-dedup.js';
import type { CallId } from './call-id.js';
import { DuplicateCallError } from './rpc-errors.js';
import { checkOrderedRequest, decodeCallId, ORDERED_HEADER_BYTES, OrderedFlags, readU16, readU32, ReplyStatus } from './rpc-wire.js';

/** What the table records for a void call: it ran (nobody waits for its value). */
const VOID_REPLY: RecordedReply = { status: ReplyStatus.Ok, body: new Uint8Array(0) };

/** How to build this node's replica of a typed subgroup's shard. */
export interface ReplicaFactory {
  /** The class's wire name (the subgroup's type in the view). */
  readonly className: string;
  create(info: { readonly subgroupIndex: number; readonly shard: number; readonly nodeId: number }): object;
}

export interface Replica {
  readonly className: string;
  readonly instance: Record<string, unknown>;
  readonly persistent: boolean;
  /** Its versioned fields (absent when it has none). */
  readonly versions: ReplicaVersions | undefined;
  /** Ordered calls create versions (ordered and persistent shards, not unordered ones). */
  readonly versioning: boolean;
  /** Delivery-codec lookups by wire id, filled as ids are first seen (a table per replica, not a Map per call). */
  readonly ordered: (MethodCodec | undefined)[];
  /** The replies of exactly-once calls (those with a call id), replicated with the object. */
  readonly dedup: DedupTable;
}

/** What a call to a replica did: returned, threw, or returned a promise (an async handler). */
export type Outcome = { kind: 'value'; value: unknown } | { kind: 'threw'; error: unknown } | { kind: 'async'; promise: Promise<unknown> };

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

export class ReplicaHost {
  private readonly replicas = new Map<number, Replica>();

  constructor(
    private readonly transport: RpcTransport,
    private readonly factories: ReadonlyMap<string, ReplicaFactory>,
    /** Decodes delivered ordered calls: their payload is a copy the core handed over, so byte arrays may alias it. */
    private readonly deliveryCodec: SchemaCodec,
    /** Where replicas keep their Persistent fields; without it, versioned fields are kept in memory only. */
    private readonly persistence: PersistenceSettings | undefined,
    private readonly frontiers: PersistenceFrontiers,
    /** This node's own calls, which its replica answers directly. */
    private readonly calls: RpcCaller,
    private readonly replies: ReplyBatcher,
    private readonly dedupLimits: DedupLimits = DEFAULT_DEDUP_LIMITS,
  ) {}

  /** Whether `type` (a subgroup's type in the view) is one of the typed classes. */
  isTyped(type: string): boolean {
    return this.factories.has(type);
  }

  /** My replica of typed subgroup `subgroupId`, if this node is in one of its shards. */
  replica(subgroupId: number): Replica | undefined {
    return this.replicas.get(subgroupId);
  }

  /** Builds the replicas this node holds in `view` and does not hold yet. */
  ensureReplicas(view: GroupView): void {
    for (let subgroupId = 0; subgroupId < view.subgroups.length; subgroupId++) this.createReplica(view, subgroupId, true);
  }

  /** Builds my replica of `subgroupId` if I am in one of its shards and hold none yet. */
  createReplica(view: GroupView, subgroupId: number, startsEmpty: boolean): void {
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
    const settings = this.persistence;
    if (persistent) this.frontiers.open(subgroupId);
    const versions = ReplicaVersions.create(
      instance,
      {
        subgroupId,
        shard,
        className: sg.type,
        durable: persistent && settings !== undefined && settings.enabled,
        settings: settings ?? { enabled: false, dir: '', fsync: false },
        log: this.transport.log,
        onPersisted: (version) => this.frontiers.persisted(subgroupId, version),
        // Retention trims only below what every replica of the shard has persisted.
        globalPersisted: persistent ? () => this.frontiers.get(subgroupId)!.global : undefined,
        onFailed: (error) => this.frontiers.failed(subgroupId, new Error(`node ${me} cannot make ${sg.type} subgroup ${subgroupId} durable: ${error.message}`)),
      },
      startsEmpty,
    );
    this.replicas.set(subgroupId, { className: sg.type, instance: instance as Record<string, unknown>, persistent, versions, versioning: mode !== 'unordered', ordered: [], dedup: new DedupTable(this.dedupLimits) });
  }

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
    const mine = caller === me ? this.calls.pendingOrdered(invocation) : undefined;
    let argsAt = ORDERED_HEADER_BYTES;
    let callId: CallId | undefined;
    if ((payload[1] & OrderedFlags.CallId) !== 0) {
      try {
        ({ id: callId, argsAt } = decodeCallId(payload));
      } catch (err) {
        this.transport.log.error({ subgroup: d.subgroup, sender: d.senderNode }, 'skipping a malformed ordered RPC message: %s', (err as Error).message);
        if (mine !== undefined) this.calls.abortOwnCall(invocation, mine, err as Error);
        return;
      }
    }
    let codec = replica.ordered[methodId];
    if (codec === undefined) {
      try {
        codec = this.deliveryCodec.methodById(replica.className, methodId);
        if (!codec.method.ordered) throw new Error(`${replica.className}.${codec.methodName} is not an @Ordered() method`);
      } catch (err) {
        this.transport.log.error({ subgroup: d.subgroup, caller }, 'skipping an ordered RPC message: %s', (err as Error).message);
        if (mine !== undefined) this.calls.abortOwnCall(invocation, mine, err as Error);
        return;
      }
      replica.ordered[methodId] = codec;
    }
    const replyExpected = codec.method.result.t !== 'void';
    if (mine !== undefined) {
      const members = view.subgroups[d.subgroup].shards[d.shard].members;
      this.calls.ownCallDelivered(invocation, mine, members, d.version, d.hlc, replyExpected, replica.persistent ? this.frontiers.get(d.subgroup) : undefined);
    }
    if (callId !== undefined) {
      this.onDeliverOnce(replica, d, codec, callId, argsAt, caller, invocation, replyExpected);
      return;
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
    if (threw) this.answer(caller, d.subgroup, invocation, codec, false, value);
    else if (isThenable(value)) {
      const c = codec;
      Promise.resolve(value).then(
        (v) => this.answer(caller, d.subgroup, invocation, c, true, v),
        (error: unknown) => this.answer(caller, d.subgroup, invocation, c, false, error),
      );
    } else this.answer(caller, d.subgroup, invocation, codec, true, value);
  }

  /**
   * A delivered call with a call id: run once (its reply recorded in the replica's table, which
   * every replica updates the same way), or answered from the table when it is a retry.
   */
  private onDeliverOnce(replica: Replica, d: DeliverOutput, codec: MethodCodec, callId: CallId, argsAt: number, caller: number, invocation: number, replyExpected: boolean): void {
    const verdict = replica.dedup.deliver(callId, d.hlc.wallUs);
    if (verdict.kind !== 'new') {
      // Not applied again; the delivery is still a version, as at every other replica.
      if (replica.versions !== undefined && replica.versioning) this.stampVersion(replica, d);
      if (!replyExpected) return;
      if (verdict.kind === 'duplicate') this.answerRecorded(caller, d.subgroup, invocation, verdict.reply);
      else if (verdict.kind === 'refused') this.answer(caller, d.subgroup, invocation, codec, false, new DuplicateCallError(verdict.reason));
      else {
        verdict.wait((reply) => {
          if (reply !== undefined) this.answerRecorded(caller, d.subgroup, invocation, reply);
          else this.answer(caller, d.subgroup, invocation, codec, false, new DuplicateCallError(`call ${callId.seq} of client '${callId.client}' was applied, but its result is no longer held; it is not applied again`));
        });
      }
      return;
    }
    const outcome = this.applyOrdered(replica, d, codec, argsAt);
    const record = (ok: boolean, value: unknown): void => {
      const reply = replyExpected ? this.replies.encode(codec, ok, value) : VOID_REPLY;
      replica.dedup.settle(verdict.entry, reply);
      if (replyExpected) this.answerRecorded(caller, d.subgroup, invocation, reply);
      else if (!ok) this.logHandlerError(codec, value);
    };
    if (outcome.kind === 'async') {
      outcome.promise.then(
        (v) => record(true, v),
        (error: unknown) => record(false, error),
      );
    } else if (outcome.kind === 'value') record(true, outcome.value);
    else record(false, outcome.error);
  }

  /** Runs a delivered ordered call inside its version and stamps the version. */
  private applyOrdered(replica: Replica, d: DeliverOutput, codec: MethodCodec, argsAt: number): Outcome {
    let outcome: Outcome;
    const outer = enterApplied(d.version, d.hlc);
    try {
      const args = codec.decodeArgsAt(d.payload, argsAt);
      const method = replica.instance[codec.methodName];
      if (typeof method !== 'function') throw new TypeError(`${replica.className}.${codec.methodName} is not a method of the local replica`);
      const value = (method as (...a: unknown[]) => unknown).apply(replica.instance, args);
      outcome = isThenable(value) ? { kind: 'async', promise: Promise.resolve(value) } : { kind: 'value', value };
    } catch (error) {
      outcome = { kind: 'threw', error };
    } finally {
      exitApplied(outer);
    }
    if (replica.versions !== undefined && replica.versioning) this.stampVersion(replica, d);
    return outcome;
  }

  /** Runs a (p2p) call on `replica` outside any version. */
  apply(replica: Replica, codec: MethodCodec, args: unknown[]): Outcome {
    try {
      const method = replica.instance[codec.methodName];
      if (typeof method !== 'function') throw new TypeError(`${replica.className}.${codec.methodName} is not a method of the local replica`);
      const value = (method as (...a: unknown[]) => unknown).apply(replica.instance, args);
      return isThenable(value) ? { kind: 'async', promise: Promise.resolve(value) } : { kind: 'value', value };
    } catch (error) {
      return { kind: 'threw', error };
    }
  }

  /** Closes the replicas' logs (flushed and synced); resolves once they are. */
  closeLogs(): Promise<void> {
    const logs: Promise<void>[] = [];
    for (const replica of this.replicas.values()) if (replica.versions !== undefined) logs.push(replica.versions.close());
    return Promise.all(logs).then(() => undefined);
  }

  /**
   * This replica's answer to an ordered call: straight into the caller's results when the caller
   * is this node, else into the caller's reply frame of this delivery batch.
   */
  private answer(caller: number, subgroupId: number, invocation: number, codec: MethodCodec, ok: boolean, valueOrError: unknown): void {
    if (caller === this.transport.nodeId) this.calls.ownOrderedReply(invocation, ok ? { ok: true, value: valueOrError } : { ok: false, error: valueOrError });
    else this.replies.add(caller, subgroupId, invocation, codec, ok, valueOrError);
  }

  /** A recorded (marshalled) answer: to this node's own call, or into the caller's reply frame. */
  private answerRecorded(caller: number, subgroupId: number, invocation: number, reply: RecordedReply): void {
    if (caller === this.transport.nodeId) this.calls.ownOrderedReplyEncoded(invocation, reply.status, reply.body);
    else this.replies.addEncoded(caller, subgroupId, invocation, reply.status, reply.body);
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
}
