import { expect } from 'chai';
import { HeldKind, HeldMessages } from '../../src/core/held-messages.js';
import { InvariantViolation } from '../../src/core/invariant.js';
import { PayloadSlab, SLAB_CHUNK_BYTES } from '../../src/core/payload-slab.js';
import { Harness, bytes, deliveries, oneShardView } from './harness.js';

describe('core/multicast: payloads held in slots and copied into shared chunks', () => {
  it('PayloadSlab: copies are equal, disjoint, 8-byte aligned, never rewritten; large ones get their own buffer', () => {
    const slab = new PayloadSlab();
    const copies: { src: Uint8Array; copy: Uint8Array }[] = [];
    for (let i = 0; i < 2000; i++) {
      const src = new Uint8Array(i % 300).map((_, j) => (i * 31 + j) & 0xff);
      const copy = i % 2 === 0 ? slab.copy(src) : slab.copyRange(new Uint8Array([9, ...src, 9]), 1, src.length);
      expect(copy.byteOffset % 8).to.equal(0);
      copies.push({ src, copy });
    }
    for (const { src, copy } of copies) expect(Buffer.from(copy).equals(Buffer.from(src))).to.equal(true);
    // Fewer chunks than copies: small copies share buffers.
    expect(new Set(copies.map((c) => c.copy.buffer)).size).to.be.lessThan(20);
    const big = slab.copy(new Uint8Array(SLAB_CHUNK_BYTES));
    expect(big.buffer.byteLength).to.equal(SLAB_CHUNK_BYTES);
  });

  it('HeldMessages: direct-mapped by key, grows when a key window outgrows it, keeps every field', () => {
    const held = new HeldMessages(16);
    const payload = new Uint8Array([1, 2, 3]);
    for (let key = 0; key < 1000; key += 3) held.put(key, key % 2 ? HeldKind.Slot : HeldKind.Payload, key + 100, key % 50, key * 1000, key % 3 === 0, key % 2 ? undefined : payload);
    expect(held.size).to.equal(334);
    for (let key = 0; key < 1000; key++) {
      const pos = held.find(key);
      if (key % 3) {
        expect(pos).to.equal(-1);
        continue;
      }
      expect(held.kind(pos)).to.equal(key % 2 ? HeldKind.Slot : HeldKind.Payload);
      expect([held.slotAt(pos), held.payloadSize(pos), held.sendWallUs(pos), held.cooked(pos)]).to.deep.equal([key + 100, key % 50, key * 1000, true]);
      expect(held.payload(pos)).to.equal(key % 2 ? undefined : payload);
      held.remove(pos);
    }
    expect(held.size).to.equal(0);
    held.put(5, HeldKind.Null, 0, 0, 0, false, undefined);
    expect(() => held.put(5, HeldKind.Null, 0, 0, 0, false, undefined)).to.throw(InvariantViolation, /held once/);
  });

  it('delivered SMC payloads stay intact after their slots are reused many times (window 1)', () => {
    const h = new Harness(oneShardView({ members: [1, 2], senders: [false, true], myRank: 0, params: { windowSize: 1 } }));
    const kept: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) {
      h.remoteSmc(1, 0, i, i, bytes(i));
      h.rows[1].setI32('seqNum', 0, i);
      h.rows[1].setI32('numReceived', 0, i);
      const d = deliveries(h.core.onRowsChanged());
      expect(d.map((x) => x.index)).to.deep.equal([i]);
      kept.push(d[0].payload);
      h.rows[1].setI32('deliveredNum', 0, i);
    }
    kept.forEach((p, i) => expect([...p]).to.deep.equal([...bytes(i)]));
  });

  it('a slot rewritten before its message was delivered is an invariant violation, not a wrong payload', () => {
    const h = new Harness(oneShardView({ members: [1, 2], senders: [false, true], myRank: 0, params: { windowSize: 1 } }));
    h.remoteSmc(1, 0, 0, 0, bytes(1));
    h.core.onRowsChanged(); // received; not stable (the peer's seq_num is still -1)
    // A faulty sender overwrites the slot with its next message before anyone delivered index 0.
    h.remoteSmc(1, 0, 0, 1, bytes(2));
    h.rows[1].setI32('index', 0, 0);
    h.rows[1].setI32('seqNum', 0, 0);
    expect(() => h.core.onRowsChanged()).to.throw(InvariantViolation, /not rewritten before its message is delivered/);
  });
});
