/**
 * Serving p2p calls: requests from peers (and this node's calls to itself) run on the local
 * replica in FIFO order, each starting only when the one before it, async ones included,
 * finished; they interleave with (are not ordered against) deliveries. Requests that come before
 * this node's first view (their sender started first) wait for it.
 */
import { invariant } from '../core/invariant.js';
import { encodeHistory, type HistoricalSelector, type HistoryEntry } from './historical-read.js';
import { ReplicaHistory } from './historical-replica.js';
import type { MethodCodec, SchemaCodec } from './marshal.js';
import type { Replica, ReplicaHost } from './replica-host.js';
import { encodeReplyBody, wireDecode, type HandlerResult } from './reply-outcome.js';
import type { RpcCaller } from './rpc-caller.js';
import { NotAMemberError, RpcWireError } from './rpc-errors.js';
import type { RpcTransport } from './rpc-transport.js';
import { encodeRemoteError, p2pReplyHeader, ReplyStatus, type RpcFrame, type RpcKind } from './rpc-wire.js';

interface P2PJob {
  readonly from: number;
  readonly invocation: number;
  readonly subgroupId: number;
  readonly replica: Replica;
  readonly codec: MethodCodec;
  readonly args: unknown[];
  /** A historical read: the state as of which the method runs. */
  readonly selector: HistoricalSelector | undefined;
}

type P2PRequest = Extract<RpcFrame, { kind: RpcKind.P2PRequest }>;

export class P2PServer {
  private readonly queue: P2PJob[] = [];
  private running = false;
  /** P2P requests that came before this node's view started (their sender started first). */
  private beforeView: { from: number; bytes: Uint8Array }[] = [];
  private closed = false;

  constructor(
    private readonly transport: RpcTransport,
    private readonly codec: SchemaCodec,
    private readonly host: ReplicaHost,
    /** Answers this node's calls to itself. */
    private readonly calls: RpcCaller,
    /** Errors go with their stacks (config `logging.remoteStacks`). */
    private readonly remoteStacks = false,
  ) {}

  /** A request from `from` (`bytes` is its whole frame, kept if it must wait for a view). Bad bytes throw RpcWireError. */
  onRequest(from: number, request: P2PRequest, bytes: Uint8Array): void {
    const replica = this.host.replica(request.subgroupId);
    if (replica === undefined && this.transport.view() === undefined) {
      this.beforeView.push({ from, bytes });
      return;
    }
    if (replica === undefined) {
      // Not malformed: the caller's view may say otherwise (after a view change). Tell it.
      const err = new NotAMemberError(`node ${this.transport.nodeId} holds no replica of subgroup ${request.subgroupId}`);
      this.transport.sendP2P(from, [p2pReplyHeader(this.transport.channel, ReplyStatus.Exception, request.invocation), encodeRemoteError(err, this.remoteStacks)]);
      return;
    }
    let codec: MethodCodec;
    try {
      codec = this.codec.methodById(replica.className, request.methodId);
    } catch (err) {
      throw new RpcWireError((err as Error).message);
    }
    if (!codec.method.p2p) throw new RpcWireError(`${replica.className}.${codec.methodName} is not a @P2P() method`);
    // Decoded now, not when its turn comes: bad bytes drop the peer before anything runs.
    const args = wireDecode(() => codec.decodeArgs(request.args));
    this.enqueue({ from, invocation: request.invocation, subgroupId: request.subgroupId, replica, codec, args, selector: request.selector });
  }

  /** A p2p call of this node to itself: the same FIFO path as a peer's, without the wire. */
  runOwnCall(subgroupId: number, invocation: number, codec: MethodCodec, args: unknown[], selector?: HistoricalSelector): void {
    const replica = this.host.replica(subgroupId);
    invariant(replica !== undefined, 'a member holds its replica', () => `${codec.className} subgroup ${subgroupId}`);
    this.enqueue({ from: this.transport.nodeId, invocation, subgroupId, replica, codec, args, selector });
  }

  /** The requests that waited for this node's first view, to be handled now that it started. */
  takeEarlyRequests(): { from: number; bytes: Uint8Array }[] {
    const early = this.beforeView;
    this.beforeView = [];
    return early;
  }

