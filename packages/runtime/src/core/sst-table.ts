/**
 * Typed access to an SST held in one ArrayBuffer (row r at r * rowBytes). The memory belongs to
 * the driver: in production a native region the NIC/TCP thread writes remote rows into, in the
 * simulator a plain ArrayBuffer. The core reads every row but writes only its own; the setters
 * here therefore take no row argument.
 */
import { invariant } from './invariant.js';
import type { ColumnName, SstLayout } from './sst-layout.js';

export class SstTable {
  readonly bytes: Uint8Array;
  readonly data: DataView;
  private readonly myBase: number;

  constructor(
    readonly layout: SstLayout,
    buffer: ArrayBuffer,
    readonly myRow: number,
  ) {
    if (buffer.byteLength < layout.tableBytes) {
      throw new Error(`SST buffer too small: view needs ${layout.numRows} rows x ${layout.rowBytes} bytes = ${layout.tableBytes}, got ${buffer.byteLength}`);
    }
    if (!Number.isInteger(myRow) || myRow < 0 || myRow >= layout.numRows) throw new Error(`SST myRow must be in [0, ${layout.numRows}), got ${myRow}`);
    this.bytes = new Uint8Array(buffer, 0, layout.tableBytes);
    this.data = new DataView(buffer, 0, layout.tableBytes);
    this.myBase = myRow * layout.rowBytes;
  }

  private at(name: ColumnName, row: number, i: number): number {
    const c = this.layout.column(name);
    invariant(i >= 0 && i < c.count && row >= 0 && row < this.layout.numRows, 'sst index in range', () => `${name}[${row}][${i}] outside ${this.layout.numRows}x${c.count}`);
    return row * this.layout.rowBytes + c.offset + i * c.elemBytes;
  }

  i32(name: ColumnName, row: number, i = 0): number {
    return this.data.getInt32(this.at(name, row, i), true);
  }
  setI32(name: ColumnName, i: number, value: number): void {
    this.data.setInt32(this.at(name, this.myRow, i), value, true);
  }
  i64(name: ColumnName, row: number, i = 0): bigint {
    return this.data.getBigInt64(this.at(name, row, i), true);
  }
  setI64(name: ColumnName, i: number, value: bigint): void {
    this.data.setBigInt64(this.at(name, this.myRow, i), value, true);
  }
  u64(name: ColumnName, row: number, i = 0): number {
    return Number(this.data.getBigUint64(this.at(name, row, i), true));
  }
  setU64(name: ColumnName, i: number, value: number): void {
    this.data.setBigUint64(this.at(name, this.myRow, i), BigInt(value), true);
  }
  bool(name: ColumnName, row: number, i = 0): boolean {
    return this.data.getUint8(this.at(name, row, i)) !== 0;
  }
  setBool(name: ColumnName, i: number, value: boolean): void {
    this.data.setUint8(this.at(name, this.myRow, i), value ? 1 : 0);
  }

  /** Absolute table offset of a row-relative offset. */
  abs(row: number, rowOffset: number): number {
    return row * this.layout.rowBytes + rowOffset;
  }

  /** A view (not a copy) of bytes of `row`. */
  rowBytes(row: number, rowOffset: number, length: number): Uint8Array {
    return this.bytes.subarray(this.abs(row, rowOffset), this.abs(row, rowOffset) + length);
  }

  /** Copies `src` into my row at `rowOffset`. */
  writeMine(rowOffset: number, src: Uint8Array): void {
    invariant(rowOffset >= 0 && rowOffset + src.length <= this.layout.rowBytes, 'own write inside row', () => `[${rowOffset}, ${rowOffset + src.length}) beyond ${this.layout.rowBytes}`);
    this.bytes.set(src, this.myBase + rowOffset);
  }
}

/**
 * Writes the initial values of every row: the view id, and −1 in every multicast counter. All rows
 * start identical, which stands in for Derecho's start-of-view sync barrier: a reader must never
 * mistake a not-yet-written remote row (all zeros) for "received message 0". The driver calls this
 * once on the fresh table memory, before it accepts remote writes and before building the core.
 */
export function initializeSstTable(layout: SstLayout, buffer: ArrayBuffer, vid: number): void {
  if (buffer.byteLength < layout.tableBytes) throw new Error(`SST buffer too small: need ${layout.tableBytes} bytes, got ${buffer.byteLength}`);
  new Uint8Array(buffer, 0, layout.tableBytes).fill(0);
  const data = new DataView(buffer);
  for (let row = 0; row < layout.numRows; row++) {
    const base = row * layout.rowBytes;
    const fill32 = (name: ColumnName, v: number): void => {
      const c = layout.column(name);
      for (let i = 0; i < c.count; i++) data.setInt32(base + c.offset + 4 * i, v, true);
    };
    const fill64 = (name: ColumnName, v: bigint): void => {
      const c = layout.column(name);
      for (let i = 0; i < c.count; i++) data.setBigInt64(base + c.offset + 8 * i, v, true);
    };
    data.setInt32(base + layout.column('vid').offset, vid, true);
    fill32('seqNum', -1);
    fill32('deliveredNum', -1);
    fill64('persistedNum', -1n);
    fill32('numReceived', -1);
    fill32('globalMin', -1);
    fill32('numReceivedSst', -1);
    fill32('index', -1);
  }
}

/**
 * Applies one remote write the way every driver must: the writer's bytes land at the same offset
 * of the WRITER's row in this member's table. Refuses (with an Error the driver turns into
 * "drop this connection") a write that would leave the writer's row, a writer that is not a row,
 * or a write into my own row: malformed bytes from the network must never corrupt the table.
 */
export function applyRemoteWrite(layout: SstLayout, table: Uint8Array, myRow: number, writerRow: number, rowOffset: number, bytes: Uint8Array): void {
  if (!Number.isInteger(writerRow) || writerRow < 0 || writerRow >= layout.numRows) throw new Error(`remote write from row ${writerRow}: the view has rows 0..${layout.numRows - 1}`);
  if (writerRow === myRow) throw new Error(`remote write into my own row ${myRow}: only I write my row`);
  if (!Number.isInteger(rowOffset) || rowOffset < 0 || rowOffset + bytes.length > layout.rowBytes) {
    throw new Error(`remote write of ${bytes.length} bytes at offset ${rowOffset} leaves the ${layout.rowBytes}-byte row`);
  }
  table.set(bytes, writerRow * layout.rowBytes + rowOffset);
}
