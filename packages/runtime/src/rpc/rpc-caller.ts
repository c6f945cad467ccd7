/**
 * The caller side of RPC: the ordered and p2p calls this node makes, the tables of those still
 * pending, and the replies that settle them (their QueryResults, or their promises). Ordered
 * calls made between views wait for the next view; a failed peer rejects its open entries.
 */
import type { Hlc } from '../core/hlc.js';
import { invariant } from '../core/invariant.js';
import type { GroupView } from '../core/membership/group-view.js';
import type { Version } from '../core/version.js';
import type { MethodCodec } from './marshal.js';
import type { PersistenceFrontier } from './persistence-frontier.js';
import type { NodeId } from './query-results-api.js';
import { OrderedCallResults } from './query-results.js';
import { decodeHistory, encodeSelector, selectorFlags, type HistoricalSelector, type HistoryEntry } from './historical-read.js';
import type { ReplyOutcome } from './query-results.js';
import { decodeReply, localReplyOutcome, type HandlerResult } from './reply-outcome.js';
import { HistoricalReadError, historicalRefusal, InvalidNodeError, NodeRemovedError, NotAMemberError, RemoteError, RpcWireError, SenderRemovedError } from './rpc-errors.js';
import type { RpcTransport } from './rpc-transport.js';
import type { CallId } from './call-id.js';
import { encodeCallId, ORDERED_HEADER_BYTES, OrderedFlags, p2pRequestHeader, ReplyStatus, writeOrderedHeader, type OrderedReplyEntry } from './rpc-wire.js';

/** One ordered call this node made and still waits on: its results, with what reading replies needs. */
export class PendingOrdered<R = unknown> extends OrderedCallResults<R> {
  constructor(
    readonly codec: MethodCodec,
    readonly subgroupId: number,
  ) {
    super();
  }
}

interface PendingP2P {
  readonly target: number;
  readonly codec: MethodCodec;
  /** A historical read (its refusals become HistoricalReadError); `history`: its answer is a list. */
  readonly selector: HistoricalSelector | undefined;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Where a p2p call to this node itself runs: the same FIFO queue as a peer's, without the wire. */
export interface OwnP2PTarget {
  runOwnCall(subgroupId: number, invocation: number, codec: MethodCodec, args: unknown[], selector?: HistoricalSelector): void;
}

const MAX_INVOCATION = 0xffffffff;

export class RpcCaller {
  private readonly ordered = new Map<number, PendingOrdered>();
  private readonly p2p = new Map<number, PendingP2P>();
  /** Ordered calls made while no view was installed: sent when the next one starts. */
  private waitingForView: (() => void)[] = [];
  /** Peers that failed, with why: calls to them fail at once, their entries in new reply maps too. */
  private readonly removed = new Map<NodeId, string>();
  private nextInvocation = 1;
  private closed = false;
  /** Which subgroups this node is a member of, for the view it was computed in. */
  private memberOf: { view: GroupView; subgroups: boolean[] } | undefined;

  constructor(
    private readonly transport: RpcTransport,
    private readonly self: OwnP2PTarget,
    /** This node's own calls see their handler's stack as a remote caller would (config `logging.remoteStacks`). */
    private readonly remoteStacks = false,
  ) {}

  /** An ordered call from this node: returns its results at once; the multicast may wait for a view. */
  callOrdered<R>(subgroupId: number, codec: MethodCodec, args: readonly unknown[], callId?: CallId): OrderedCallResults<R> {
    if (this.closed) throw new SenderRemovedError(`node ${this.transport.nodeId} has left the group; it cannot call ${codec.className}.${codec.methodName}`);
    if (!codec.method.ordered) throw new TypeError(`${codec.className}.${codec.methodName} is not an @Ordered() method`);
    const view = this.transport.view();
    if (view !== undefined) this.requireMember(view, subgroupId, codec);
    // Header and arguments in one buffer, encoded in place: no second copy of the arguments.
    const idBytes = callId === undefined ? undefined : encodeCallId(callId);
    const payload = codec.encodeArgsFramed(args, ORDERED_HEADER_BYTES + (idBytes?.length ?? 0));
    const invocation = this.invocationId();
    writeOrderedHeader(payload, codec.method.id, this.transport.nodeId, invocation);
    if (idBytes !== undefined) {
      payload[1] = OrderedFlags.CallId;
      payload.set(idBytes, ORDERED_HEADER_BYTES);
    }
    const results = new PendingOrdered<R>(codec, subgroupId);
    this.ordered.set(invocation, results as PendingOrdered);
    if (view !== undefined) {
      // Refusals (a payload over maxPayloadBytes, ...) throw here, at the call.
      try {
        this.transport.multicast(subgroupId, payload);
      } catch (err) {
        this.ordered.delete(invocation);
        throw err;
      }
      return results;
    }
    this.waitingForView.push(() => {
      try {
        const v = this.transport.view();
        if (v !== undefined) this.requireMember(v, subgroupId, codec);
        this.transport.multicast(subgroupId, payload);
      } catch (err) {
        this.ordered.delete(invocation);
        results.abort(err as Error);
      }
    });
    return results;
  }

