/**
 * The runtime side of `QueryResults<R>` (query-results-api.ts): one ordered call's reply map,
 * filled in when the caller delivers its own message (the delivering view's shard members become
 * the keys) and as each member's reply comes back. Replies can arrive before the caller's own
 * delivery (another member delivered and answered first); they wait here until then.
 *
 * A throughput-bound writer fires calls and never reads their results, so a call that nobody
 * asks about must cost a few plain fields: the state lives in fields and arrays, and promises
 * (with their resolve functions) exist only once someone asks for them.
 */
import type { Hlc } from '../core/hlc.js';
import { INVALID_VERSION, type Version } from '../core/version.js';
import type { NodeId, QueryResults } from './query-results-api.js';
import type { PersistenceFrontier } from './persistence-frontier.js';
import { NodeRemovedError } from './rpc-errors.js';

export type ReplyOutcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: Error };

const enum Phase {
  /** Sent (or waiting for a view); the caller has not delivered it yet. */
  Sent,
  Delivered,
  /** Can no longer complete (the caller left, or the call was refused): everything open failed. */
  Aborted,
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failure nobody awaits must not crash the process; whoever awaits still sees it.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function settledPromise<T>(outcome: ReplyOutcome<T>): Promise<T> {
  if (outcome.ok) return Promise.resolve(outcome.value);
  const p = Promise.reject(outcome.error);
  p.catch(() => undefined);
  return p;
}

const VOID_REPLY: ReplyOutcome<never> = { ok: true, value: undefined as never };
const DELIVERED_OK: ReplyOutcome<void> = { ok: true, value: undefined };
const NO_MEMBERS: readonly NodeId[] = [];

/** Promises someone asked for before they could settle, and the promises already handed out. */
interface Waiters<R> {
  delivered?: Deferred<void>;
  version?: Promise<Version>;
  versionWaiter?: Deferred<Version>;
  hlc?: Promise<Hlc>;
  hlcWaiter?: Deferred<Hlc>;
  /** localPersistence() / globalPersistence() promises, and their deferreds while not yet delivered. */
  local?: Promise<void>;
  localWaiter?: Deferred<void>;
  global?: Promise<void>;
  globalWaiter?: Deferred<void>;
  /** Per member position, the entry promises still waiting for their reply. */
  entries?: (Deferred<R> | undefined)[];
  replyMap?: ReadonlyMap<NodeId, Promise<R>>;
  replies?: Promise<ReadonlyMap<NodeId, Promise<R>>>;
  /** `all()` calls made before every entry settled (each gets a map of its own). */
  all?: Deferred<Map<NodeId, R>>[];
}

export class OrderedCallResults<R> implements QueryResults<R> {
  private phase = Phase.Sent;
  /** The delivering view's shard members, in rank order (the reply map's keys). */
  private members: readonly NodeId[] = NO_MEMBERS;
  private versionValue: Version = INVALID_VERSION;
  private hlcValue: Hlc | undefined;
  /** The subgroup's persistence frontiers (persistent subgroups only; set at delivery). */
  private frontier: PersistenceFrontier | undefined;
  private abortError: Error | undefined;
  /** Per member position, each settled reply; absent for void methods (nobody answers). */
  private outcomes: (ReplyOutcome<R> | undefined)[] | undefined;
  private unsettled = 0;
  /** Replies that came before the caller's own delivery. */
  private early: { node: NodeId; outcome: ReplyOutcome<R> }[] | undefined;
  private waiters: Waiters<R> | undefined;

  get replies(): Promise<ReadonlyMap<NodeId, Promise<R>>> {
    const w = (this.waiters ??= {});
    if (w.replies !== undefined) return w.replies;
    if (this.phase === Phase.Delivered) return (w.replies = Promise.resolve(this.replyMap()));
    if (this.phase === Phase.Aborted) return (w.replies = settledPromise<ReadonlyMap<NodeId, Promise<R>>>({ ok: false, error: this.abortError! }));
    const p = this.deliveredPromise().then(() => this.replyMap());
    // Like the other accessors: a failure nobody awaits is not an unhandled rejection.
    p.catch(() => undefined);
    return (w.replies = p);
  }

  get version(): Promise<Version> {
    const w = (this.waiters ??= {});
    if (w.version !== undefined) return w.version;
    if (this.phase === Phase.Delivered) return (w.version = Promise.resolve(this.versionValue));
    if (this.phase === Phase.Aborted) return (w.version = settledPromise<Version>({ ok: false, error: this.abortError! }));
    w.versionWaiter = deferred<Version>();
    return (w.version = w.versionWaiter.promise);
  }

  get hlc(): Promise<Hlc> {
    const w = (this.waiters ??= {});
    if (w.hlc !== undefined) return w.hlc;
    if (this.phase === Phase.Delivered) return (w.hlc = Promise.resolve(this.hlcValue!));
    if (this.phase === Phase.Aborted) return (w.hlc = settledPromise<Hlc>({ ok: false, error: this.abortError! }));
    w.hlcWaiter = deferred<Hlc>();
    return (w.hlc = w.hlcWaiter.promise);
  }

  /**
   * Every member's reply, or the first failure: with failures already in, the first in member
   * order; after that, the first to arrive (as `Promise.all` over the entries would). Built from
   * the settled entries directly, without a promise per entry.
   */
  all(): Promise<Map<NodeId, R>> {
    if (this.phase === Phase.Aborted) return settledPromise<Map<NodeId, R>>({ ok: false, error: this.abortError! });
    const ready = this.phase === Phase.Delivered ? this.allOutcome() : undefined;
    if (ready !== undefined) return settledPromise(ready);
    const waiter = deferred<Map<NodeId, R>>();
    ((this.waiters ??= {}).all ??= []).push(waiter);
    return waiter.promise;
  }

  /** What `all()` settles with now, or undefined while it must wait (after delivery only). */
  private allOutcome(): ReplyOutcome<Map<NodeId, R>> | undefined {
    const outcomes = this.outcomes;
    if (outcomes !== undefined) {
      for (const o of outcomes) if (o !== undefined && !o.ok) return o;
      if (this.unsettled > 0) return undefined;
    }
    const map = new Map<NodeId, R>();
    for (let i = 0; i < this.members.length; i++) map.set(this.members[i], outcomes === undefined ? (undefined as R) : (outcomes[i] as { value: R }).value);
    return { ok: true, value: map };
  }

  private settleAll(outcome: ReplyOutcome<Map<NodeId, R>>): void {
    const waiters = this.waiters!.all!;
    this.waiters!.all = undefined;
    waiters.forEach((waiter, i) => {
      if (outcome.ok) waiter.resolve(i === 0 ? outcome.value : new Map(outcome.value));
      else waiter.reject(outcome.error);
    });
  }

  /**
   * The first reply to arrive: every replica computes the same result, so the first value or the
   * first RemoteError (the handler threw, and would throw everywhere) stands for all. Members
   * that were removed are skipped; when every member was removed, their first error.
   */
  async first(): Promise<R> {
    const replies = [...(await this.replies).values()];
    return new Promise<R>((resolve, reject) => {
      let failures = 0;
      let firstError: unknown;
      for (const p of replies) {
        p.then(resolve, (err: unknown) => {
          if (!(err instanceof NodeRemovedError)) reject(err as Error);
          firstError ??= err;
          if (++failures === replies.length) reject(firstError as Error);
        });
      }
      if (replies.length === 0) reject(new Error('the call was delivered to no member'));
    });
  }

  /**
   * Resolves once this node's log is durable through the call's version (persistent subgroups);
   * for ordered (volatile) subgroups delivery is all there is. Rejects when the call is aborted,
   * or when this node cannot make it durable (a disk error, or it left the group first).
   */
  localPersistence(): Promise<void> {
    return this.persistencePromise('local');
  }

  /**
   * Resolves once every member of the delivering shard made the call's version durable (the
   * shard's global persistence frontier reached it; at a view change, the members that carry on
   * into the next view all did). Ordered (volatile) subgroups: at delivery.
   */
  globalPersistence(): Promise<void> {
    return this.persistencePromise('global');
  }

  private persistencePromise(which: 'local' | 'global'): Promise<void> {
    const w = (this.waiters ??= {});
    const given = w[which];
    if (given !== undefined) return given;
    if (this.phase === Phase.Sent) {
      const waiter = deferred<void>();
      if (which === 'local') w.localWaiter = waiter;
      else w.globalWaiter = waiter;
      return (w[which] = waiter.promise);
    }
    return (w[which] = this.persistenceAfterDelivery(which));
  }

  private persistenceAfterDelivery(which: 'local' | 'global'): Promise<void> {
    if (this.phase === Phase.Aborted) return settledPromise<void>({ ok: false, error: this.abortError! });
    const frontier = this.frontier;
    if (frontier === undefined) return settledPromise(DELIVERED_OK);
    const p = which === 'local' ? frontier.waitLocal(this.versionValue) : frontier.waitGlobal(this.versionValue);
    p.catch(() => undefined);
    return p;
  }

  private deliveredPromise(): Promise<void> {
    if (this.phase === Phase.Delivered) return Promise.resolve();
    if (this.phase === Phase.Aborted) return settledPromise<void>({ ok: false, error: this.abortError! });
    const w = (this.waiters ??= {});
    return (w.delivered ??= deferred<void>()).promise;
  }

  /** After delivery: the map of per-member promises, built once. */
  private replyMap(): ReadonlyMap<NodeId, Promise<R>> {
    const w = (this.waiters ??= {});
    if (w.replyMap !== undefined) return w.replyMap;
    const map = new Map<NodeId, Promise<R>>();
    const outcomes = this.outcomes;
    for (let i = 0; i < this.members.length; i++) {
      const settled = outcomes === undefined ? (VOID_REPLY as ReplyOutcome<R>) : outcomes[i];
      if (settled !== undefined) map.set(this.members[i], settledPromise(settled));
      else {
        const waiter = deferred<R>();
        (w.entries ??= [])[i] = waiter;
        map.set(this.members[i], waiter.promise);
      }
    }
    w.replyMap = map;
    return map;
  }

  /**
   * The caller delivered its own message: `members` (the delivering view's shard) become the
   * keys. With `replyExpected` false (void methods, as in Derecho) nobody answers and every entry
   * resolves now: the map then says which members the call was delivered to. Returns whether the
   * call is complete (every entry settled).
   */
  delivered(members: readonly NodeId[], version: Version, hlc: Hlc, replyExpected: boolean, frontier: PersistenceFrontier | undefined, removed: ReadonlyMap<NodeId, string>): boolean {
    if (this.phase !== Phase.Sent) return this.unsettled === 0;
    this.members = members;
    this.versionValue = version;
    this.hlcValue = hlc;
    this.frontier = frontier;
    if (replyExpected) {
      this.outcomes = new Array<ReplyOutcome<R> | undefined>(members.length).fill(undefined);
      this.unsettled = members.length;
      const early = this.early;
      this.early = undefined;
      if (early !== undefined) for (const e of early) this.settleEntry(e.node, e.outcome);
      if (removed.size > 0) {
        for (const node of members) {
          const why = removed.get(node);
          if (why !== undefined) this.settleEntry(node, { ok: false, error: new NodeRemovedError(node, why) });
        }
      }
    }
    // Only now: entries settled above are in place before anyone waiting hears of them.
    this.phase = Phase.Delivered;
    const w = this.waiters;
    if (w !== undefined) {
      w.versionWaiter?.resolve(version);
      w.hlcWaiter?.resolve(hlc);
      if (w.localWaiter !== undefined) this.persistenceAfterDelivery('local').then(w.localWaiter.resolve, w.localWaiter.reject);
      if (w.globalWaiter !== undefined) this.persistenceAfterDelivery('global').then(w.globalWaiter.resolve, w.globalWaiter.reject);
      w.versionWaiter = w.hlcWaiter = w.localWaiter = w.globalWaiter = undefined;
      w.delivered?.resolve();
      w.delivered = undefined;
      if (w.all !== undefined) {
        const ready = this.allOutcome();
        if (ready !== undefined) this.settleAll(ready);
      }
    }
    return this.unsettled === 0;
  }

  /** A member's reply (or its exception). Returns whether the call is complete. */
  reply(node: NodeId, outcome: ReplyOutcome<R>): boolean {
    if (this.phase === Phase.Sent) {
      (this.early ??= []).push({ node, outcome });
      return false;
    }
    if (this.phase === Phase.Delivered) this.settleEntry(node, outcome);
    return this.unsettled === 0;
  }

  /** A member failed: its entry, if still open, rejects with NodeRemovedError. Returns whether the call is complete. */
  nodeRemoved(node: NodeId, reason: string): boolean {
    if (this.phase === Phase.Delivered && this.outcomes !== undefined) {
      const i = this.members.indexOf(node);
      if (i >= 0 && this.outcomes[i] === undefined) this.settleEntry(node, { ok: false, error: new NodeRemovedError(node, reason) });
    }
    return this.phase !== Phase.Sent && this.unsettled === 0;
  }

  /** The call can no longer complete (the caller left): everything still open rejects with `error`. */
  abort(error: Error): void {
    const failed: ReplyOutcome<never> = { ok: false, error };
    if (this.phase === Phase.Sent) {
      this.phase = Phase.Aborted;
      this.abortError = error;
      this.early = undefined;
      const w = this.waiters;
      if (w !== undefined) {
        w.versionWaiter?.reject(error);
        w.hlcWaiter?.reject(error);
        w.localWaiter?.reject(error);
        w.globalWaiter?.reject(error);
        w.delivered?.reject(error);
        for (const waiter of w.all ?? []) waiter.reject(error);
        w.versionWaiter = w.hlcWaiter = w.localWaiter = w.globalWaiter = w.delivered = w.all = undefined;
      }
      return;
    }
    if (this.outcomes !== undefined) for (const node of this.members) this.settleEntry(node, failed);
  }

  private settleEntry(node: NodeId, outcome: ReplyOutcome<R>): void {
    const outcomes = this.outcomes;
    if (outcomes === undefined) return;
    const i = this.members.indexOf(node);
    if (i < 0 || outcomes[i] !== undefined) return;
    outcomes[i] = outcome;
    this.unsettled--;
    const w = this.waiters;
    if (w === undefined) return;
    const waiter = w.entries?.[i];
    if (waiter !== undefined) {
      w.entries![i] = undefined;
      if (outcome.ok) waiter.resolve(outcome.value);
      else waiter.reject(outcome.error);
    }
    // Entries settled inside delivered() are reported there, once all of them are in.
    if (w.all !== undefined && this.phase === Phase.Delivered) {
      if (!outcome.ok) this.settleAll(outcome);
      else if (this.unsettled === 0) this.settleAll(this.allOutcome()!);
    }
  }
}
