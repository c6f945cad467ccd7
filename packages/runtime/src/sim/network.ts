/**
 * Link timing of the simulated network. Every writer->reader pair is one FIFO connection (a later
 * put is never applied before an earlier one, like an RDMA QP or one TCP stream); RDMC transfers
 * use a second FIFO channel per pair and pay for their bytes at the link bandwidth.
 */
import type { Prng } from './prng.js';

export interface NetworkOptions {
  /** One-way latency of every message. */
  readonly baseDelayUs: number;
  /** Extra uniformly random latency in [0, jitterUs] per message. */
  readonly jitterUs: number;
  /** Link bandwidth; a message of b bytes takes b / bandwidth µs on the wire. */
  readonly bandwidthBytesPerUs: number;
  /** Per-row multiplier of the latency of links touching that row (1 = normal, >1 = slow). */
  readonly slowness?: readonly number[];
}

export type Channel = 'sst' | 'rdmc';

export class SimNetwork {
  private readonly lastArrivalUs = new Map<string, number>();
  /** When each row's outgoing link is free again (transfers from one writer share its NIC). */
  private readonly linkFreeUs = new Map<number, number>();

  constructor(
    private readonly options: NetworkOptions,
    private readonly prng: Prng,
  ) {
    if (!(options.bandwidthBytesPerUs > 0)) throw new Error(`bandwidthBytesPerUs must be positive, got ${options.bandwidthBytesPerUs}`);
  }

  /** The virtual time at which `bytes` sent now from `from` to `to` are applied at `to`. */
  arrivalUs(nowUs: number, channel: Channel, from: number, to: number, bytes: number): number {
    const slow = Math.max(this.options.slowness?.[from] ?? 1, this.options.slowness?.[to] ?? 1);
    const wireUs = bytes / this.options.bandwidthBytesPerUs;
    // The writer's link serializes what it sends; RDMC pays bandwidth, SST puts are small.
    const start = Math.max(nowUs, this.linkFreeUs.get(from) ?? 0);
    const sentUs = start + wireUs;
    this.linkFreeUs.set(from, sentUs);
    const latencyUs = (this.options.baseDelayUs + this.prng.int(0, this.options.jitterUs)) * slow;
    const key = `${channel}:${from}>${to}`;
    const arrival = Math.max(this.lastArrivalUs.get(key) ?? 0, Math.ceil(sentUs + latencyUs));
    this.lastArrivalUs.set(key, arrival);
    return arrival;
  }
}
