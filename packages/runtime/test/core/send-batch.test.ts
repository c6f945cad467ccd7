import { expect } from 'chai';
import { InvariantViolation } from '../../src/core/invariant.js';
import { decodeMessage, readHeader } from '../../src/core/message-header.js';
import { HEADER_BYTES } from '../../src/core/sst-layout.js';
import { Harness, bytes, oneShardView, pushes, rdmcSends } from './harness.js';

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

  it('writes the RDMC header into the room the driver left before an owned payload (no message copy)', () => {
    const h = new Harness(oneShardView({ members: [1, 2], myRank: 0 }));
    const whole = new Uint8Array(HEADER_BYTES + 100);
    const withRoom = whole.subarray(HEADER_BYTES);
    withRoom.fill(7);
    const plain = new Uint8Array(100).fill(8);
    const [first] = rdmcSends(h.core.step({ kind: 'sendBatch', subgroup: 0, payloads: [withRoom], sendWallUs: 10, owned: true, rdmcHeaderRoom: true }));
    expect(first.message.buffer).to.equal(whole.buffer);
    expect(first.message.byteOffset).to.equal(0);
    const decoded = decodeMessage(first.message);
    expect(decoded.header).to.deep.equal({ index: 0, sendWallUs: 10, numNulls: 0, cooked: false });
    expect([...decoded.payload]).to.deep.equal(new Array(100).fill(7));
    // Without the flag the message is a new buffer, as before.
    const h2 = new Harness(oneShardView({ members: [1, 2], myRank: 0 }));
    const [second] = rdmcSends(h2.core.step({ kind: 'sendBatch', subgroup: 0, payloads: [plain], sendWallUs: 10, owned: true }));
    expect(second.message.buffer).to.not.equal(plain.buffer);
    expect([...decodeMessage(second.message).payload]).to.deep.equal(new Array(100).fill(8));
    // A payload claimed to have room that starts its buffer is refused loudly.
    const h3 = new Harness(oneShardView({ members: [1, 2], myRank: 0 }));
    expect(() => h3.core.step({ kind: 'sendBatch', subgroup: 0, payloads: [new Uint8Array(100)], sendWallUs: 10, owned: true, rdmcHeaderRoom: true })).to.throw(InvariantViolation, /header room/);
  });
});