  /**
   * A p2p call to `target`, a member of (some shard of) `subgroupId` in the current view; with a
   * `selector`, a historical read run against the replica's state as of it (a `history` selector
   * resolves to a list of `HistoryEntry`).
   */
  callP2P<R>(subgroupId: number, target: NodeId, codec: MethodCodec, args: readonly unknown[], selector?: HistoricalSelector): Promise<R> {
    if (this.closed) return Promise.reject(new SenderRemovedError(`node ${this.transport.nodeId} has left the group; it cannot call ${codec.className}.${codec.methodName}`));
    if (!codec.method.p2p) throw new TypeError(`${codec.className}.${codec.methodName} is not a @P2P() method; p2p calls may only name @P2P() methods`);
    const view = this.transport.view();
    const sg = view?.subgroups[subgroupId];
    if (view === undefined || sg === undefined) throw new InvalidNodeError(`no installed view holds ${codec.className} subgroup ${subgroupId}`);
    if (!sg.shards.some((s) => s.members.includes(target))) {
      throw new InvalidNodeError(`node ${target} is not a member of ${codec.className}[${sg.index}] in view ${view.vid} (members: ${sg.shards.map((s, i) => `shard ${i}: ${s.members.join(', ')}`).join('; ')})`);
    }
    const argBytes = codec.encodeArgs(args);
    const removed = this.removed.get(target);
    if (removed !== undefined) return Promise.reject(new NodeRemovedError(target, removed));
    const invocation = this.invocationId();
    const promise = new Promise<R>((resolve, reject) => {
      this.p2p.set(invocation, { target, codec, selector, resolve: resolve as (v: unknown) => void, reject });
    });
    if (target === this.transport.nodeId) {
      this.self.runOwnCall(subgroupId, invocation, codec, codec.decodeArgs(argBytes), selector);
    } else {
      try {
        const header = p2pRequestHeader(this.transport.channel, codec.method.id, subgroupId, invocation, selectorFlags(selector));
        this.transport.sendP2P(target, selector === undefined ? [header, argBytes] : [header, encodeSelector(selector), argBytes]);
      } catch (err) {
        this.p2p.delete(invocation);
        return Promise.reject(new NodeRemovedError(target, (err as Error).message));
      }
    }
    return promise;
  }

  /** A view started: send the ordered calls that waited for one. */
  onView(): void {
    const waiting = this.waitingForView;
    this.waitingForView = [];
    for (const send of waiting) send();
  }

  // ---- this node's own ordered calls, as its replica delivers them ---------------------------

  /** My pending ordered call `invocation`, if it still waits (the replica host asks on delivery). */
  pendingOrdered(invocation: number): PendingOrdered | undefined {
    return this.ordered.get(invocation);
  }

  /** My call was delivered by `members` (the shard of the delivering view) as `version`. */
  ownCallDelivered(invocation: number, pending: PendingOrdered, members: readonly NodeId[], version: Version, hlc: Hlc, replyExpected: boolean, frontier: PersistenceFrontier | undefined): void {
    if (pending.delivered(members, version, hlc, replyExpected, frontier, this.removed)) this.ordered.delete(invocation);
  }

  /** My call was delivered but cannot run (its method is unknown to the replicas): it fails with `error`. */
  abortOwnCall(invocation: number, pending: PendingOrdered, error: Error): void {
    this.ordered.delete(invocation);
    pending.abort(error);
  }

  /** My own replica's answer to my own ordered call. */
  ownOrderedReply(invocation: number, result: HandlerResult): void {
    const pending = this.ordered.get(invocation);
    if (pending === undefined) return;
    if (pending.reply(this.transport.nodeId, localReplyOutcome(this.transport.nodeId, pending.codec, result, this.remoteStacks))) this.ordered.delete(invocation);
  }

  /** My own replica's recorded answer to my own ordered call (a retried call id), as a remote caller would decode it. */
  ownOrderedReplyEncoded(invocation: number, status: ReplyStatus, body: Uint8Array): void {
    const pending = this.ordered.get(invocation);
    if (pending === undefined) return;
    if (pending.reply(this.transport.nodeId, decodeReply(this.transport.nodeId, pending.codec, status, body, 0, body.length))) this.ordered.delete(invocation);
  }

