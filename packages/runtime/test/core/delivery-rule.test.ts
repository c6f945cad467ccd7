import { expect } from 'chai';
import { readHeader } from '../../src/core/message-header.js';
import { makeVersion } from '../../src/core/version.js';
import { Harness, bytes, deliveries, oneShardView, pushes } from './harness.js';

describe('core/multicast: round-robin delivery rule (hand-built tables)', () => {
  it('delivers in seq order, only once every member\'s seq_num covers it; nulls take seqs but no versions', () => {
    const h = new Harness(oneShardView({ members: [10, 11, 12], myRank: 0, vid: 3 }));
    h.remoteSmc(1, 0, 0, 0, bytes(1), 1000);
    h.remoteSmc(2, 0, 0, 0, bytes(2), 1000);
    const outs = h.core.onRowsChanged();
    // I (sender rank 0) owed index 0 before theirs: a null went out, as one header-only slot.
    const t = h.mine();
    expect(t.i32('index', 0, 0)).to.equal(0);
    const hdr = readHeader(t.data, t.abs(0, h.layout.slotOffset(0, 0)));
    expect(hdr).to.include({ index: 0, numNulls: 1 });
    expect(t.i32('seqNum', 0, 0)).to.equal(2); // (min 0 + 1) * 3 + 0 - 1
    expect(deliveries(outs)).to.have.length(0); // others' seq_num still -1
    expect(pushes(outs).length).to.be.greaterThan(0);

    h.rows[1].setI32('seqNum', 0, 2);
    h.rows[2].setI32('seqNum', 0, 1);
    const d1 = deliveries(h.core.onRowsChanged());
    expect(d1.map((d) => [d.senderNode, d.index, d.version])).to.deep.equal([[11, 0, makeVersion(3, 1)]]);
    expect(d1[0].hlc).to.deep.equal({ wallUs: 1000, logical: 0 });
    expect(t.i32('deliveredNum', 0, 0)).to.equal(1);

    h.rows[2].setI32('seqNum', 0, 2);
    const d2 = deliveries(h.core.onRowsChanged());
    expect(d2.map((d) => [d.senderNode, d.index, d.version])).to.deep.equal([[12, 0, makeVersion(3, 2)]]);
    // Same send time: the HLC is bumped so it still strictly increases.
    expect(d2[0].hlc).to.deep.equal({ wallUs: 1000, logical: 1 });
    expect(Array.from(d2[0].payload)).to.deep.equal([2]);
  });

  it('computes seq_num = (m + 1)·S + j − 1 from the per-sender received prefixes', () => {
    // I only receive; senders are rows 1, 2, 3 (sender ranks 0, 1, 2).
    const h = new Harness(oneShardView({ members: [1, 2, 3, 4], senders: [false, true, true, true], myRank: 0 }));
    h.remoteSmc(1, 0, 0, 0, bytes(0));
    h.remoteSmc(1, 0, 1, 1, bytes(1));
    h.remoteSmc(2, 0, 0, 0, bytes(2));
    h.core.onRowsChanged();
    expect(h.mine().i32('seqNum', 0, 0)).to.equal(1); // m = -1 at sender 2: seqs 0, 1 held
    h.remoteSmc(3, 0, 0, 0, bytes(3));
    h.core.onRowsChanged();
    expect(h.mine().i32('seqNum', 0, 0)).to.equal(3); // m = 0 at sender 1 (first argmin): seqs 0..3
    expect(h.core.receivedThrough(0, 0)).to.equal(1);
  });

  it('delivers a stable prefix across several senders in one batch, in ascending seq', () => {
    const h = new Harness(oneShardView({ members: [1, 2, 3], senders: [false, true, true], myRank: 0 }));
    for (let i = 0; i < 3; i++) {
      h.remoteSmc(1, 0, i, i, bytes(10 + i), 100 + i);
      h.remoteSmc(2, 0, i, i, bytes(20 + i), 50 + i);
    }
    h.core.onRowsChanged();
    expect(h.mine().i32('seqNum', 0, 0)).to.equal(5);
    h.rows[1].setI32('seqNum', 0, 4);
    h.rows[2].setI32('seqNum', 0, 9);
    const d = deliveries(h.core.onRowsChanged());
    expect(d.map((x) => x.payload[0])).to.deep.equal([10, 20, 11, 21, 12]);
    expect(d.map((x) => x.version)).to.deep.equal([0, 1, 2, 3, 4].map((s) => makeVersion(3, s)));
    // HLCs follow send times but never go back: 100, then 50 -> bumped, ...
    expect(d.map((x) => `${x.hlc.wallUs}+${x.hlc.logical}`)).to.deep.equal(['100+0', '100+1', '101+0', '101+1', '102+0']);
  });

  it('never delivers beyond the slowest member even when it holds more itself', () => {
    const h = new Harness(oneShardView({ members: [1, 2], senders: [false, true], myRank: 0 }));
    for (let i = 0; i < 4; i++) h.remoteSmc(1, 0, i, i, bytes(i));
    h.core.onRowsChanged();
    expect(h.mine().i32('seqNum', 0, 0)).to.equal(3);
    expect(deliveries(h.core.onRowsChanged())).to.have.length(0);
    h.rows[1].setI32('seqNum', 0, 1);
    expect(deliveries(h.core.onRowsChanged()).map((d) => d.index)).to.deep.equal([0, 1]);
    expect(h.mine().i32('deliveredNum', 0, 0)).to.equal(1);
  });

  it('delivers an empty payload as a real message (nulls are marked by num_nulls, not size)', () => {
    const h = new Harness(oneShardView({ members: [1, 2], senders: [false, true], myRank: 0 }));
    h.remoteSmc(1, 0, 0, 0, new Uint8Array(0));
    h.core.onRowsChanged();
    h.rows[1].setI32('seqNum', 0, 0);
    const d = deliveries(h.core.onRowsChanged());
    expect(d).to.have.length(1);
    expect(d[0].payload.length).to.equal(0);
  });

  it('unordered mode delivers on receipt, FIFO per sender, without versions', () => {
    const h = new Harness(oneShardView({ members: [1, 2, 3], senders: [false, true, true], myRank: 0, mode: 'unordered' }));
    h.remoteSmc(2, 0, 0, 0, bytes(20));
    h.remoteSmc(2, 0, 1, 1, bytes(21));
    let d = deliveries(h.core.onRowsChanged());
    expect(d.map((x) => [x.senderNode, x.index, x.version])).to.deep.equal([
      [3, 0, -1n],
      [3, 1, -1n],
    ]);
    h.remoteSmc(1, 0, 0, 0, bytes(10));
    d = deliveries(h.core.onRowsChanged());
    expect(d.map((x) => x.payload[0])).to.deep.equal([10]);
    expect(h.mine().i32('deliveredNum', 0, 0)).to.equal(-1); // not maintained in raw mode
  });
});

