/**
 * Typed subgroup handles: `group.subgroup(KVStore)` for members (ordered calls to the whole shard,
 * p2p calls to one member, the local replica) and `group.peer(KVStore, { shard })` for anyone in
 * the group (p2p calls only). The call surfaces are plain objects built from the wire schema,
 * typed by `OrderedStub<T>` / `P2PStub<T>`; a name that is not such a method throws a TypeError
 * naming it (for callers that bypassed the types).
 */
import { historySelector, toPoint, type HistoricalSelector, type HistoryRange, type TimeLike } from '../rpc/historical-read.js';
import type { MethodCodec } from '../rpc/marshal.js';
import type { CallId } from '../rpc/call-id.js';
import type { RpcEngine } from '../rpc/rpc-engine.js';
import { encodeCallId } from '../rpc/rpc-wire.js';
import { InvalidNodeError } from '../rpc/rpc-errors.js';
import type { NodeId, OrderedStub, P2PStub } from './types.js';

/** A member's handle on its shard of a typed subgroup. */
export interface ReplicatedHandle<T> {
  /** The class's wire name. */
  readonly type: string;
  /** Which subgroup of the type (0 unless the layout gives several). */
  readonly index: number;
  /** This node's shard. */
  readonly shard: number;
  /** Members of this node's shard in the current view, in rank order. */
  readonly members: readonly NodeId[];
  /** Ordered calls: run by every member of the shard in the same order; replies from each. */
  readonly ordered: OrderedStub<T>;
  /**
   * The same ordered calls, applied at most once for `id` (client, sequence): a retry with the
   * same id — from this member or any other, before or after a view change — is not applied
   * again and gets the first run's reply (a `DuplicateCallError` when the client had
   * acknowledged it). The shard keeps the replies with the object's state.
   */
  exactlyOnce(id: CallId): OrderedStub<T>;
  /** How many exactly-once replies (and clients) this node's replica keeps now: bounded by acknowledgements and age. */
  readonly exactlyOnceTable: { readonly entries: number; readonly clients: number };
  /** P2P calls to one member of the subgroup (`@P2P()` methods only). */
  p2p(nodeId: NodeId): P2PStub<T>;
  /** This node's replica (read it, never mutate it outside ordered calls). */
  readonly local: T;
  /** Ordered calls made here that wait for a window slot (the multicast's backpressure). */
  readonly queued: number;
  /** Resolves when fewer than `maxQueued` ordered calls wait for a window slot. */
  whenWritable(maxQueued?: number): Promise<void>;
}

/** P2P access to one shard of a typed subgroup from any member of the group. */
export interface PeerCaller<T> {
  readonly type: string;
  readonly index: number;
  readonly shard: number;
  /** Members of the shard in the current view, in rank order. */
  readonly members: readonly NodeId[];
  /** The stub for member `nodeId` of the shard (default: its first member). */
  p2p(nodeId?: NodeId): P2PStub<T>;
}

/** Where a handle points and how it reaches the engine; the group supplies the live pieces. */
export interface SubgroupTarget {
  readonly engine: RpcEngine;
  readonly className: string;
  readonly subgroupId: number;
  readonly index: number;
  readonly shard: number;
  /** Members of the shard in the current view. */
  members(): readonly NodeId[];
  queued(): number;
  whenWritable(maxQueued: number): Promise<void>;
  /** Told of every call made through the handle, with a promise that settles at its last reply (metrics). */
  readonly onCall?: (kind: 'ordered' | 'p2p', settled: Promise<unknown>) => void;
}

export function methodsOf(target: SubgroupTarget, kind: 'ordered' | 'p2p'): MethodCodec[] {
  const wireClass = target.engine.codec.schema.classes[target.className];
  return Object.keys(wireClass?.methods ?? {})
    .map((name) => target.engine.codec.method(target.className, name))
    .filter((codec) => codec.method[kind]);
}

/**
 * A stub object whose unknown string properties throw a TypeError saying what is allowed. The
 * methods are the object's own properties and the guard is a Proxy behind it, as its prototype:
 * a call finds its method without entering the Proxy, and only a miss reaches the guard.
 */
export function guarded<S extends object>(methods: Record<string, unknown>, what: string, allowed: readonly string[]): S {
  const guard = new Proxy(Object.prototype, {
    get(t, prop, receiver) {
      if (typeof prop === 'string' && !(prop in t) && prop !== 'then' && prop !== 'toJSON' && prop !== 'constructor') {
        throw new TypeError(`${what} has no method '${prop}' (${allowed.length > 0 ? `it has: ${allowed.join(', ')}` : 'it has none'})`);
      }
      return Reflect.get(t, prop, receiver) as unknown;
    },
  });
  const stub = Object.create(guard) as Record<string, unknown>;
  for (const [name, fn] of Object.entries(methods)) Object.defineProperty(stub, name, { value: fn, enumerable: true });
  return Object.freeze(stub) as S;
}

