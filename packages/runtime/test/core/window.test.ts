import { expect } from 'chai';
import { Harness, bytes, deliveries, oneShardView, rdmcSends } from './harness.js';

describe('core/multicast: window flow control', () => {
  it('ordered: publishes index n only once my message n−W is delivered everywhere; the rest waits queued', () => {
    const h = new Harness(oneShardView({ members: [1, 2], senders: [true, false], myRank: 0, params: { windowSize: 2 } }));
    for (let i = 0; i < 5; i++) h.core.send(0, bytes(i), 10 + i);
    const t = h.mine();
    expect(t.i32('index', 0, 0)).to.equal(1); // messages 0 and 1 published
    expect(h.core.queuedSends(0)).to.equal(3);
    // The peer received 0 and 1 but delivered nothing yet: still blocked.
    h.rows[1].setI32('seqNum', 0, 1);
    h.rows[1].setI32('numReceivedSst', 0, 1);
    h.rows[1].setI32('numReceived', 0, 1);
    const d = deliveries(h.core.onRowsChanged());
    expect(d.map((x) => x.index)).to.deep.equal([0, 1]); // I deliver them myself...
    expect(t.i32('index', 0, 0)).to.equal(1); // ...but the peer's delivered_num gates the window
    h.rows[1].setI32('deliveredNum', 0, 0);
    h.core.onRowsChanged();
    expect(t.i32('index', 0, 0)).to.equal(2);
    expect(h.core.queuedSends(0)).to.equal(2);
    h.rows[1].setI32('deliveredNum', 0, 1);
    h.core.onRowsChanged();
    expect(t.i32('index', 0, 0)).to.equal(3);
    expect(h.core.queuedSends(0)).to.equal(1);
  });

  it('ordered with several senders: the gate is seq (n−W)·S + r at every member', () => {
    const h = new Harness(oneShardView({ members: [1, 2, 3], myRank: 1, params: { windowSize: 1 } }));
    h.core.send(0, bytes(1), 1);
    h.core.send(0, bytes(2), 2);
    const t = h.mine();
    const published = (): number => t.i32('index', 1, 0);
    expect(published()).to.equal(0);
    for (const r of [0, 2]) {
      h.rows[r].setI32('deliveredNum', 0, 0); // seq 0 only: my index 0 is seq 1
      h.rows[r].setI32('numReceivedSst', 1, 0);
    }
    h.core.onRowsChanged();
    expect(published()).to.equal(0);
    for (const r of [0, 2]) h.rows[r].setI32('deliveredNum', 0, 1);
    h.core.onRowsChanged();
    // My own delivered_num is still -1 (nothing stable here yet), so the window stays shut.
    expect(published()).to.equal(0);
    expect(h.core.queuedSends(0)).to.equal(1);
    // Once I deliver seqs 0..2 myself, index 1 goes out.
    h.remoteSmc(0, 0, 0, 0, bytes(9));
    h.remoteSmc(2, 0, 0, 0, bytes(9));
    for (const r of [0, 2]) h.rows[r].setI32('seqNum', 0, 2);
    expect(deliveries(h.core.onRowsChanged()).map((d) => d.senderNode)).to.deep.equal([1, 2, 3]);
    expect(published()).to.equal(1);
    expect(h.core.queuedSends(0)).to.equal(0);
  });

  it('unordered: the gate is num_received of my column at every member', () => {
    const h = new Harness(oneShardView({ members: [1, 2], senders: [true, false], myRank: 0, mode: 'unordered', params: { windowSize: 2 } }));
    for (let i = 0; i < 4; i++) h.core.send(0, bytes(i), i);
    const t = h.mine();
    expect(t.i32('index', 0, 0)).to.equal(1);
    h.rows[1].setI32('numReceived', 0, 0);
    h.rows[1].setI32('numReceivedSst', 0, 0);
    h.core.onRowsChanged();
    expect(t.i32('index', 0, 0)).to.equal(2);
    h.rows[1].setI32('numReceived', 0, 1);
    h.rows[1].setI32('numReceivedSst', 0, 1);
    h.core.onRowsChanged();
    expect(t.i32('index', 0, 0)).to.equal(3);
    expect(h.core.queuedSends(0)).to.equal(0);
  });

  it('never rewrites an SMC slot a member has not consumed, even when the window rule would allow it', () => {
    // Window rule satisfied by a (forged) delivered_num, but the peer's num_received_sst lags.
    const h = new Harness(oneShardView({ members: [1, 2], senders: [true, false], myRank: 0, params: { windowSize: 1 } }));
    h.core.send(0, bytes(1), 1);
    h.core.send(0, bytes(2), 2);
    h.rows[1].setI32('deliveredNum', 0, 5);
    h.rows[1].setI32('seqNum', 0, 0);
    h.core.onRowsChanged();
    expect(h.mine().i32('deliveredNum', 0, 0)).to.equal(0);
    expect(h.mine().i32('index', 0, 0)).to.equal(0);
    h.rows[1].setI32('numReceivedSst', 0, 0);
    h.core.onRowsChanged();
    expect(h.mine().i32('index', 0, 0)).to.equal(1);
  });
});

