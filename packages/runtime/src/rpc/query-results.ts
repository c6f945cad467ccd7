/**
 * The runtime side of `QueryResults<R>` (replicated/types.ts): one ordered call's reply map,
 * filled in when the caller delivers its own message (the delivering view's shard members become
 * the keys) and as each member's reply comes back. Replies can arrive before the caller's own
 * delivery (another member delivered and answered first); they wait here until then.
 */
import type { Hlc } from '../core/hlc.js';
import type { Version } from '../core/version.js';
import type { NodeId, QueryResults } from '../replicated/types.js';
import { NodeRemovedError } from './rpc-errors.js';

export type ReplyOutcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: Error };

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
  settled: boolean;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Failures are reported to whoever awaits; one nobody awaits must not crash the process.
  promise.catch(() => undefined);
  const d: Deferred<T> = {
    promise,
    settled: false,
    resolve(value) {
      if (d.settled) return;
      d.settled = true;
      resolve(value);
    },
    reject(error) {
      if (d.settled) return;
      d.settled = true;
      reject(error);
    },
  };
  return d;
}

export class OrderedCallResults<R> implements QueryResults<R> {
  private readonly map = deferred<ReadonlyMap<NodeId, Promise<R>>>();
  private readonly versionD = deferred<Version>();
  private readonly hlcD = deferred<Hlc>();
  private readonly persistence = deferred<void>();
  private entries: Map<NodeId, Deferred<R>> | undefined;
  private readonly early = new Map<NodeId, ReplyOutcome<R>>();
  private unsettled = 0;
  private done = false;

  /** `onDone` runs once every entry has settled (or the call was aborted). */
  constructor(private readonly onDone: () => void) {}

  get replies(): Promise<ReadonlyMap<NodeId, Promise<R>>> {
    return this.map.promise;
  }

  get version(): Promise<Version> {
    return this.versionD.promise;
  }

  get hlc(): Promise<Hlc> {
    return this.hlcD.promise;
  }

  async all(): Promise<Map<NodeId, R>> {
    const replies = await this.map.promise;
    const values = await Promise.all([...replies].map(async ([node, p]) => [node, await p] as const));
    return new Map(values);
  }

  /** The first reply to succeed; when every member failed, the first failure. */
  async first(): Promise<R> {
    const replies = [...(await this.map.promise).values()];
    return new Promise<R>((resolve, reject) => {
      let failures = 0;
      let firstError: unknown;
      for (const p of replies) {
        p.then(resolve, (err: unknown) => {
          firstError ??= err;
          if (++failures === replies.length) reject(firstError as Error);
        });
      }
      if (replies.length === 0) reject(new Error('the call was delivered to no member'));
    });
  }

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
    this.entries = new Map();
    for (const node of members) {
      const d = deferred<R>();
      this.entries.set(node, d);
      this.unsettled++;
    }
    this.versionD.resolve(version);
    this.hlcD.resolve(hlc);
    if (persistent) this.persistence.reject(new Error('persistence frontiers of persistent subgroups are not wired to RPC results yet'));
    else this.persistence.resolve();
    this.map.resolve(new Map([...this.entries].map(([n, d]) => [n, d.promise])));
    for (const node of members) {
      const early = this.early.get(node);
      const why = removed.get(node);
      if (!replyExpected) this.settle(node, { ok: true, value: undefined as R });
      else if (early !== undefined) this.settle(node, early);
      else if (why !== undefined) this.settle(node, { ok: false, error: new NodeRemovedError(node, why) });
    }
    this.early.clear();
    if (this.unsettled === 0) this.finish();
  }

  /** A member's reply (or its exception). */
  reply(node: NodeId, outcome: ReplyOutcome<R>): void {
    if (this.entries === undefined) {
      if (!this.map.settled) this.early.set(node, outcome);
      return;
    }
    this.settle(node, outcome);
  }

  /** A member failed: its entry, if still open, rejects with NodeRemovedError. */
  nodeRemoved(node: NodeId, reason: string): void {
    if (this.entries !== undefined) this.settle(node, { ok: false, error: new NodeRemovedError(node, reason) });
  }

  /** The call can no longer complete (the caller left): everything still open rejects with `error`. */
  abort(error: Error): void {
    this.map.reject(error);
    this.versionD.reject(error);
    this.hlcD.reject(error);
    this.persistence.reject(error);
    for (const node of this.entries?.keys() ?? []) this.settle(node, { ok: false, error });
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.onDone();
  }

  private settle(node: NodeId, outcome: ReplyOutcome<R>): void {
    const d = this.entries?.get(node);
    if (d === undefined || d.settled) return;
    if (outcome.ok) d.resolve(outcome.value);
    else d.reject(outcome.error);
    if (--this.unsettled === 0) this.finish();
  }
}
