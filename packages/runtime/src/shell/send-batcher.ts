/**
 * Sends of one tick, gathered per subgroup: they reach the protocol together (one `sendBatch` per
 * subgroup once the current task is done: the clock's `defer`), so one push carries many SMC
 * slots instead of one each.
 */
import type { MemberInput } from '../core/member/member-io.js';
import { PayloadSlab, type ChunkAllocator } from '../core/payload-slab.js';
import { HEADER_BYTES } from '../core/sst-layout.js';
import type { Clock } from '../io/clock.js';

interface PendingBatch {
  readonly subgroup: number;
  readonly cooked: boolean;
  readonly payloads: Uint8Array[];
  readonly sendWallUs: number;
  readonly rdmcHeaderRoom: boolean;
}

export class SendBatcher {
  /** Per subgroup (cooked ones under -1 - subgroup). */
  private readonly pending = new Map<number, PendingBatch>();
  private flushScheduled = false;
  /** Send copies come out of shared chunks: one allocation per chunk, not per message. */
  private readonly slab: PayloadSlab;

  /** `flush` gets each batch as the `sendBatch` input it becomes. */
  constructor(
    private readonly clock: Clock,
    chunks: ChunkAllocator | undefined,
    private readonly flush: (batch: Extract<MemberInput, { kind: 'sendBatch' }>) => void,
  ) {
    this.slab = new PayloadSlab(chunks);
  }

  /**
   * Queues one send, copied now unless `owned` (the caller never writes it again): the batch
   * reaches the protocol once the current task is done and the caller may reuse its buffer as soon as this
   * returns. A copy that will travel by RDMC (`viaRdmc`) gets room for the message header in front
   * of it, so the core need not copy it again into a header + payload message.
   */
  add(subgroup: number, payload: Uint8Array, sendWallUs: number, cooked: boolean, owned: boolean, viaRdmc: boolean): void {
    const key = cooked ? -1 - subgroup : subgroup;
    let batch = this.pending.get(key);
    if (batch === undefined) this.pending.set(key, (batch = { subgroup, cooked, payloads: [], sendWallUs, rdmcHeaderRoom: !owned }));
    if (owned && !batch.rdmcHeaderRoom) batch.payloads.push(payload);
    else if (viaRdmc) batch.payloads.push(this.slab.copyWithRoom(payload, HEADER_BYTES));
    else batch.payloads.push(this.slab.copy(payload));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.clock.defer(() => this.flushNow());
    }
  }

  /** Sends of `subgroup` waiting for the next flush. */
  queued(subgroup: number): number {
    return (this.pending.get(subgroup)?.payloads.length ?? 0) + (this.pending.get(-1 - subgroup)?.payloads.length ?? 0);
  }

  private flushNow(): void {
    this.flushScheduled = false;
    const batches = [...this.pending.values()];
    this.pending.clear();
    for (const b of batches) this.flush({ kind: 'sendBatch', subgroup: b.subgroup, payloads: b.payloads, sendWallUs: b.sendWallUs, cooked: b.cooked, owned: true, rdmcHeaderRoom: b.rdmcHeaderRoom });
  }
}
