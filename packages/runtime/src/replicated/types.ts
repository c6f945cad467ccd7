/**
 * The type-level API of replicated classes, tRPC-style: the developer-facing call surface is
 * computed by mapped types from the class's own type, so every method, argument and result is
 * checked by the user's editor. Decorators cannot change a class's type, so which methods are
 * `@Ordered()` or `@P2P()` comes from `derecho-codegen`, which augments `ReplicatedRegistry`:
 *
 * ```ts
 * declare module '@derecho-ts/runtime' {
 *   interface ReplicatedRegistry {
 *     KVStore: { instance: KVStore; ordered: 'put'; p2p: 'get' };
 *   }
 * }
 * ```
 */
import type { Hlc } from '../core/hlc.js';
import type { Version } from '../core/version.js';
import type { CallPromise } from './call-errors.js';

/** Node ids as the rest of the runtime uses them. */
export type NodeId = number;

/**
 * One entry per `@Replicated()` class, keyed by its wire name; filled in by the generated file's
 * module augmentation. Empty until codegen runs.
 */
export interface ReplicatedRegistry {}

/** The shape of a registry entry. */
export interface ReplicatedRegistryEntry {
  /** The class's instance type. */
  readonly instance: object;
  /** Union of its `@Ordered()` method names (`never` when there are none). */
  readonly ordered: string;
  /** Union of its `@P2P()` method names (`never` when there are none). */
  readonly p2p: string;
}

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


/**
 * The wire name of the registered class whose instance type is exactly `T` (assignable both ways,
 * so a subclass or look-alike does not match its base's entry). `never` when `T` is not registered.
 */
export type ReplicatedName<T> = {
  [K in keyof ReplicatedRegistry]: ReplicatedRegistry[K] extends { instance: infer I }
    ? [T] extends [I]
      ? [I] extends [T]
        ? K
        : never
      : never
    : never;
}[keyof ReplicatedRegistry];

/** The registry entry of `T`, or `never`. */
export type RegistryEntryOf<T> = ReplicatedRegistry[ReplicatedName<T>];

/** Instance types of every registered class. */
export type RegisteredInstance = ReplicatedRegistry[keyof ReplicatedRegistry] extends { instance: infer I } ? I : never;

/** Method names of `T` that the registry lists as ordered / p2p. */
export type OrderedMethodName<T> = RegistryEntryOf<T> extends { ordered: infer N extends string } ? N & keyof T : never;
export type P2PMethodName<T> = RegistryEntryOf<T> extends { p2p: infer N extends string } ? N & keyof T : never;

/** What a stub offers for a class codegen has not registered: a readable hover instead of methods. */
export interface NotRegistered {
  readonly 'derecho-codegen has not registered this class: run derecho-codegen': never;
}

/**
 * The ordered-call surface of `T` for the method names `Names`, independent of the registry: each
 * method takes the same arguments and returns the `QueryResults` of its (unwrapped) result.
 */
export type OrderedStubOf<T, Names extends keyof T> = {
  readonly [K in Names]: T[K] extends (...args: infer A) => infer R ? (...args: A) => QueryResults<Awaited<R>> : never;
};

/** The point-to-point surface of `T` for `Names`: each method returns a promise of its result, rejected with a `CallError`. */
export type P2PStubOf<T, Names extends keyof T> = {
  readonly [K in Names]: T[K] extends (...args: infer A) => infer R ? (...args: A) => CallPromise<Awaited<R>> : never;
};

/** `handle.ordered` for the registered class `T`: only its `@Ordered()` methods. */
export type OrderedStub<T> = [RegistryEntryOf<T>] extends [never] ? NotRegistered : OrderedStubOf<T, OrderedMethodName<T>>;

/** `handle.p2p(node)` for the registered class `T`: only its `@P2P()` methods. */
export type P2PStub<T> = [RegistryEntryOf<T>] extends [never] ? NotRegistered : P2PStubOf<T, P2PMethodName<T>>;
