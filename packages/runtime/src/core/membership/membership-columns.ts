/**
 * Typed access to the membership columns of a view's SST (reference §2.4): `suspected`, the
 * `changes` queue with its joiner address block, the change counters, `wedged`, the ragged-trim
 * columns and `rip`. The multicast core owns the other columns; both write only my row.
 *
 * A change proposal is 12 bytes: {leader u32, change u32 (node id), end_of_view u8}. Joiner
 * addresses are IPv4 (u32, a.b.c.d as a<<24|…|d) and one port (u16), parallel to `changes`.
 */
import { invariant } from '../invariant.js';
import { CHANGE_PROPOSAL_BYTES, type ByteRange, type SstLayout } from '../sst-layout.js';
import type { SstTable } from '../sst-table.js';
import type { MemberAddress } from './group-view.js';

export interface ChangeProposal {
  /** The leader that proposed (or re-proposed, after adopting) this change. */
  readonly leader: number;
  /** The node joining (not in the view) or leaving (in the view). */
  readonly node: number;
  readonly endOfView: boolean;
  /** Joins only: the joiner's address. */
  readonly address?: MemberAddress;
}

export function encodeIpv4(host: string): number {
  const parts = host.split('.');
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  if (bytes.length !== 4 || bytes.some((b) => !(b >= 0 && b <= 255))) throw new Error(`joiner host must be an IPv4 address a.b.c.d, got ${JSON.stringify(host)}`);
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

export function decodeIpv4(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

/** The membership columns of one table, from the seat of `table.myRow`. */
export class MembershipColumns {
  readonly layout: SstLayout;
  readonly numRows: number;

  constructor(readonly table: SstTable) {
    this.layout = table.layout;
    this.numRows = table.layout.numRows;
  }

  get myRow(): number {
    return this.table.myRow;
  }

  /** Whether any row holds a proposal (the steady-state check, read raw). */
  anyProposal(): boolean {
    const off = this.layout.column('numChanges').offset;
    const stride = this.layout.rowBytes;
    for (let r = 0; r < this.numRows; r++) if (this.table.data.getInt32(r * stride + off, true) !== 0) return true;
    return false;
  }

  /** The `suspected` column of `row` as bytes (a view, not a copy): the hot scan reads it raw. */
  suspectedBytes(row: number): Uint8Array {
    return this.table.rowBytes(row, this.suspectedOffset, this.numRows);
  }
  private get suspectedOffset(): number {
    return this.layout.column('suspected').offset;
  }

  suspected(row: number, rank: number): boolean {
    return this.table.bool('suspected', row, rank);
  }
  setSuspected(rank: number): void {
    this.table.setBool('suspected', rank, true);
  }
  rip(row: number): boolean {
    return this.table.bool('rip', row);
  }
  wedged(row: number): boolean {
    return this.table.bool('wedged', row);
  }
  numChanges(row: number): number {
    return this.table.i32('numChanges', row);
  }
  numCommitted(row: number): number {
    return this.table.i32('numCommitted', row);
  }
  numAcked(row: number): number {
    return this.table.i32('numAcked', row);
  }

  change(row: number, i: number): ChangeProposal {
    const c = this.layout.column('changes');
    invariant(i >= 0 && i < c.count, 'change slot in range', () => `slot ${i} of ${c.count}`);
    const at = this.table.abs(row, c.offset + i * CHANGE_PROPOSAL_BYTES);
    const d = this.table.data;
    const node = d.getUint32(at + 4, true);
    const leader = d.getUint32(at, true);
    const endOfView = d.getUint8(at + 8) !== 0;
    const port = this.table.data.getUint16(this.table.abs(row, this.layout.column('joinerPorts').offset + 2 * i), true);
    if (port === 0) return { leader, node, endOfView };
    const ip = this.table.data.getUint32(this.table.abs(row, this.layout.column('joinerIps').offset + 4 * i), true);
    return { leader, node, endOfView, address: { id: node, host: decodeIpv4(ip), port } };
  }

  /** The proposals of `row` (its first numChanges slots). */
  changes(row: number): ChangeProposal[] {
    const n = this.numChanges(row);
    const out: ChangeProposal[] = [];
    for (let i = 0; i < n; i++) out.push(this.change(row, i));
    return out;
  }

  /** `row` holds a whole batch: at least one change and the last one ends the view. */
  hasCompleteBatch(row: number): boolean {
    const n = this.numChanges(row);
    return n > 0 && this.change(row, n - 1).endOfView;
  }

  /** Same proposals in both rows; with `stamps`, also proposed by the same leaders. */
  sameChanges(a: number, b: number, stamps = true): boolean {
    const n = this.numChanges(a);
    if (n !== this.numChanges(b)) return false;
    for (let i = 0; i < n; i++) {
      const x = this.change(a, i);
      const y = this.change(b, i);
      if ((stamps && x.leader !== y.leader) || x.node !== y.node || x.endOfView !== y.endOfView || x.address?.host !== y.address?.host || x.address?.port !== y.address?.port) return false;
    }
    return true;
  }

  /** Writes `batch` into my row's changes and joiner block and sets numChanges. */
  writeChanges(batch: readonly ChangeProposal[]): void {
    const capacity = this.layout.changesCapacity;
    invariant(batch.length <= capacity, 'batch fits the changes column', () => `${batch.length} > ${capacity}`);
    const c = this.layout.column('changes');
    const d = this.table.data;
    for (const [i, p] of batch.entries()) {
      const at = this.table.abs(this.myRow, c.offset + i * CHANGE_PROPOSAL_BYTES);
      d.setUint32(at, p.leader, true);
      d.setUint32(at + 4, p.node, true);
      d.setUint8(at + 8, p.endOfView ? 1 : 0);
      d.setUint32(this.table.abs(this.myRow, this.layout.column('joinerIps').offset + 4 * i), p.address ? encodeIpv4(p.address.host) : 0, true);
      d.setUint16(this.table.abs(this.myRow, this.layout.column('joinerPorts').offset + 2 * i), p.address ? p.address.port : 0, true);
    }
    this.table.setI32('numChanges', 0, batch.length);
  }

  setNumAcked(n: number): void {
    this.table.setI32('numAcked', 0, n);
  }
  setNumCommitted(n: number): void {
    this.table.setI32('numCommitted', 0, n);
  }
  setRip(): void {
    this.table.setBool('rip', 0, true);
  }

  globalMinReady(row: number, subgroup: number): boolean {
    return this.table.bool('globalMinReady', row, subgroup);
  }
  /** The trim a row published for `subgroup` (one entry per sender rank of its shard). */
  globalMin(row: number, subgroup: number, numSenders: number): number[] {
    const base = this.layout.subgroups[subgroup].numReceivedOffset;
    return Array.from({ length: numSenders }, (_, k) => this.table.i32('globalMin', row, base + k));
  }
  numReceived(row: number, subgroup: number, senderRank: number): number {
    return this.table.i32('numReceived', row, this.layout.subgroups[subgroup].numReceivedOffset + senderRank);
  }
  publishGlobalMin(subgroup: number, trim: readonly number[]): void {
    const base = this.layout.subgroups[subgroup].numReceivedOffset;
    trim.forEach((t, k) => this.table.setI32('globalMin', base + k, t));
    this.table.setBool('globalMinReady', subgroup, true);
  }

  // Byte ranges to push, in the order they must become visible.
  range(name: 'suspected' | 'numChanges' | 'numCommitted' | 'numAcked' | 'rip'): ByteRange {
    return this.layout.range(name);
  }
  changesRanges(count: number): ByteRange[] {
    if (count === 0) return [this.layout.range('numChanges')];
    return [this.layout.range('changes', 0, count), this.layout.range('joinerIps', 0, count), this.layout.range('joinerPorts', 0, count), this.layout.range('numChanges')];
  }
  globalMinRanges(subgroup: number, numSenders: number): ByteRange[] {
    const base = this.layout.subgroups[subgroup].numReceivedOffset;
    return [this.layout.range('globalMin', base, numSenders), this.layout.range('globalMinReady', subgroup, 1)];
  }
}
