import { expect } from 'chai';
import { HEADER_BYTES, SstLayout } from '../../src/core/sst-layout.js';
import { SstTable, initializeSstTable } from '../../src/core/sst-table.js';
import { validateViewLayout, type ViewLayout } from '../../src/core/view.js';

const view: ViewLayout = {
  vid: 7,
  members: [5, 9, 2, 8],
  myRank: 1,
  subgroups: [
    {
      shards: [
        { members: [5, 9], senders: [true, true], mode: 'ordered' },
        { members: [2, 8], senders: [true, false], mode: 'persistent' },
      ],
      params: { windowSize: 3, maxSmcPayloadBytes: 20, maxPayloadBytes: 100 },
    },
    { shards: [{ members: [9, 2, 8], senders: [true, true, true], mode: 'unordered' }], params: { windowSize: 2, maxSmcPayloadBytes: 0, maxPayloadBytes: 0 } },
  ],
};

describe('core/sst-layout', () => {
  it('lays out the reference §2.4 columns in declaration order, 8-byte aligned', () => {
    const layout = SstLayout.forView(view);
    const names = ['seqNum', 'deliveredNum', 'persistedNum', 'vid', 'suspected', 'changes', 'joinerIps', 'joinerPorts', 'numChanges', 'numCommitted', 'numAcked', 'numInstalled', 'numReceived', 'wedged', 'globalMin', 'globalMinReady', 'slots', 'numReceivedSst', 'index', 'localStabilityFrontier', 'rip'] as const;
    let prev = -1;
    for (const n of names) {
      const c = layout.column(n);
      expect(c.offset % 8, n).to.equal(0);
      expect(c.offset, n).to.be.greaterThan(prev);
      prev = c.offset;
    }
    expect(layout.rowBytes % 8).to.equal(0);
    expect(layout.column('numReceived').offset).to.be.lessThan(layout.column('wedged').offset);
  });

  it('sizes columns from subgroups, senders and windows', () => {
    const layout = SstLayout.forView(view);
    expect(layout.column('seqNum').count).to.equal(2); // G
    expect(layout.column('persistedNum').elemBytes).to.equal(8);
    // R = max senders over shards of subgroup 0 (2) + of subgroup 1 (3)
    expect(layout.column('numReceived').count).to.equal(5);
    expect(layout.column('numReceivedSst').count).to.equal(5);
    expect(layout.subgroups.map((s) => s.numReceivedOffset)).to.deep.equal([0, 2]);
    expect(layout.column('suspected').count).to.equal(4);
    expect(layout.column('changes').count).to.equal(104); // N + 100
    // slots: W * align8(32 + smc + 8) per subgroup
    const stride0 = Math.ceil((HEADER_BYTES + 20 + 8) / 8) * 8;
    const stride1 = HEADER_BYTES + 8;
    expect(layout.subgroups[0].slotStrideBytes).to.equal(stride0);
    expect(layout.column('slots').count).to.equal(3 * stride0 + 2 * stride1);
    expect(layout.slotOffset(1, 1)).to.equal(layout.column('slots').offset + 3 * stride0 + stride1);
  });

  it('is the same at every member (independent of myRank)', () => {
    const a = SstLayout.forView(view);
    const b = SstLayout.forView({ ...view, myRank: 3 });
    expect(a.describe()).to.equal(b.describe());
  });

  it('initializes every row and gives typed access; the core-side table writes only its own row', () => {
    const layout = SstLayout.forView(view);
    const buf = new ArrayBuffer(layout.tableBytes);
    initializeSstTable(layout, buf, 7);
    const t = new SstTable(layout, buf, 1);
    for (let r = 0; r < 4; r++) {
      expect(t.i32('vid', r)).to.equal(7);
      expect(t.i32('seqNum', r, 1)).to.equal(-1);
      expect(t.i64('persistedNum', r, 0)).to.equal(-1n);
      expect(t.i32('numReceivedSst', r, 4)).to.equal(-1);
      expect(t.bool('wedged', r)).to.equal(false);
    }
    t.setI32('seqNum', 1, 42);
    t.setI64('persistedNum', 0, (7n << 32n) | 3n);
    expect(t.i32('seqNum', 1, 1)).to.equal(42);
    expect(t.i32('seqNum', 0, 1)).to.equal(-1);
    expect(t.i64('persistedNum', 1, 0)).to.equal((7n << 32n) | 3n);
    const r = layout.range('seqNum', 1, 1);
    expect(new DataView(buf).getInt32(1 * layout.rowBytes + r.offset, true)).to.equal(42);
  });

  it('refuses out-of-range ranges and too-small buffers', () => {
    const layout = SstLayout.forView(view);
    expect(() => layout.range('seqNum', 1, 2)).to.throw(RangeError, /seqNum/);
    expect(() => new SstTable(layout, new ArrayBuffer(8), 0)).to.throw(/too small/);
  });

  it('validates views with errors that name the field', () => {
    const bad = (patch: Partial<ViewLayout>): (() => void) => () => validateViewLayout({ ...view, ...patch });
    expect(bad({ myRank: 4 })).to.throw(/view\.myRank/);
    expect(bad({ members: [1, 1, 2, 3] })).to.throw(/appears twice/);
    expect(bad({ vid: -1 })).to.throw(/view\.vid/);
    const sub = (s: ViewLayout['subgroups'][number]): (() => void) => bad({ subgroups: [s] });
    expect(sub({ shards: [{ members: [5, 6], senders: [true, true], mode: 'ordered' }], params: view.subgroups[0].params })).to.throw(/node 6 is not a member/);
    expect(sub({ shards: [{ members: [5], senders: [true, true], mode: 'ordered' }], params: view.subgroups[0].params })).to.throw(/senders must have one flag per member/);
    expect(sub({ shards: [{ members: [5], senders: [true], mode: 'ordered' }, { members: [5], senders: [true], mode: 'ordered' }], params: view.subgroups[0].params })).to.throw(/already in another shard/);
    expect(sub({ shards: [{ members: [5], senders: [true], mode: 'ordered' }], params: { windowSize: 0, maxSmcPayloadBytes: 1, maxPayloadBytes: 1 } })).to.throw(/windowSize/);
    expect(sub({ shards: [{ members: [5], senders: [true], mode: 'ordered' }], params: { windowSize: 1, maxSmcPayloadBytes: 10, maxPayloadBytes: 5 } })).to.throw(/maxPayloadBytes/);
  });
});

describe('core/sst-table: applyRemoteWrite', () => {
  it('lands bytes in the writer\'s row and refuses writes outside it or into my row', async () => {
    const { applyRemoteWrite } = await import('../../src/core/sst-table.js');
    const layout = SstLayout.forView(view);
    const buf = new Uint8Array(layout.tableBytes);
    const r = layout.range('seqNum', 0, 1);
    applyRemoteWrite(layout, buf, 1, 2, r.offset, Uint8Array.of(7, 0, 0, 0));
    expect(buf[2 * layout.rowBytes + r.offset]).to.equal(7);
    expect(() => applyRemoteWrite(layout, buf, 1, 1, r.offset, Uint8Array.of(1))).to.throw(/my own row/);
    expect(() => applyRemoteWrite(layout, buf, 1, 4, 0, Uint8Array.of(1))).to.throw(/rows 0\.\.3/);
    expect(() => applyRemoteWrite(layout, buf, 1, 0, layout.rowBytes - 1, Uint8Array.of(1, 2))).to.throw(/leaves the/);
  });
});
