/**
 * What the typed group API accepts, checked by `tsc -b` (not run): handles from group.subgroup()
 * and group.peer() carry each class's own method names, argument types and result types; every
 * `@ts-expect-error` line must stay an error.
 */
import type { Group, Hlc, QueryResults, Version } from '@derecho-ts/runtime';
import { Bar, Foo } from '../src/foo-bar/objects.js';
import { SmartMemory, type Alert, type SensorModel } from '../src/iot/smart-memory.js';
import { KVStore, type PutResult } from '../src/kv/kv-store.js';
import { RpcProbe } from '../src/testing/rpc-probe.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

export async function typedCalls(group: Group): Promise<void> {
  const foo = group.subgroup(Foo);
  assertType<Equal<ReturnType<typeof foo.ordered.changeState>, QueryResults<boolean>>>();
  assertType<Equal<keyof typeof foo.ordered, 'changeState' | 'readState'>>();
  assertType<Equal<keyof ReturnType<typeof foo.p2p>, 'readState' | 'at' | 'asOf' | 'history'>>();
  const changed: Map<number, boolean> = await foo.ordered.changeState(3).all();
  const state: number = await foo.p2p(1).readState();
  const version: Version = await foo.ordered.readState().version;
  const hlc: Hlc = await foo.ordered.readState().hlc;
  const local: Foo = foo.local;

  const kv = group.peer(KVStore, { shard: 1 });
  const put: PutResult = await kv.p2p().submitPut('k', 'v');
  const value: string | undefined = await kv.p2p(3).get('k');
  assertType<Equal<keyof ReturnType<typeof kv.p2p>, 'get' | 'size' | 'submitPut' | 'at' | 'asOf' | 'history'>>();
  const past: string | undefined = await kv.p2p(3).at(12n).get('k');
  const pastByTime: string | undefined = await kv.p2p(3).asOf(new Date('2026-01-01')).get('k');
  const changes: { version: Version; hlc: Hlc; value: number }[] = await kv.p2p(3).history({ limit: 10 }).size();
  // @ts-expect-error at() takes a version (bigint), not a number
  void kv.p2p(3).at(12);
  void [past, pastByTime, changes];

  const memory = group.subgroup(SmartMemory);
  const alerts: Alert[] = await memory.ordered.alerts().first();
  const model: SensorModel | undefined = await group.peer(SmartMemory, { shard: 0 }).p2p().model('pump');
  const bar = group.subgroup(Bar, 0);
  const appended: QueryResults<void> = bar.ordered.append('words');
  const probe = group.subgroup(RpcProbe);
  const stamps = await probe.ordered.delayedStamp(5).all();
  const position: [number, number] = await probe.p2p(0).sequence(1);
  void [changed, state, version, hlc, local, put, value, alerts, model, appended, stamps, position];

  // @ts-expect-error no such method
  foo.ordered.reset();
  // @ts-expect-error changeState takes a number
  foo.ordered.changeState('3');
  // @ts-expect-error changeState is @Ordered() only, not @P2P()
  void foo.p2p(1).changeState(3);
  // @ts-expect-error put is ordered; a peer only has p2p methods
  void kv.p2p().put('k', 'v');
  // @ts-expect-error a peer caller has no ordered stub
  void kv.ordered;
  // @ts-expect-error get takes one string
  void kv.p2p().get('k', 2);
  // @ts-expect-error ingest takes a Reading
  memory.ordered.ingest({ sensor: 'pump', value: 1 });
  // @ts-expect-error Bar has no p2p methods
  void bar.p2p(0).print();
  // @ts-expect-error the result of readState is a number
  const wrong: string = await foo.p2p(1).readState();
  // @ts-expect-error peer() needs the shard
  group.peer(KVStore, {});
  // @ts-expect-error only classes are subgroup types
  group.subgroup('Foo');
  void wrong;
}
