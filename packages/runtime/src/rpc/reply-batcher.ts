/**
 * Replies to other members' ordered calls, batched: one P2P message per caller per delivery
 * batch (the synchronous run that delivered the calls), not one per call. A frame that grows past
 * its entry or byte bound goes out at once.
 */
import type { MethodCodec } from './marshal.js';
import { encodeReplyBody } from './reply-outcome.js';
import type { RpcTransport } from './rpc-transport.js';
import { MAX_ORDERED_REPLIES, OrderedRepliesBuilder, type ReplyStatus } from './rpc-wire.js';

/** Bodies above this many bytes in one caller's reply frame send it at once (keeps frames bounded). */
const MAX_REPLY_FRAME_BODY_BYTES = 4 << 20;

export class ReplyBatcher {
  /** Per caller, the replies of the current delivery batch. */
  private readonly frames = new Map<number, OrderedRepliesBuilder>();
  private flushScheduled = false;
  private closed = false;

  constructor(
    private readonly transport: RpcTransport,
    /** Errors go with their stacks (config `logging.remoteStacks`). */
    private readonly remoteStacks = false,
  ) {}

  /** This replica's answer to `caller`'s ordered call `invocation`: sent when the batch ends. */
  add(caller: number, subgroupId: number, invocation: number, codec: MethodCodec, ok: boolean, valueOrError: unknown): void {
    if (this.closed) return;
    const [status, body] = encodeReplyBody(codec, ok, valueOrError, this.remoteStacks);
    this.addEncoded(caller, subgroupId, invocation, status, body);
  }

  /** A handler's answer as a reply body (with its stack when configured), to record or send. */
  encode(codec: MethodCodec, ok: boolean, valueOrError: unknown): { status: ReplyStatus; body: Uint8Array } {
    const [status, body] = encodeReplyBody(codec, ok, valueOrError, this.remoteStacks);
    return { status, body };
  }

  /** An answer already marshalled (a recorded reply to a retried call): sent when the batch ends. */
  addEncoded(caller: number, subgroupId: number, invocation: number, status: ReplyStatus, body: Uint8Array): void {
    if (this.closed) return;
    let frame = this.frames.get(caller);
    if (frame === undefined) this.frames.set(caller, (frame = new OrderedRepliesBuilder()));
    frame.add(status, subgroupId, invocation, body);
    if (frame.count >= MAX_ORDERED_REPLIES || frame.bodyBytesSoFar >= MAX_REPLY_FRAME_BODY_BYTES) this.send(caller, frame);
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Sends every caller's pending reply frame. */
  flush(): void {
    this.flushScheduled = false;
    for (const [caller, frame] of this.frames) if (frame.count > 0) this.send(caller, frame);
  }

  /** `caller` failed: the replies waiting for it are dropped (it fails those calls itself). */
  dropCaller(caller: number): void {
    this.frames.delete(caller);
  }

  /** This node leaves: replies it already computed still go out (they were due before it left), later ones do not. */
  close(): void {
    this.flush();
    this.frames.clear();
    this.closed = true;
  }

  private send(caller: number, frame: OrderedRepliesBuilder): void {
    const count = frame.count;
    const bytes = frame.take(this.transport.channel);
    try {
      this.transport.sendP2P(caller, [bytes]);
    } catch (err) {
      // The caller is gone: it fails those calls itself (its own leave or close).
      this.transport.log.warn({ to: caller, replies: count }, 'cannot send RPC replies: %s', (err as Error).message);
    }
  }
}
