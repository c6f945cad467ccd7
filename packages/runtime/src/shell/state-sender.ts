/**
 * State transfers on their way to members moving into a shard: the old shard leader snapshots the
 * state at the view boundary at once, but the connection to the receiver may still be handshaking
 * (a joiner), so the message waits for it, for at most `connectTimeoutUs`.
 */
import type { MemberAddress } from '../core/membership/group-view.js';
import type { ControlMessage } from '../core/member/control-messages.js';
import type { Clock, ClockTimer } from '../io/clock.js';
import type { Fabric } from '../io/fabric.js';
import type { Logger } from '../util/logger.js';

interface Waiting {
  readonly messages: ControlMessage[];
  readonly timer: ClockTimer;
}

export class StateSender {
  private readonly waiting = new Map<number, Waiting>();

  constructor(
    private readonly fabric: Fabric,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly connectTimeoutUs: number,
    private readonly sendControl: (to: number, message: ControlMessage) => void,
  ) {}

  /** Sends `message` to `to` now if connected, otherwise once the connection is up. */
  send(to: MemberAddress, message: ControlMessage): void {
    if (this.fabric.isConnected(to.id)) return this.sendControl(to.id, message);
    const w = this.waiting.get(to.id);
    if (w !== undefined) {
      w.messages.push(message);
      return;
    }
    this.fabric.connect(to.id, to.host, to.port);
    const timer = this.clock.after(this.connectTimeoutUs, () => this.giveUp(to.id, `no connection within ${this.connectTimeoutUs / 1000} ms`));
    this.waiting.set(to.id, { messages: [message], timer });
  }

  /** The connection with `node` is up: what waited for it goes out. */
  connected(node: number): void {
    const w = this.waiting.get(node);
    if (w === undefined) return;
    this.waiting.delete(node);
    w.timer.cancel();
    for (const m of w.messages) this.sendControl(node, m);
  }

  /** The connection with `node` failed: what waited for it is dropped (the receiver's join times out and retries). */
  failed(node: number, reason: string): void {
    this.giveUp(node, reason);
  }

  close(): void {
    for (const w of this.waiting.values()) w.timer.cancel();
    this.waiting.clear();
  }

  private giveUp(node: number, why: string): void {
    const w = this.waiting.get(node);
    if (w === undefined) return;
    this.waiting.delete(node);
    w.timer.cancel();
    this.log.warn({ to: node }, 'cannot send state to node %d: %s', node, why);
  }
}
