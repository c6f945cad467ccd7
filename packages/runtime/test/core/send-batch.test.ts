import { expect } from 'chai';
import { readHeader } from '../../src/core/message-header.js';
import { Harness, bytes, oneShardView, pushes } from './harness.js';

describe('core/multicast: sendBatch', () => {
  it('publishes a whole batch with one push per rank instead of one per message', () => {
    const one = new Harness(oneShardView({ members: [1, 2, 3], myRank: 0 }));
    let perMessage = 0;
    for (let i = 0; i < 4; i++) perMessage += pushes(one.core.send(0, bytes(i), 10)).length;
    const batched = new Harness(oneShardView({ members: [1, 2, 3], myRank: 0 }));
    const outs = batched.core.sendBatch(0, [bytes(0), bytes(1), bytes(2), bytes(3)], 10);
    expect(pushes(outs).length).to.be.lessThan(perMessage);
    // Same slots, same headers as four single sends.
    for (let i = 0; i < 4; i++) {
      const t = batched.mine();
      expect(readHeader(t.data, t.abs(0, batched.layout.slotOffset(0, i)))).to.deep.equal({ index: i, sendWallUs: 10, numNulls: 0, cooked: false });
    }
    expect(batched.core.nextMessageIndex(0)).to.equal(4);
  });

  it('refuses the whole batch when one payload is bad, queueing nothing', () => {
    const h = new Harness(oneShardView({ members: [1, 2], myRank: 0 }));
    const tooBig = new Uint8Array(1 << 20);
    expect(() => h.core.sendBatch(0, [bytes(1), tooBig], 10)).to.throw(/exceeds maxPayloadBytes/);
    expect(h.core.nextMessageIndex(0)).to.equal(0);
    expect(h.core.queuedSends(0)).to.equal(0);
    expect(() => h.core.checkSend(0, tooBig, 10)).to.throw(/exceeds maxPayloadBytes/);
    expect(() => h.core.checkSend(0, bytes(1), 10)).to.not.throw();
  });
});
