/**
 * The SST row layout of one view (reference §2.4): every member's row has the same columns at the
 * same byte offsets, computed from the view's subgroups and shards alone (never from `myRank`), so
 * a remote write of bytes [offset, offset+length) of the writer's row lands in the same columns
 * of every reader's copy.
 *
 * Columns follow Derecho's declaration order. Deliberate differences:
 * - `signatures`, `signed_num` and `verified_num` are omitted: signed logs are not planned yet.
 *   Adding them later only shifts offsets (the layout is per view and never persisted).
 * - The five joiner port columns are one `joiner_ports` column: derecho-ts listens on one port per
 *   node (DESIGN §6).
 * - A change proposal is {leader u32, change u32, end_of_view u8} in 12 bytes: node ids are u32 in
 *   our config, so Derecho's u16 packing would truncate them.
 * - `local_stability_frontier` holds microseconds (our HLC unit), not nanoseconds.
 * - Every column starts on an 8-byte boundary and the row length is a multiple of 8, so a native
 *   driver can read counters with aligned loads.
 *
 * All multi-byte values are little-endian.
 */
import { validateViewLayout, type ViewLayout } from './view.js';

/** Bytes of the multicast header that prefixes every SMC slot and RDMC message (reference §2.3). */
export const HEADER_BYTES = 32;
/** Each SMC slot ends with the 8-byte size of the message it holds (header + payload). */
export const SLOT_SIZE_FIELD_BYTES = 8;
export const CHANGE_PROPOSAL_BYTES = 12;
/** Derecho sizes the `changes` queue at N + 100 so a small group can absorb a burst of joins. */
export const EXTRA_CHANGE_SLOTS = 100;

/** A byte range within one row: the same offsets hold the same column in every row. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

export type ColumnName =
  | 'seqNum'
  | 'deliveredNum'
  | 'persistedNum'
  | 'vid'
  | 'suspected'
  | 'changes'
  | 'joinerIps'
  | 'joinerPorts'
  | 'numChanges'
  | 'numCommitted'
  | 'numAcked'
  | 'numInstalled'
  | 'numReceived'
  | 'wedged'
  | 'globalMin'
  | 'globalMinReady'
  | 'slots'
  | 'numReceivedSst'
  | 'index'
  | 'localStabilityFrontier'
  | 'rip';

export interface Column {
  readonly name: ColumnName;
  /** Byte offset of element 0 within a row. */
  readonly offset: number;
  readonly elemBytes: number;
  readonly count: number;
}

/** Per-subgroup placement of the multicast state inside the row. */
export interface SubgroupColumns {
  /** First element of this subgroup's range in numReceived / globalMin / numReceivedSst. */
  readonly numReceivedOffset: number;
  /** Width of that range: the most senders any shard of the subgroup has. */
  readonly maxSenders: number;
  /** Byte offset (within the row) of this subgroup's first SMC slot. */
  readonly slotsOffset: number;
  readonly windowSize: number;
  /** Bytes between consecutive slots: header + max SMC payload + size field, 8-aligned. */
  readonly slotStrideBytes: number;
}

const align8 = (n: number): number => (n + 7) & ~7;

export class SstLayout {
  readonly rowBytes: number;
  readonly numRows: number;
  readonly numSubgroups: number;
  readonly changesCapacity: number;
  readonly subgroups: readonly SubgroupColumns[];
  private readonly columns: ReadonlyMap<ColumnName, Column>;

  private constructor(numRows: number, subgroups: SubgroupColumns[], numReceivedSize: number, slotsBytes: number) {
    this.numRows = numRows;
    this.numSubgroups = subgroups.length;
    this.subgroups = subgroups;
    this.changesCapacity = numRows + EXTRA_CHANGE_SLOTS;
    const G = this.numSubgroups;
    const C = this.changesCapacity;
    const R = numReceivedSize;
    const specs: [ColumnName, number, number][] = [
      ['seqNum', 4, G],
      ['deliveredNum', 4, G],
      ['persistedNum', 8, G],
      ['vid', 4, 1],
      ['suspected', 1, numRows],
      ['changes', CHANGE_PROPOSAL_BYTES, C],
      ['joinerIps', 4, C],
      ['joinerPorts', 2, C],
      ['numChanges', 4, 1],
      ['numCommitted', 4, 1],
      ['numAcked', 4, 1],
      ['numInstalled', 4, 1],
      // Derecho requires num_received to precede wedged: a reader that sees wedged set has also
      // seen the final num_received values pushed before it (ordered single-writer puts).
      ['numReceived', 4, R],
      ['wedged', 1, 1],
      ['globalMin', 4, R],
      ['globalMinReady', 1, G],
      ['slots', 1, slotsBytes],
      ['numReceivedSst', 4, R],
      ['index', 4, G],
      ['localStabilityFrontier', 8, G],
      ['rip', 1, 1],
    ];
    const columns = new Map<ColumnName, Column>();
    let offset = 0;
    for (const [name, elemBytes, count] of specs) {
      columns.set(name, { name, offset, elemBytes, count });
      offset = align8(offset + elemBytes * count);
    }
    this.columns = columns;
    this.rowBytes = offset;
    // Slot offsets were computed relative to the slots column; make them row offsets.
    const slotsBase = this.column('slots').offset;
    this.subgroups = subgroups.map((s) => ({ ...s, slotsOffset: s.slotsOffset + slotsBase }));
  }

  /** Lays out the SST of `view`. Identical at every member of the view. */
  static forView(view: ViewLayout): SstLayout {
    validateViewLayout(view);
    const subgroups: SubgroupColumns[] = [];
    let numReceivedOffset = 0;
    let slotsOffset = 0;
    for (const sub of view.subgroups) {
      const maxSenders = Math.max(0, ...sub.shards.map((s) => s.senders.filter(Boolean).length));
      const windowSize = sub.params.windowSize;
      const slotStrideBytes = align8(HEADER_BYTES + sub.params.maxSmcPayloadBytes + SLOT_SIZE_FIELD_BYTES);
      subgroups.push({ numReceivedOffset, maxSenders, slotsOffset, windowSize, slotStrideBytes });
      numReceivedOffset += maxSenders;
      slotsOffset += windowSize * slotStrideBytes;
    }
    return new SstLayout(view.members.length, subgroups, numReceivedOffset, slotsOffset);
  }

  column(name: ColumnName): Column {
    const c = this.columns.get(name);
    if (!c) throw new Error(`unknown SST column ${name}`);
    return c;
  }

  /** Bytes of `count` consecutive elements of a column, starting at element `first`. */
  range(name: ColumnName, first = 0, count?: number): ByteRange {
    const c = this.column(name);
    const n = count ?? c.count - first;
    if (first < 0 || n < 0 || first + n > c.count) throw new RangeError(`SST column ${name}: elements [${first}, ${first + n}) outside [0, ${c.count})`);
    return { offset: c.offset + first * c.elemBytes, length: n * c.elemBytes };
  }

  /** Row offset of SMC slot `slot` (0 ≤ slot < windowSize) of subgroup `g`. */
  slotOffset(g: number, slot: number): number {
    const s = this.subgroups[g];
    return s.slotsOffset + slot * s.slotStrideBytes;
  }

  /** Bytes a driver must allocate for the whole table. */
  get tableBytes(): number {
    return this.rowBytes * this.numRows;
  }

  describe(): string {
    return [...this.columns.values()].map((c) => `${c.name}@${c.offset}[${c.count}x${c.elemBytes}]`).join(' ') + ` rowBytes=${this.rowBytes}`;
  }
}