  /** My own replica's answer to my own p2p call. */
  ownP2PReply(invocation: number, codec: MethodCodec, result: HandlerResult): void {
    const pending = this.p2p.get(invocation);
    if (pending === undefined) return;
    this.p2p.delete(invocation);
    if (pending.selector?.kind === 'history' && result.ok) {
      // Each version's result through the codec, as a remote caller would see it.
      const entries = result.value as HistoryEntry<unknown>[];
      invariant(Array.isArray(entries), 'a history read answers a list of versions', () => `${codec.className}.${codec.methodName} answered ${typeof result.value}`);
      const outcomes = entries.map((e) => localReplyOutcome(this.transport.nodeId, codec, { ok: true, value: e.value }, this.remoteStacks));
      const failed = outcomes.find((o) => !o.ok);
      if (failed !== undefined && !failed.ok) this.settle(pending, failed);
      else this.settle(pending, { ok: true, value: entries.map((e, i) => ({ version: e.version, hlc: e.hlc, value: (outcomes[i] as { value: unknown }).value })) });
      return;
    }
    this.settle(pending, localReplyOutcome(this.transport.nodeId, codec, result, this.remoteStacks));
  }

  // ---- replies from peers ------------------------------------------------------------------

  /** One member's reply to one of my ordered calls (late ones, for calls already failed, are dropped). */
  onOrderedReply(from: number, entry: Readonly<OrderedReplyEntry>): void {
    const pending = this.ordered.get(entry.invocation);
    if (pending === undefined || pending.subgroupId !== entry.subgroupId) return;
    if (pending.reply(from, decodeReply(from, pending.codec, entry.status, entry.frame, entry.bodyStart, entry.bodyEnd))) this.ordered.delete(entry.invocation);
  }

  /** The target's reply to one of my p2p calls (late ones, for calls already failed, are dropped). */
  onP2PReply(from: number, invocation: number, status: ReplyStatus, body: Uint8Array): void {
    const pending = this.p2p.get(invocation);
    if (pending === undefined || pending.target !== from) return;
    this.p2p.delete(invocation);
    let outcome: ReplyOutcome<unknown>;
    try {
      outcome = pending.selector?.kind === 'history' && status === ReplyStatus.Ok ? { ok: true, value: decodeHistory(body, (bytes) => pending.codec.decodeResult(bytes)) } : decodeReply(from, pending.codec, status, body, 0, body.length);
    } catch (err) {
      // The peer is dropped for its bytes (the caller of this method); the call fails with why.
      const wire = err instanceof RpcWireError ? err : new RpcWireError(err instanceof Error ? err.message : String(err));
      pending.reject(wire);
      throw wire;
    }
    this.settle(pending, outcome);
  }

  /** Settles a p2p call; a historical read's refusal by the replica becomes a HistoricalReadError. */
  private settle(pending: PendingP2P, outcome: ReplyOutcome<unknown>): void {
    if (outcome.ok) {
      pending.resolve(outcome.value);
      return;
    }
    const error = outcome.error;
    const refusal = pending.selector !== undefined && error instanceof RemoteError ? historicalRefusal(error.remoteName) : undefined;
    pending.reject(refusal !== undefined && error instanceof RemoteError ? new HistoricalReadError(error.nodeId, refusal, error.remoteMessage) : error);
  }

  // ---- failures -----------------------------------------------------------------------------

  /** A peer failed: its open reply entries reject with NodeRemovedError. */
  onPeerFailed(nodeId: NodeId, reason: string): void {
    this.removed.set(nodeId, reason);
    for (const [invocation, pending] of [...this.ordered]) if (pending.nodeRemoved(nodeId, reason)) this.ordered.delete(invocation);
    for (const [invocation, pending] of [...this.p2p]) {
      if (pending.target !== nodeId) continue;
      this.p2p.delete(invocation);
      pending.reject(new NodeRemovedError(nodeId, reason));
    }
  }

  /** This node leaves: every call it still waits on fails with `error`, and it makes no more. */
  close(error: Error): void {
    this.closed = true;
    for (const pending of [...this.ordered.values()]) pending.abort(error);
    for (const pending of this.p2p.values()) pending.reject(error);
    this.ordered.clear();
    this.p2p.clear();
    this.waitingForView = [];
  }

  private invocationId(): number {
    const id = this.nextInvocation;
    this.nextInvocation = id === MAX_INVOCATION ? 1 : id + 1;
    // The detail closure only when it fails: this runs once per call.
    if (this.ordered.has(id) || this.p2p.has(id)) invariant(false, 'invocation ids are not reused while pending', () => `id ${id}`);
    return id;
  }

  private requireMember(view: GroupView, subgroupId: number, codec: MethodCodec): void {
    let cached = this.memberOf;
    if (cached === undefined || cached.view !== view) {
      const me = this.transport.nodeId;
      cached = this.memberOf = { view, subgroups: view.subgroups.map((sg) => sg.shards.some((s) => s.members.includes(me))) };
    }
    if (cached.subgroups[subgroupId] !== true) {
      const sg = view.subgroups[subgroupId];
      throw new NotAMemberError(`node ${this.transport.nodeId} is not in any shard of ${codec.className}[${sg?.index ?? '?'}] in view ${view.vid}; use group.peer() for p2p calls from outside`);
    }
  }
}