  /** This node leaves: queued requests are dropped, none starts. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private enqueue(job: P2PJob): void {
    this.queue.push(job);
    if (!this.running) this.drain();
  }

  /** FIFO at the target: a job starts only when the one before it (async ones included) finished. */
  private drain(): void {
    this.running = true;
    while (this.queue.length > 0 && !this.closed) {
      const job = this.queue.shift()!;
      if (job.selector !== undefined) {
        this.runHistorical(job, job.selector).then(
          (result) => this.finish(job, result),
          (error: unknown) => this.finish(job, { ok: false, error }),
        );
        return;
      }
      const outcome = this.host.apply(job.replica, job.codec, job.args);
      if (outcome.kind === 'async') {
        outcome.promise.then(
          (value) => this.finish(job, { ok: true, value }),
          (error: unknown) => this.finish(job, { ok: false, error }),
        );
        return;
      }
      this.answer(job, outcome.kind === 'value' ? { ok: true, value: outcome.value } : { ok: false, error: outcome.error });
    }
    this.running = false;
  }

  /**
   * A historical read: the method runs against the replica as of the selected version (each
   * version of a history range in turn), the versions pinned against retention meanwhile.
   */
  private async runHistorical(job: P2PJob, selector: HistoricalSelector): Promise<HandlerResult> {
    const history = new ReplicaHistory(job.replica.instance, `${job.replica.className} at node ${this.transport.nodeId}`);
    const stableBeforeUs = this.transport.stabilityFrontierUs?.(job.subgroupId);
    const versions = selector.kind === 'asOf' ? [history.resolve(selector.point, stableBeforeUs)] : history.versionsIn(selector.from, selector.to, selector.limit, stableBeforeUs);
    const entries: HistoryEntry<unknown>[] = [];
    for (const version of versions) {
      const past = history.stateAt(version);
      try {
        const outcome = this.host.apply({ ...job.replica, instance: past.instance }, job.codec, job.args);
        if (outcome.kind === 'threw') return { ok: false, error: outcome.error };
        const value = outcome.kind === 'async' ? await outcome.promise : outcome.value;
        entries.push({ version: past.version, hlc: past.hlc, value });
      } finally {
        past.release();
      }
    }
    return selector.kind === 'asOf' ? { ok: true, value: entries[0].value } : { ok: true, value: entries };
  }

  private finish(job: P2PJob, result: HandlerResult): void {
    this.answer(job, result);
    this.drain();
  }

  private answer(job: P2PJob, result: HandlerResult): void {
    if (job.from === this.transport.nodeId) {
      this.calls.ownP2PReply(job.invocation, job.codec, result);
      return;
    }
    const [status, body] = result.ok && job.selector?.kind === 'history' ? encodeHistoryReply(job.codec, result.value as HistoryEntry<unknown>[], this.remoteStacks) : result.ok ? encodeReplyBody(job.codec, true, result.value) : encodeReplyBody(job.codec, false, result.error, this.remoteStacks);
    try {
      this.transport.sendP2P(job.from, [p2pReplyHeader(this.transport.channel, status, job.invocation), body]);
    } catch (err) {
      this.transport.log.warn({ to: job.from, method: `${job.codec.className}.${job.codec.methodName}` }, 'cannot send an RPC reply: %s', (err as Error).message);
    }
  }
}

/** A history answer: every version's result marshalled; one that does not marshal fails the whole read. */
function encodeHistoryReply(codec: MethodCodec, entries: readonly HistoryEntry<unknown>[], remoteStacks: boolean): [ReplyStatus, Uint8Array] {
  const encoded: { version: bigint; hlc: HistoryEntry<unknown>['hlc']; result: Uint8Array }[] = [];
  for (const e of entries) {
    const [status, body] = encodeReplyBody(codec, true, e.value, remoteStacks);
    if (status !== ReplyStatus.Ok) return [status, body];
    encoded.push({ version: e.version, hlc: e.hlc, result: body });
  }
  return [ReplyStatus.Ok, encodeHistory(encoded)];
}
