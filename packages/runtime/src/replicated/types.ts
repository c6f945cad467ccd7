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
import type { CallPromise } from '../rpc/call-errors.js';
import type { HistoryEntry, HistoryRange, TimeLike } from '../rpc/historical-read.js';
import type { NodeId, QueryResults } from '../rpc/query-results-api.js';

// Defined in rpc (which must not import this layer), part of the user API here.
export type { NodeId, QueryResults };

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

type Entries = ReplicatedRegistry[keyof ReplicatedRegistry];

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

/** The `@P2P()` methods of `T` named `Names`: each returns a promise of its result, rejected with a `CallError`. */
export type P2PMethodsOf<T, Names extends keyof T> = {
  readonly [K in Names]: T[K] extends (...args: infer A) => infer R ? (...args: A) => CallPromise<Awaited<R>> : never;
};

/** The `@P2P()` methods of `T` run over a range of versions: each resolves to one entry per version. */
export type HistoryStubOf<T, Names extends keyof T> = {
  readonly [K in Names]: T[K] extends (...args: infer A) => infer R ? (...args: A) => CallPromise<HistoryEntry<Awaited<R>>[]> : never;
};

/**
 * Historical reads: the same `@P2P()` methods, run at the replica against the object's state as
 * it was (every `Persistent`/`Volatile` field as of one version; plain fields are read as they
 * are now). Refusals reject with `HistoricalReadError` (`notStable`, `trimmed`, `notFound`).
 */
export interface HistoricalReads<T, Names extends keyof T> {
  /** As of `version`: the newest version of the object at or before it. */
  at(version: bigint): P2PMethodsOf<T, Names>;
  /**
   * As of an instant: an HLC (exact), or wall-clock time (a `Date`, or microseconds since the
   * epoch), meaning every version stamped up to the end of that microsecond.
   */
  asOf(time: TimeLike): P2PMethodsOf<T, Names>;
  /** Over every version from `from` through `to` (both inclusive; default: the retained range), at most `limit` (default 1000). */
  history(range?: HistoryRange): HistoryStubOf<T, Names>;
}

/** The point-to-point surface of `T` for `Names`: its `@P2P()` methods, and historical reads of them. */
export type P2PStubOf<T, Names extends keyof T> = [Names] extends [never] ? P2PMethodsOf<T, Names> : P2PMethodsOf<T, Names> & HistoricalReads<T, Names>;

/** `handle.ordered` for the registered class `T`: only its `@Ordered()` methods. */
export type OrderedStub<T> = [RegistryEntryOf<T>] extends [never] ? NotRegistered : OrderedStubOf<T, OrderedMethodName<T>>;

/** `handle.p2p(node)` for the registered class `T`: only its `@P2P()` methods. */
export type P2PStub<T> = [RegistryEntryOf<T>] extends [never] ? NotRegistered : P2PStubOf<T, P2PMethodName<T>>;
