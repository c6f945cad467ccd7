import { expect } from 'chai';
import { readHeader } from '../../src/core/message-header.js';
import { Harness, bytes, deliveries, oneShardView } from './harness.js';

describe('core/multicast: null messages', () => {
  it('a lower-ranked sender sends nulls up to and including the index it received', () => {
    const h = new Harness(oneShardView({ members: [1, 2, 3], myRank: 0, params: { windowSize: 8 } }));
    h.remoteSmc(1, 0, 0, 0, bytes(1));
    h.remoteSmc(1, 0, 1, 1, bytes(2));
    h.remoteSmc(1, 0, 2, 2, bytes(3));
    h.core.onRowsChanged();
    const t = h.mine();
    // indices 0, 1, 2 as ONE slot standing for three nulls; the index column covers all three positions.
    expect(t.i32('index', 0, 0)).to.equal(2);
    expect(readHeader(t.data, t.abs(0, h.layout.slotOffset(0, 0)))).to.include({ index: 0, numNulls: 3 });
    expect(h.core.nextMessageIndex(0)).to.equal(3);
    expect(h.core.receivedThrough(0, 0)).to.equal(2); // I received my own nulls
  });

  it('a higher-ranked sender sends nulls up to the index before the one it received', () => {
    const h = new Harness(oneShardView({ members: [1, 2, 3], myRank: 2, params: { windowSize: 8 } }));
    h.remoteSmc(0, 0, 0, 0, bytes(1));
    h.remoteSmc(0, 0, 1, 1, bytes(2));
    h.remoteSmc(0, 0, 2, 2, bytes(3));
    h.core.onRowsChanged();
    expect(h.core.nextMessageIndex(0)).to.equal(2); // nulls 0 and 1: seq of (0, 2) = 6 needs (2, 1) = 5
    const t = h.mine();
    expect(readHeader(t.data, t.abs(2, h.layout.slotOffset(0, 0)))).to.include({ index: 0, numNulls: 2 });
  });

  it('queued real sends count: no null is sent for an index a real message already holds', () => {
    const h = new Harness(oneShardView({ members: [1, 2], myRank: 0, params: { windowSize: 8 } }));
    h.core.send(0, bytes(7), 10);
    h.remoteSmc(1, 0, 0, 0, bytes(1));
    h.core.onRowsChanged();
    expect(h.core.nextMessageIndex(0)).to.equal(1);
    const t = h.mine();
    expect(readHeader(t.data, t.abs(0, h.layout.slotOffset(0, 0)))).to.include({ index: 0, numNulls: 0 });
  });

  it('a receiver expands a batched null slot into consecutive indices and delivers nothing for them', () => {
    const h = new Harness(oneShardView({ members: [1, 2, 3], senders: [false, true, true], myRank: 0, params: { windowSize: 8 } }));
    h.remoteNulls(1, 0, 0, 0, 3); // sender rank 0: nulls 0..2
    h.remoteSmc(1, 0, 3, 3, bytes(9)); // then a real message, index 3, ring position 3
    for (let i = 0; i < 4; i++) h.remoteSmc(2, 0, i, i, bytes(20 + i));
    h.core.onRowsChanged();
    expect(h.mine().i32('numReceivedSst', 0, 0)).to.equal(3);
    expect(h.core.receivedThrough(0, 0)).to.equal(3);
    h.rows[1].setI32('seqNum', 0, 100);
    h.rows[2].setI32('seqNum', 0, 100);
    const d = deliveries(h.core.onRowsChanged());
    expect(d.map((x) => `${x.senderNode}#${x.index}`)).to.deep.equal(['3#0', '3#1', '3#2', '2#3', '3#3']);
  });

  it('keeps an idle sender from stalling the order: one active sender, nulls from the other, all delivered', () => {
    // Two cores wired by hand: rank 0 sends, rank 1 never does.
    const a = new Harness(oneShardView({ members: [1, 2], myRank: 0, params: { windowSize: 3 } }));
    const b = new Harness(oneShardView({ members: [1, 2], myRank: 1, params: { windowSize: 3 } }));
    const copyRow = (from: Harness, to: Harness, row: number): void => {
      const n = from.layout.rowBytes;
      new Uint8Array(to.buffer, row * n, n).set(new Uint8Array(from.buffer, row * n, n));
    };
    const delivered: string[][] = [[], []];
    const pending: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) pending.push(bytes(i));
    for (let round = 0; round < 50; round++) {
      const next = pending.shift();
      const outsA = next ? a.core.send(0, next, 100 + round) : a.core.onRowsChanged();
      delivered[0].push(...deliveries(outsA).map((d) => `${d.senderNode}#${d.index}`));
      copyRow(a, b, 0);
      delivered[1].push(...deliveries(b.core.onRowsChanged()).map((d) => `${d.senderNode}#${d.index}`));
      copyRow(b, a, 1);
      delivered[0].push(...deliveries(a.core.onRowsChanged()).map((d) => `${d.senderNode}#${d.index}`));
    }
    const expected = Array.from({ length: 10 }, (_, i) => `1#${i}`);
    expect(delivered[0]).to.deep.equal(expected);
    expect(delivered[1]).to.deep.equal(expected);
    expect(b.core.nextMessageIndex(0)).to.be.within(9, 10); // rank 1 filled the order with nulls
  });
});
