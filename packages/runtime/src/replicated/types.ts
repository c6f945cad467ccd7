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

/** The point-to-point surface of `T` for `Names`: each method returns a promise of its result, rejected with a `CallError`. */
export type P2PStubOf<T, Names extends keyof T> = {
  readonly [K in Names]: T[K] extends (...args: infer A) => infer R ? (...args: A) => CallPromise<Awaited<R>> : never;
};

/** `handle.ordered` for the registered class `T`: only its `@Ordered()` methods. */
export type OrderedStub<T> = [RegistryEntryOf<T>] extends [never] ? NotRegistered : OrderedStubOf<T, OrderedMethodName<T>>;

/** `handle.p2p(node)` for the registered class `T`: only its `@P2P()` methods. */
export type P2PStub<T> = [RegistryEntryOf<T>] extends [never] ? NotRegistered : P2PStubOf<T, P2PMethodName<T>>;
