/**
 * A raw subgroup: multicast of byte payloads, no RPC. In an `ordered` or `persistent` shard every
 * member delivers the same messages in the same order, each with a version and an HLC; in an
 * `unordered` shard messages are delivered on receipt, FIFO per sender.
 */
import { EventEmitter } from 'eventemitter3';
import type { Hlc } from '../core/hlc.js';
import type { Version } from '../core/version.js';
import type { MemberShell } from '../shell/member-shell.js';
import { GroupClosedError, NotAMemberError } from './errors.js';

export interface RawDelivery {
  /** Node id of the sender. */
  readonly sender: number;
  /**
   * The sender's message index in this view: strictly increasing per sender. In ordered modes it
   * may skip values, because null messages (which keep the round-robin order moving when a sender
   * is idle) consume indices without being delivered.
   */
  readonly index: number;
  /** `(vid << 32n) | seq` in ordered modes; -1n (INVALID_VERSION) in unordered mode. */
  readonly version: Version;
  readonly hlc: Hlc;
  readonly payload: Uint8Array;
}

export interface RawSubgroupEvents {
  deliver: [RawDelivery];
}

export class RawSubgroup extends EventEmitter<RawSubgroupEvents> {
  private waiters: (() => void)[] = [];
  /** Deliveries that came before anyone listened; replayed, in order, to the first listener. */
  private held: RawDelivery[] = [];

  /** @internal created by Group.rawSubgroup */
  constructor(
    private readonly node: MemberShell,
    readonly name: string,
    readonly index: number,
    readonly subgroupId: number,
  ) {
    super();
  }

  private checkMember(): void {
    const view = this.node.view;
    if (view === undefined) throw new GroupClosedError(`raw subgroup ${this.name}: the group has no installed view`);
    if (!this.node.isMember(this.subgroupId)) throw new NotAMemberError(`node ${this.node.nodeId} is not in any shard of raw subgroup ${this.name}[${this.index}] in view ${view.vid}`);
  }

  /**
   * Multicasts `payload` to my shard. Never blocks and never drops: beyond the window the message
   * waits in a queue (see `queued` and `whenWritable()` for backpressure).
   */
  send(payload: Uint8Array): void {
    if (!(payload instanceof Uint8Array)) throw new TypeError(`raw subgroup ${this.name}: send() takes a Uint8Array, got ${payload === null ? 'null' : typeof payload}`);
    this.checkMember();
    this.node.send(this.subgroupId, payload);
  }

  /** Messages sent here that are still waiting for a window slot. */
  get queued(): number {
    return this.node.queuedSends(this.subgroupId);
  }

  /** Resolves when fewer than `maxQueued` sends are waiting for a window slot. */
  whenWritable(maxQueued = 1): Promise<void> {
    if (this.queued < maxQueued) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.queued < maxQueued) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** @internal the group hands every delivery of this subgroup here */
  deliver(d: RawDelivery): void {
    if (this.listenerCount('deliver') === 0) this.held.push(d);
    else this.emit('deliver', d);
  }

  /** Holds no delivery back: attaching the first `deliver` listener replays those that came before. */
  override on<E extends keyof RawSubgroupEvents>(event: E, fn: (...args: RawSubgroupEvents[E]) => void, context?: unknown): this {
    super.on(event, fn, context);
    if (event === 'deliver' && this.held.length > 0) {
      const held = this.held;
      this.held = [];
      for (const d of held) this.emit('deliver', d);
    }
    return this;
  }

  /** @internal the group calls this after each polled batch */
  onProgress(): void {
    if (this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}
