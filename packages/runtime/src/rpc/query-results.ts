/**
 * The runtime side of `QueryResults<R>` (replicated/types.ts): one ordered call's reply map,
 * filled in when the caller delivers its own message (the delivering view's shard members become
 * the keys) and as each member's reply comes back. Replies can arrive before the caller's own
 * delivery (another member delivered and answered first); they wait here until then.
 *
 * Promises are made only when someone asks for them: a caller that fires calls and never reads
 * their results (a throughput-bound writer) costs a few plain fields per call, not a dozen
 * promises.
 */
import type { Hlc } from '../core/hlc.js';
import type { Version } from '../core/version.js';
import type { NodeId, QueryResults } from '../replicated/types.js';
import { NodeRemovedError } from './rpc-errors.js';

export type ReplyOutcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: Error };

/** A value that settles once; its promise exists only if someone asked for it. */
class Lazy<T> {
  private outcome: ReplyOutcome<T> | undefined;
  private promiseValue: Promise<T> | undefined;
  private resolveFn: ((v: T) => void) | undefined;
  private rejectFn: ((e: Error) => void) | undefined;

  get settled(): boolean {
    return this.outcome !== undefined;
  }

  get promise(): Promise<T> {
    if (this.promiseValue === undefined) {
      const o = this.outcome;
      if (o === undefined) {
        this.promiseValue = new Promise<T>((resolve, reject) => {
          this.resolveFn = resolve;
          this.rejectFn = reject;
        });
      } else this.promiseValue = o.ok ? Promise.resolve(o.value) : Promise.reject(o.error);
      // A failure nobody awaits must not crash the process; whoever awaits still sees it.
      this.promiseValue.catch(() => undefined);
    }
    return this.promiseValue;
  }

  settle(outcome: ReplyOutcome<T>): boolean {
    if (this.outcome !== undefined) return false;
    this.outcome = outcome;
    if (outcome.ok) this.resolveFn?.(outcome.value);
    else this.rejectFn?.(outcome.error);
    this.resolveFn = this.rejectFn = undefined;
    return true;
  }
}

export class OrderedCallResults<R> implements QueryResults<R> {
  /** Settles when the caller delivered the call (or it was aborted). */
  private readonly map = new Lazy<void>();
  private replyMap: Map<NodeId, Promise<R>> | undefined;
  private readonly versionL = new Lazy<Version>();
  private readonly hlcL = new Lazy<Hlc>();
  private readonly persistence = new Lazy<void>();
  private entries: Map<NodeId, Lazy<R>> | undefined;
  private early: Map<NodeId, ReplyOutcome<R>> | undefined;
  private unsettled = 0;
  private done = false;

  /** `onDone` runs once every entry has settled (or the call was aborted). */
  constructor(private readonly onDone: () => void) {}

  get replies(): Promise<ReadonlyMap<NodeId, Promise<R>>> {
    return this.map.promise.then(() => {
      this.replyMap ??= new Map([...this.entries!].map(([node, entry]) => [node, entry.promise]));
      return this.replyMap;
    });
  }

  get version(): Promise<Version> {
    return this.versionL.promise;
  }

  get hlc(): Promise<Hlc> {
    return this.hlcL.promise;
  }

  async all(): Promise<Map<NodeId, R>> {
    const replies = await this.replies;
    const values = await Promise.all([...replies].map(async ([node, p]) => [node, await p] as const));
    return new Map(values);
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

  /** For non-persistent subgroups, delivery is all there is; see `delivered` for persistent ones. */
  async localPersistence(): Promise<void> {
    return this.persistence.promise;
  }

  async globalPersistence(): Promise<void> {
    return this.persistence.promise;
  }

  /**
   * The caller delivered its own message: `members` (the delivering view's shard) become the
   * keys. With `replyExpected` false (void methods, as in Derecho) nobody answers and every entry
   * resolves now: the map then says which members the call was delivered to.
   */
  delivered(members: readonly NodeId[], version: Version, hlc: Hlc, replyExpected: boolean, persistent: boolean, removed: ReadonlyMap<NodeId, string>): void {
    if (this.entries !== undefined || this.map.settled) return;
    const entries = new Map<NodeId, Lazy<R>>();
    this.entries = entries;
    for (const node of members) entries.set(node, new Lazy<R>());
    this.unsettled = members.length;
    this.versionL.settle({ ok: true, value: version });
    this.hlcL.settle({ ok: true, value: hlc });
    if (persistent) this.persistence.settle({ ok: false, error: new Error('persistence frontiers of persistent subgroups are not wired to RPC results yet') });
    else this.persistence.settle({ ok: true, value: undefined });
    this.map.settle({ ok: true, value: undefined });
    for (const node of members) {
      const early = this.early?.get(node);
      const why = removed.get(node);
      if (!replyExpected) this.settleEntry(node, { ok: true, value: undefined as R });
      else if (early !== undefined) this.settleEntry(node, early);
      else if (why !== undefined) this.settleEntry(node, { ok: false, error: new NodeRemovedError(node, why) });
    }
    this.early = undefined;
    if (this.unsettled === 0) this.finish();
  }

  /** A member's reply (or its exception). */
  reply(node: NodeId, outcome: ReplyOutcome<R>): void {
    if (this.entries === undefined) {
      if (!this.map.settled) (this.early ??= new Map()).set(node, outcome);
      return;
    }
    this.settleEntry(node, outcome);
  }

  /** A member failed: its entry, if still open, rejects with NodeRemovedError. */
  nodeRemoved(node: NodeId, reason: string): void {
    if (this.entries !== undefined) this.settleEntry(node, { ok: false, error: new NodeRemovedError(node, reason) });
  }

  /** The call can no longer complete (the caller left): everything still open rejects with `error`. */
  abort(error: Error): void {
    const failed = { ok: false as const, error };
    this.map.settle(failed);
    this.versionL.settle(failed);
    this.hlcL.settle(failed);
    this.persistence.settle(failed);
    for (const node of this.entries?.keys() ?? []) this.settleEntry(node, failed);
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.onDone();
  }

  private settleEntry(node: NodeId, outcome: ReplyOutcome<R>): void {
    const entry = this.entries?.get(node);
    if (entry === undefined || !entry.settle(outcome)) return;
    if (--this.unsettled === 0) this.finish();
  }
}
