/**
 * Hand-built tables for unit tests: one member's core over a table whose other rows the test
 * writes directly, exactly where a driver would apply remote writes.
 */
import type { CoreOutput, DeliverOutput, PushOutput, RdmcSendOutput } from '../../src/core/core-io.js';
import { writeHeader } from '../../src/core/message-header.js';
import { MulticastCore } from '../../src/core/multicast-core.js';
import { HEADER_BYTES, SLOT_SIZE_FIELD_BYTES, SstLayout } from '../../src/core/sst-layout.js';
import { SstTable, initializeSstTable } from '../../src/core/sst-table.js';
import type { DeliveryMode, MulticastParams, ViewLayout } from '../../src/core/view.js';

export interface OneShardOptions {
  readonly members?: readonly number[];
  readonly senders?: readonly boolean[];
  readonly mode?: DeliveryMode;
  readonly myRank?: number;
  readonly params?: Partial<MulticastParams>;
  readonly vid?: number;
}

export function oneShardView(o: OneShardOptions = {}): ViewLayout {
  const members = o.members ?? [10, 11, 12];
  return {
    vid: o.vid ?? 3,
    members,
    myRank: o.myRank ?? 0,
    subgroups: [
      {
        shards: [{ members, senders: o.senders ?? members.map(() => true), mode: o.mode ?? 'ordered' }],
        params: { windowSize: 4, maxSmcPayloadBytes: 16, maxPayloadBytes: 1000, ...o.params },
      },
    ],
  };
}

export class Harness {
  readonly layout: SstLayout;
  readonly buffer: ArrayBuffer;
  readonly core: MulticastCore;
  /** Writers for every row (the test plays the remote members). */
  readonly rows: SstTable[];

  constructor(readonly view: ViewLayout) {
    this.layout = SstLayout.forView(view);
    this.buffer = new ArrayBuffer(this.layout.tableBytes);
    initializeSstTable(this.layout, this.buffer, view.vid);
    this.core = new MulticastCore({ view, table: this.buffer });
    this.rows = view.members.map((_, r) => new SstTable(this.layout, this.buffer, r));
  }

  /** Remote sender at `row` publishes a real SMC message at ring position `position`. */
  remoteSmc(row: number, g: number, position: number, index: number, payload: Uint8Array, sendWallUs = 1000): void {
    const w = this.rows[row];
    const W = this.layout.subgroups[g].windowSize;
    const off = this.layout.slotOffset(g, position % W);
    writeHeader(w.data, w.abs(row, off), { index, sendWallUs, numNulls: 0, cooked: false });
    w.writeMine(off + HEADER_BYTES, payload);
    w.data.setBigUint64(w.abs(row, off + this.layout.subgroups[g].slotStrideBytes - SLOT_SIZE_FIELD_BYTES), BigInt(HEADER_BYTES + payload.length), true);
    w.setI32('index', g, position);
  }

  /** Remote sender at `row` publishes a run of `count` nulls starting at message `index`. */
  remoteNulls(row: number, g: number, position: number, index: number, count: number): void {
    const w = this.rows[row];
    const off = this.layout.slotOffset(g, position % this.layout.subgroups[g].windowSize);
    writeHeader(w.data, w.abs(row, off), { index, sendWallUs: 0, numNulls: count, cooked: false });
    w.setI32('index', g, position + count - 1);
  }

  mine(): SstTable {
    return this.core.table;
  }
}

export const deliveries = (outs: CoreOutput[]): DeliverOutput[] => outs.filter((o): o is DeliverOutput => o.kind === 'deliver');
export const pushes = (outs: CoreOutput[]): PushOutput[] => outs.filter((o): o is PushOutput => o.kind === 'push');
export const rdmcSends = (outs: CoreOutput[]): RdmcSendOutput[] => outs.filter((o): o is RdmcSendOutput => o.kind === 'rdmcSend');
export const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