describe('core/multicast: SMC and RDMC from one sender share one sequence space', () => {
  const view = (myRank: number, mode: 'ordered' | 'unordered' = 'ordered') =>
    oneShardView({ members: [1, 2], senders: [true, false], myRank, mode, params: { windowSize: 8, maxSmcPayloadBytes: 4, maxPayloadBytes: 100 } });
  const big = (tag: number): Uint8Array => new Uint8Array(20).fill(tag);

  it('sender: small via slots, large via RDMC, one RDMC in flight, indices in send order', () => {
    const h = new Harness(view(0));
    const outs = [
      ...h.core.send(0, bytes(0), 1), // index 0, SMC
      ...h.core.send(0, big(1), 2), // index 1, RDMC
      ...h.core.send(0, bytes(2), 3), // index 2, SMC
      ...h.core.send(0, big(3), 4), // index 3, RDMC: waits for index 1's completion
      ...h.core.send(0, bytes(4), 5), // index 4, SMC: behind index 3
    ];
    expect(rdmcSends(outs).map((o) => o.index)).to.deep.equal([1]);
    expect(rdmcSends(outs)[0].groupRows).to.deep.equal([0, 1]);
    expect(h.mine().i32('index', 0, 0)).to.equal(1); // ring positions 0 and 1 = indices 0 and 2
    const rdmc1 = rdmcSends(outs)[0].message;
    const more = h.core.onRdmcComplete(0, 0, rdmc1);
    expect(rdmcSends(more).map((o) => o.index)).to.deep.equal([3]);
    expect(h.mine().i32('index', 0, 0)).to.equal(2);
    expect(h.core.receivedThrough(0, 0)).to.equal(2);
  });

  it('receiver: an SMC message that overtakes an RDMC one waits for it (FIFO per sender)', () => {
    for (const mode of ['ordered', 'unordered'] as const) {
      const sender = new Harness(view(0, mode));
      const rdmc = [...sender.core.send(0, bytes(0), 1), ...sender.core.send(0, big(1), 2), ...sender.core.send(0, bytes(2), 3)].filter((o) => o.kind === 'rdmcSend');
      const h = new Harness(view(1, mode));
      h.remoteSmc(0, 0, 0, 0, bytes(0));
      h.remoteSmc(0, 0, 1, 2, bytes(2)); // index 2 arrives by SMC before index 1 by RDMC
      h.rows[0].setI32('seqNum', 0, 10);
      let d = deliveries(h.core.onRowsChanged());
      expect(d.map((x) => x.index), mode).to.deep.equal([0]);
      expect(h.core.receivedThrough(0, 0)).to.equal(0);
      d = deliveries(h.core.onRdmcComplete(0, 0, rdmc[0].kind === 'rdmcSend' ? rdmc[0].message : new Uint8Array()));
      expect(d.map((x) => x.index), mode).to.deep.equal([1, 2]);
      expect(Array.from(d[0].payload), mode).to.deep.equal(Array.from(big(1)));
    }
  });
});

describe('core/multicast: malformed RDMC input is refused, not fatal', () => {
  it('rejects bad sizes, nulls, repeats and out-of-order completions with errors, changing nothing', async () => {
    const { encodeMessage } = await import('../../src/core/message-header.js');
    const h = new Harness(oneShardView({ members: [1, 2], senders: [true, false], myRank: 1, params: { maxSmcPayloadBytes: 4, maxPayloadBytes: 50 } }));
    const msg = (index: number, size: number, numNulls = 0) => encodeMessage({ index, sendWallUs: 1, numNulls, cooked: false }, new Uint8Array(size));
    expect(() => h.core.onRdmcComplete(0, 0, msg(0, 3))).to.throw(/RDMC carries \(4, 50\]/);
    expect(() => h.core.onRdmcComplete(0, 0, msg(0, 51))).to.throw(/RDMC carries/);
    expect(() => h.core.onRdmcComplete(0, 0, msg(0, 10, 2))).to.throw(/never carries nulls/);
    expect(() => h.core.onRdmcComplete(0, 0, new Uint8Array(5))).to.throw(/too short/);
    h.core.onRdmcComplete(0, 0, msg(1, 10));
    expect(() => h.core.onRdmcComplete(0, 0, msg(1, 10))).to.throw(/send order/);
    h.remoteSmc(0, 0, 0, 0, bytes(1));
    h.remoteSmc(0, 0, 1, 2, bytes(1));
    h.core.onRowsChanged();
    expect(() => h.core.onRdmcComplete(0, 0, msg(2, 10))).to.throw(/already received/);
    expect(h.core.receivedThrough(0, 0)).to.equal(2);
    h.core.onRdmcComplete(0, 0, msg(3, 10));
    expect(h.core.receivedThrough(0, 0)).to.equal(3);
  });
});
