/**
 * A replicated object for tests and benchmarks of the RPC layer itself: echoes with versions,
 * a method that throws, a p2p counter that shows the order calls ran in, and a byte sink.
 */
import { currentVersion, Ordered, P2P, Replicated } from '@derecho-ts/runtime';

export interface Stamp {
  node: number;
  /** How many ordered calls this replica applied, this one included. */
  applied: number;
  version: bigint;
  wallUs: number;
  logical: number;
}

@Replicated()
export class RpcProbe {
  private applied = 0;
  private p2pCalls = 0;
  private bytesSeen = 0;

  /** `onApplied` hears the running count of applied ordered calls (benchmarks time with it). */
  constructor(
    private readonly nodeId = -1,
    private readonly onApplied?: (applied: number) => void,
  ) {}

  @Ordered() stamp(): Stamp {
    this.applied++;
    const { version, hlc } = currentVersion();
    return { node: this.nodeId, applied: this.applied, version, wallUs: hlc.wallUs, logical: hlc.logical };
  }

  /** Stamps at delivery but answers only after `delayMs` (a replica may fail meanwhile). */
  @Ordered() async delayedStamp(delayMs: number): Promise<Stamp> {
    const s = this.stamp();
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return s;
  }

  @Ordered() @P2P() fail(message: string): number {
    throw new TypeError(message);
  }

  /** Runs in FIFO order at the target: returns how many p2p calls it ran before this one, and the tag. */
  @P2P() sequence(tag: number): [number, number] {
    return [this.p2pCalls++, tag];
  }

  /** An async p2p handler: later calls must still wait for it (FIFO at the target). */
  @P2P() async slowSequence(tag: number, delayMs: number): Promise<[number, number]> {
    const position = this.p2pCalls++;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return [position, tag];
  }

  /** The typed bandwidth benchmark's call: a byte array, no reply (void). */
  @Ordered() sink(payload: Uint8Array): void {
    this.bytesSeen += payload.length;
    this.applied++;
    this.onApplied?.(this.applied);
  }

  /** sink() with a reply: every member answers with its running count (the typed benchmark's --replies). */
  @Ordered() sinkAck(payload: Uint8Array): number {
    this.sink(payload);
    return this.applied;
  }

  @P2P() ping(): number {
    return this.applied;
  }

  @P2P() @Ordered() appliedCount(): number {
    return this.applied;
  }
}
