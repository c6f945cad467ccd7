/**
 * Type tests of the stub mapped types, checked by `tsc -b` (this file is never run): positive
 * cases are assignments to exact expected types, negative cases carry `@ts-expect-error`, which
 * fails the build if the line compiles.
 */
import { HistoricalReadError, isCallError, NodeRemovedError, RemoteError, SenderRemovedError } from '@derecho-ts/runtime';
import type { CallError, CallPromise, Group, HistoryEntry, NotRegistered, OrderedStub, OrderedStubOf, P2PStub, P2PStubOf, QueryResults, ReplicatedName } from '@derecho-ts/runtime';

class TypeTestStore {
  private readonly data = new Map<string, Uint8Array>();
  put(key: string, value: Uint8Array): bigint {
    this.data.set(key, value);
    return 1n;
  }
  get(key: string): Uint8Array | undefined {
    return this.data.get(key);
  }
  async size(): Promise<number> {
    return this.data.size;
  }
  clear(): void {
    this.data.clear();
  }
  internal(): string {
    return 'not replicated';
  }
}

/** Same shape as TypeTestStore minus the private field: must not pick up TypeTestStore's entry. */
class LookAlike {
  put(_key: string, _value: Uint8Array): bigint {
    return 0n;
  }
}

class Unregistered {
  run(): void {}
}

// What derecho-codegen emits for TypeTestStore.
declare module '@derecho-ts/runtime' {
  interface ReplicatedRegistry {
    TypeTestStore: { instance: TypeTestStore; ordered: 'put' | 'clear' | 'size'; p2p: 'get' | 'size' };
  }
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

declare const ordered: OrderedStub<TypeTestStore>;
declare const p2p: P2PStub<TypeTestStore>;
declare const bytes: Uint8Array;

// Positive cases: exact method sets and signatures.
assertType<Equal<keyof typeof ordered, 'put' | 'clear' | 'size'>>();
assertType<Equal<keyof typeof p2p, 'get' | 'size' | 'at' | 'asOf' | 'history'>>();
// Historical reads: the same methods as of a version or instant, or over a range of versions.
assertType<Equal<keyof ReturnType<typeof p2p.at>, 'get' | 'size'>>();
assertType<Equal<ReturnType<ReturnType<typeof p2p.asOf>['size']>, CallPromise<number>>>();
assertType<Equal<ReturnType<ReturnType<typeof p2p.history>['size']>, CallPromise<HistoryEntry<number>[]>>>();
assertType<Equal<ReturnType<typeof ordered.put>, QueryResults<bigint>>>();
assertType<Equal<ReturnType<typeof ordered.clear>, QueryResults<void>>>();
assertType<Equal<ReturnType<typeof ordered.size>, QueryResults<number>>>(); // Promise results unwrap
assertType<Equal<Parameters<typeof ordered.put>, [key: string, value: Uint8Array]>>();
assertType<Equal<ReturnType<typeof p2p.get>, CallPromise<Uint8Array | undefined>>>();
assertType<Equal<ReturnType<typeof p2p.size>, CallPromise<number>>>();
assertType<Equal<ReplicatedName<TypeTestStore>, 'TypeTestStore'>>();
assertType<Equal<ReplicatedName<LookAlike>, never>>();
assertType<Equal<OrderedStub<LookAlike>, NotRegistered>>();
assertType<Equal<P2PStub<Unregistered>, NotRegistered>>();
assertType<Equal<OrderedStubOf<TypeTestStore, 'get'>['get'], (key: string) => QueryResults<Uint8Array | undefined>>>();
assertType<Equal<P2PStubOf<TypeTestStore, 'put'>['put'], (key: string, value: Uint8Array) => CallPromise<bigint>>>();

export async function typedCalls(): Promise<void> {
  const results: QueryResults<bigint> = ordered.put('k', bytes);
  const replies: Map<number, bigint> = await results.all();
  const first: bigint = await results.first();
  const version: bigint = await results.version;
  const wallUs: number = (await results.hlc).wallUs;
  const perNode: ReadonlyMap<number, Promise<bigint>> = await results.replies;
  await results.globalPersistence();
  const value: Uint8Array | undefined = await p2p.get('k');
  void [replies, first, version, wallUs, perNode, value];

  // Negative cases: wrong method names, argument types, arities and result uses.
  // @ts-expect-error get is p2p only
  ordered.get('k');
  // @ts-expect-error put is ordered only
  void p2p.put('k', bytes);
  // @ts-expect-error internal() is not decorated
  ordered.internal();
  // @ts-expect-error value must be a Uint8Array
  ordered.put('k', 'v');
  // @ts-expect-error key must be a string
  ordered.put(1, bytes);
  // @ts-expect-error missing argument
  ordered.put('k');
  // @ts-expect-error too many arguments
  void p2p.get('k', 'extra');
  // @ts-expect-error an ordered call returns QueryResults, not the value
  const wrong: bigint = ordered.put('k', bytes);
  // @ts-expect-error the p2p result is a Uint8Array or undefined, not a string
  const wrongResult: string = await p2p.get('k');
  // @ts-expect-error an unregistered class has no methods
  (null as unknown as OrderedStub<Unregistered>).run();
  void [wrong, wrongResult];
}

// Call errors: rejection handlers get the documented union, not `any`.
assertType<Equal<CallError, RemoteError | NodeRemovedError | SenderRemovedError | HistoricalReadError>>();
assertType<Equal<ReturnType<QueryResults<bigint>['first']>, CallPromise<bigint>>>();
assertType<Equal<ReturnType<QueryResults<bigint>['all']>, CallPromise<Map<number, bigint>>>>();
assertType<Equal<Awaited<QueryResults<bigint>['replies']>, ReadonlyMap<number, CallPromise<bigint>>>>();
// A CallPromise is still a Promise (await, Promise.all, functions taking promises).
export const asPromise: Promise<bigint> = ordered.put('k', bytes).first();

export function typedRejections(): void {
  void ordered.put('k', bytes)
    .first()
    .catch((e) => {
      assertType<Equal<typeof e, CallError>>();
      // Only RemoteError and NodeRemovedError name a node: narrow first.
      // @ts-expect-error SenderRemovedError has no nodeId
      void e.nodeId;
      if (e instanceof RemoteError) {
        const who: number = e.nodeId;
        const what: string = e.remoteName;
        void who;
        void what;
      }
      return undefined;
    });
  void p2p.get('k').then(undefined, (e) => {
    assertType<Equal<typeof e, CallError>>();
    // @ts-expect-error a CallError is not a string
    const text: string = e;
    void text;
  });
}

export async function narrowInCatch(): Promise<void> {
  try {
    await p2p.size();
  } catch (e) {
    // @ts-expect-error a caught value is unknown until narrowed
    void e.message;
    if (isCallError(e)) assertType<Equal<typeof e, CallError>>();
  }
}

// leave() resolves once this node has left and its logs are synced.
export async function leaving(group: Group): Promise<void> {
  assertType<Equal<ReturnType<Group['leave']>, Promise<void>>>();
  await group.leave();
}