describe('core/multicast: ragged trim after the wedge', () => {
  it('delivers exactly indices 0..trim[k] of each sender in seq order, skipping what lies beyond a trim', () => {
    const h = new Harness(oneShardView({ members: [1, 2, 3], senders: [false, true, true], myRank: 0 }));
    for (let i = 0; i < 3; i++) h.remoteSmc(1, 0, i, i, bytes(10 + i));
    h.remoteSmc(2, 0, 0, 0, bytes(20));
    h.core.onRowsChanged();
    expect(() => h.core.deliverTrim(0, [2, 0])).to.throw(/must be wedged first/);
    h.core.step({ kind: 'wedge' });
    expect(() => h.core.deliverTrim(0, [3, 0])).to.throw(/beyond what I received \(2\)/);
    expect(() => h.core.deliverTrim(0, [2])).to.throw(/has 2 senders, got 1/);
    const d = deliveries(h.core.deliverTrim(0, [2, 0]));
    expect(d.map((x) => x.payload[0])).to.deep.equal([10, 20, 11, 12]);
    expect(d.map((x) => x.version)).to.deep.equal([0, 1, 2, 4].map((s) => makeVersion(3, s)));
    expect(h.mine().i32('deliveredNum', 0, 0)).to.equal(4);
    expect(deliveries(h.core.deliverTrim(0, [2, 0]))).to.have.length(0); // idempotent
  });
});