function orderedStub<T>(target: SubgroupTarget, callId?: CallId): OrderedStub<T> {
  const stub: Record<string, unknown> = {};
  const codecs = methodsOf(target, 'ordered');
  const onCall = target.onCall;
  for (const codec of codecs) {
    stub[codec.methodName] =
      onCall === undefined
        ? (...args: unknown[]) => target.engine.callOrdered(target.subgroupId, codec, args, callId)
        : (...args: unknown[]) => {
            const results = target.engine.callOrdered(target.subgroupId, codec, args, callId);
            onCall('ordered', results.all());
            return results;
          };
  }
  const what = callId === undefined ? `${target.className}.ordered` : `${target.className}.exactlyOnce(...)`;
  return guarded(stub, `${what} (the @Ordered() methods)`, codecs.map((c) => c.methodName));
}

/** The @P2P() methods of the target, each calling `nodeId` (as of `selector`, for historical reads). */
function p2pMethods(target: SubgroupTarget, nodeId: NodeId, what: string, selector: HistoricalSelector | undefined): Record<string, unknown> {
  const stub: Record<string, unknown> = {};
  const codecs = methodsOf(target, 'p2p');
  const onCall = target.onCall;
  for (const codec of codecs) {
    stub[codec.methodName] = (...args: unknown[]) => {
      const reply = target.engine.callP2P(target.subgroupId, nodeId, codec, args, selector);
      onCall?.('p2p', reply);
      return reply;
    };
  }
  return guarded(stub, what, codecs.map((c) => c.methodName));
}

function p2pStub<T>(target: SubgroupTarget, nodeId: NodeId): P2PStub<T> {
  const where = `${target.className}.p2p(${nodeId})`;
  const stub = p2pMethods(target, nodeId, `${where} (the @P2P() methods)`, undefined);
  const names = methodsOf(target, 'p2p').map((c) => c.methodName);
  const reads: Record<string, unknown> = {
    ...Object.fromEntries(names.map((n) => [n, stub[n]])),
    at: (version: bigint) => {
      if (typeof version !== 'bigint') throw new TypeError(`${where}.at() takes a version (a bigint, e.g. from currentVersion() or a put's result), got ${typeof version}; for a time use asOf()`);
      return p2pMethods(target, nodeId, `${where}.at(${version})`, { kind: 'asOf', point: toPoint(version, `${where}.at()`) });
    },
    asOf: (time: TimeLike) => p2pMethods(target, nodeId, `${where}.asOf()`, { kind: 'asOf', point: toPoint(time, `${where}.asOf()`) }),
    history: (range: HistoryRange = {}) => p2pMethods(target, nodeId, `${where}.history()`, historySelector(range)),
  };
  return guarded(reads, `${where} (the @P2P() methods, at, asOf, history)`, [...names, 'at', 'asOf', 'history']);
}

/** Throws InvalidNodeError unless `node` is a member of the target's shard in the current view. */
export function requireShardMember(target: SubgroupTarget, node: NodeId): void {
  const members = target.members();
  if (!members.includes(node)) throw new InvalidNodeError(`node ${node} is not a member of ${target.className}[${target.index}] shard ${target.shard} (members: ${members.join(', ') || 'none'})`);
}

export function createReplicatedHandle<T>(target: SubgroupTarget): ReplicatedHandle<T> {
  const p2pStubs = new Map<NodeId, P2PStub<T>>();
  const ordered = orderedStub<T>(target);
  return {
    type: target.className,
    index: target.index,
    shard: target.shard,
    get members() {
      return target.members();
    },
    ordered,
    exactlyOnce: (id: CallId) => {
      // Checked here, at the call, rather than when the first method is called.
      encodeCallId(id);
      return orderedStub<T>(target, id);
    },
    get exactlyOnceTable() {
      return target.engine.dedupStats(target.subgroupId) ?? { entries: 0, clients: 0 };
    },
    p2p(nodeId: NodeId): P2PStub<T> {
      let stub = p2pStubs.get(nodeId);
      if (stub === undefined) p2pStubs.set(nodeId, (stub = p2pStub<T>(target, nodeId)));
      return stub;
    },
    get local(): T {
      const replica = target.engine.localReplica(target.subgroupId);
      if (replica === undefined) throw new Error(`${target.className}[${target.index}]: this node holds no replica (yet)`);
      return replica as T;
    },
    get queued() {
      return target.queued();
    },
    whenWritable: (maxQueued = 1) => target.whenWritable(maxQueued),
  };
}

export function createPeerCaller<T>(target: SubgroupTarget): PeerCaller<T> {
  const stubs = new Map<NodeId, P2PStub<T>>();
  return {
    type: target.className,
    index: target.index,
    shard: target.shard,
    get members() {
      return target.members();
    },
    p2p(nodeId?: NodeId): P2PStub<T> {
      const node = nodeId ?? target.members()[0];
      requireShardMember(target, node);
      let stub = stubs.get(node);
      if (stub === undefined) stubs.set(node, (stub = p2pStub<T>(target, node)));
      return stub;
    },
  };
}
