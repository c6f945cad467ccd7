/**
 * Test harnesses for the view manager: hand-built tables (the test writes the other members'
 * rows directly) and a tiny synchronous group that carries pushes instantly in FIFO order.
 */
import type { DeliverOutput } from '../../src/core/core-io.js';
import { viewLayoutFor, type GroupSubgroup, type GroupView, type MemberAddress } from '../../src/core/membership/group-view.js';
import { MembershipColumns } from '../../src/core/membership/membership-columns.js';
import type { MembershipOutput } from '../../src/core/membership/membership-io.js';
import type { AllocateNextView } from '../../src/core/membership/next-view.js';
import { ViewManager } from '../../src/core/membership/view-manager.js';
import { SstLayout } from '../../src/core/sst-layout.js';
import { SstTable, applyRemoteWrite, initializeSstTable } from '../../src/core/sst-table.js';
import { InadequateLayoutError } from '../../src/layout/errors.js';

export const params = { windowSize: 4, maxPayloadBytes: 32, maxSmcPayloadBytes: 32, blockBytes: 1024 };
export const addr = (id: number): MemberAddress => ({ id, host: `10.0.0.${id % 250}`, port: 7000 + id });

/** One subgroup, one shard of every member (all senders); inadequate below `minMembers`. */
export function wholeGroup(minMembers = 1): AllocateNextView {
  return (ids) => {
    if (ids.length < minMembers) throw new InadequateLayoutError(minMembers, ids.length, ['T[0] shard 0']);
    return [{ type: 'T', index: 0, shards: [{ members: [...ids], senders: ids.map(() => true), mode: 'ordered' }], params }] as GroupSubgroup[];
  };
}

export function groupView(ids: readonly number[], vid = 0, allocate: AllocateNextView = wholeGroup()): GroupView {
  const members = ids.map(addr);
  return { vid, members, subgroups: allocate(ids, { vid: -1, members, subgroups: [] }) };
}

/** One member's manager over a table whose other rows the test writes. */
export class HandBuilt {
  readonly layout: SstLayout;
  readonly buffer: ArrayBuffer;
  readonly vm: ViewManager;

  constructor(
    readonly view: GroupView,
    readonly myId: number,
    options: { allocate?: AllocateNextView; partitionSafety?: boolean } = {},
  ) {
    this.layout = SstLayout.forView(viewLayoutFor(view, myId));
    this.buffer = new ArrayBuffer(this.layout.tableBytes);
    initializeSstTable(this.layout, this.buffer, view.vid);
    this.vm = new ViewManager({ view, myId, table: this.buffer, allocate: options.allocate ?? wholeGroup(), partitionSafety: options.partitionSafety });
  }

  /** Columns of row `rank` as its owner would write them. */
  row(rank: number): MembershipColumns {
    return new MembershipColumns(new SstTable(this.layout, this.buffer, rank));
  }
  table(rank: number): SstTable {
    return new SstTable(this.layout, this.buffer, rank);
  }
  /** My row's columns, for reading. */
  get mine(): MembershipColumns {
    return new MembershipColumns(this.vm.core.table);
  }
  rowsChanged(): MembershipOutput[] {
    return this.vm.onRowsChanged();
  }
}

interface Member {
  readonly id: number;
  vm: ViewManager;
  layout: SstLayout;
  bytes: Uint8Array;
  nextTable?: { vid: number; layout: SstLayout; buffer: ArrayBuffer };
  delivered: { vid: number; sender: number; payload: string }[];
  outputs: MembershipOutput[];
  /** Writes for a view not installed yet. */
  future: { vid: number; from: number; offset: number; bytes: Uint8Array }[];
}

/** A synchronous group: pushes are applied at the targets immediately (FIFO), unless cut. */
export class LocalGroup {
  readonly members = new Map<number, Member>();
  readonly crashed = new Set<number>();
  /** Links that drop everything ("from>to"). */
  readonly cut = new Set<string>();
  /** When false, logTrim outputs wait for `ackTrims()`. */
  autoLogTrim = true;
  private readonly pendingTrims: { id: number; vid: number; subgroup: number }[] = [];
  private readonly queue: (() => void)[] = [];

  constructor(
    view: GroupView,
    readonly allocate: AllocateNextView = wholeGroup(),
  ) {
    for (const m of view.members) this.add(m.id, view);
  }

  add(id: number, view: GroupView): Member {
    const layout = SstLayout.forView(viewLayoutFor(view, id));
    const buffer = new ArrayBuffer(layout.tableBytes);
    initializeSstTable(layout, buffer, view.vid);
    const vm = new ViewManager({ view, myId: id, table: buffer, allocate: this.allocate });
    const member: Member = { id, vm, layout, bytes: new Uint8Array(buffer), delivered: [], outputs: [], future: [] };
    this.members.set(id, member);
    return member;
  }

  get(id: number): Member {
    return this.members.get(id)!;
  }

  /** Steps member `id` and carries out its outputs (and everything they cause) to quiescence. */
  step(id: number, f: (vm: ViewManager) => MembershipOutput[]): MembershipOutput[] {
    const m = this.get(id);
    const outs = f(m.vm);
    this.handle(m, outs);
    this.drain();
    return outs;
  }

  ackTrims(): void {
    const pending = this.pendingTrims.splice(0);
    for (const t of pending) if (!this.crashed.has(t.id)) this.step(t.id, (vm) => vm.step({ kind: 'trimLogged', vid: t.vid, subgroup: t.subgroup }));
  }

  private drain(): void {
    while (this.queue.length > 0) this.queue.shift()!();
  }

  private handle(m: Member, outs: readonly MembershipOutput[]): void {
    const vid = m.vm.vid;
    for (const o of outs) {
      m.outputs.push(o);
      switch (o.kind) {
        case 'push': {
          const base = m.vm.myRank * m.layout.rowBytes;
          const writes = o.ranges.map((r) => ({ offset: r.offset, bytes: m.bytes.slice(base + r.offset, base + r.offset + r.length) }));
          for (const row of o.targets) {
            const to = m.vm.view.members[row].id;
            this.queue.push(() => this.arrive(to, m.id, vid, writes));
          }
          break;
        }
        case 'deliver':
          m.delivered.push({ vid, sender: o.senderNode, payload: new TextDecoder().decode(o.payload) });
          break;
        case 'logTrim':
          if (this.autoLogTrim) this.queue.push(() => this.crashed.has(m.id) || this.handle(m, m.vm.step({ kind: 'trimLogged', vid: o.vid, subgroup: o.subgroup })));
          else this.pendingTrims.push({ id: m.id, vid: o.vid, subgroup: o.subgroup });
          break;
        case 'persist':
          this.queue.push(() => this.crashed.has(m.id) || m.vm.vid !== vid || this.handle(m, m.vm.step({ kind: 'persisted', subgroup: o.subgroup, version: o.version })));
          break;
        case 'installView': {
          const layout = SstLayout.forView(viewLayoutFor(o.view, m.id));
          const buffer = new ArrayBuffer(layout.tableBytes);
          initializeSstTable(layout, buffer, o.view.vid);
          this.queue.push(() => {
            if (this.crashed.has(m.id)) return;
            m.layout = layout;
            m.bytes = new Uint8Array(buffer);
            this.handle(m, m.vm.step({ kind: 'viewTableReady', vid: o.view.vid, table: buffer }));
            const held = m.future.filter((w) => w.vid === o.view.vid);
            m.future = m.future.filter((w) => w.vid > o.view.vid);
            for (const w of held) this.arrive(m.id, w.from, w.vid, [w]);
          });
          break;
        }
        default:
          break;
      }
    }
  }

  private arrive(to: number, from: number, vid: number, writes: readonly { offset: number; bytes: Uint8Array }[]): void {
    const m = this.members.get(to);
    if (!m || this.crashed.has(to) || this.crashed.has(from) || this.cut.has(`${from}>${to}`) || m.vm.shutdownReason !== undefined) return;
    if (vid > m.vm.vid || m.vm.phase === 'awaitingTable') {
      if (vid > m.vm.vid) for (const w of writes) m.future.push({ vid, from, ...w });
      return;
    }
    if (vid < m.vm.vid) return;
    const row = m.vm.view.members.findIndex((x) => x.id === from);
    if (row < 0) return;
    for (const w of writes) applyRemoteWrite(m.layout, m.bytes, m.vm.myRank, row, w.offset, w.bytes);
    this.handle(m, m.vm.onRowsChanged());
  }

  /** `id` stops forever; nothing it sends or is sent arrives any more. */
  crash(id: number): void {
    this.crashed.add(id);
  }

  /** Every live member's failure detector reports `id`. */
  detect(id: number): void {
    for (const m of this.members.values()) if (!this.crashed.has(m.id) && m.id !== id && m.vm.shutdownReason === undefined) this.step(m.id, (vm) => vm.step({ kind: 'peerFailed', node: id }));
  }

  /** `id` multicasts `text` in subgroup 0, stamped as sent at `sendWallUs` (default 1). */
  send(id: number, text: string, sendWallUs = 1): void {
    this.step(id, (vm) => vm.send(0, new TextEncoder().encode(text), sendWallUs));
  }

  delivered(id: number): string[] {
    return this.get(id).delivered.map((d) => d.payload);
  }
}

export type { DeliverOutput };
