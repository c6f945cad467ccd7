import { expect } from 'chai';
import type { GlobalPersistedOutput, PersistOutput } from '../../src/core/core-io.js';
import { readHeader } from '../../src/core/message-header.js';
import { MulticastCore } from '../../src/core/multicast-core.js';
import { makeVersion } from '../../src/core/version.js';
import { Harness, bytes, deliveries, oneShardView, pushes } from './harness.js';

const persists = (o: { kind: string }[]): PersistOutput[] => o.filter((x): x is PersistOutput => x.kind === 'persist');
const globals = (o: { kind: string }[]): GlobalPersistedOutput[] => o.filter((x): x is GlobalPersistedOutput => x.kind === 'globalPersisted');

describe('core/multicast: outputs and the driver contract', () => {
  it('pushes slot bytes before the index that publishes them, only to the other shard members', () => {
    const h = new Harness(oneShardView({ members: [1, 2, 3], myRank: 1 }));
    const outs = h.core.send(0, bytes(5, 6, 7), 42);
    const ps = pushes(outs);
    expect(ps.length).to.be.greaterThan(0);
    for (const p of ps) expect(p.targets).to.deep.equal([0, 2]);
    const ranges = ps.flatMap((p) => p.ranges);
    const slots = h.layout.column('slots');
    const index = h.layout.range('index', 0, 1);
    const firstIndex = ranges.findIndex((r) => r.offset === index.offset);
    const lastSlot = ranges.map((r) => r.offset >= slots.offset && r.offset < slots.offset + slots.count).lastIndexOf(true);
    expect(firstIndex).to.be.greaterThan(-1);
    expect(lastSlot).to.be.greaterThan(-1);
    expect(lastSlot).to.be.lessThan(firstIndex);
    const t = h.mine();
    const hdr = readHeader(t.data, t.abs(1, h.layout.slotOffset(0, 0)));
    expect(hdr).to.deep.equal({ index: 0, sendWallUs: 42, numNulls: 0, cooked: false });
  });

  it('persistent mode: one persist request per delivery batch; persisted_num and the global frontier follow', () => {
    const h = new Harness(oneShardView({ members: [1, 2], senders: [false, true], myRank: 0, mode: 'persistent' }));
    h.remoteSmc(1, 0, 0, 0, bytes(1));
    h.remoteSmc(1, 0, 1, 1, bytes(2));
    h.rows[1].setI32('seqNum', 0, 1);
    const outs = h.core.onRowsChanged();
    expect(deliveries(outs)).to.have.length(2);
    expect(persists(outs)).to.deep.equal([{ kind: 'persist', subgroup: 0, version: makeVersion(3, 1) }]);
    expect(h.mine().i64('persistedNum', 0, 0)).to.equal(-1n);
    const after = h.core.persisted(0, makeVersion(3, 1));
    expect(h.mine().i64('persistedNum', 0, 0)).to.equal(makeVersion(3, 1));
    expect(pushes(after).flatMap((p) => p.ranges)).to.deep.include(h.layout.range('persistedNum', 0, 1));
    expect(globals(after)).to.have.length(0); // the peer has not persisted yet
    h.rows[1].setI64('persistedNum', 0, makeVersion(3, 0));
    expect(globals(h.core.onRowsChanged())).to.deep.equal([{ kind: 'globalPersisted', subgroup: 0, version: makeVersion(3, 0) }]);
    h.rows[1].setI64('persistedNum', 0, makeVersion(3, 1));
    expect(globals(h.core.onRowsChanged()).map((g) => g.version)).to.deep.equal([makeVersion(3, 1)]);
    expect(h.core.globalPersistedVersion(0)).to.equal(makeVersion(3, 1));
  });

  it('ordered mode marks delivered versions persisted at once (no persist output)', () => {
    const h = new Harness(oneShardView({ members: [1, 2], senders: [false, true], myRank: 0, mode: 'ordered' }));
    h.remoteSmc(1, 0, 0, 0, bytes(1));
    h.rows[1].setI32('seqNum', 0, 0);
    const outs = h.core.onRowsChanged();
    expect(persists(outs)).to.have.length(0);
    expect(h.mine().i64('persistedNum', 0, 0)).to.equal(makeVersion(3, 0));
    expect(() => h.core.persisted(0, makeVersion(3, 0))).to.throw(/only persistent shards/);
  });

  it('tick publishes the stability frontier with completion to every other member, once per interval', () => {
    const h = new Harness(oneShardView({ members: [1, 2, 3], myRank: 0 }));
    h.core.send(0, bytes(1), 1234);
    const outs = h.core.tick(5000);
    const hb = pushes(outs).filter((p) => p.withCompletion);
    expect(hb).to.have.length(1);
    expect(hb[0].targets).to.deep.equal([1, 2]);
    expect(hb[0].ranges).to.deep.equal([h.layout.range('localStabilityFrontier')]);
    expect(h.mine().u64('localStabilityFrontier', 0, 0)).to.equal(1234); // my oldest pending message
    expect(pushes(h.core.tick(5500))).to.have.length(0);
    h.core.tick(6000);
    expect(h.mine().u64('localStabilityFrontier', 0, 0)).to.equal(1234);
  });

  it('the stability frontier moves past a message once it is globally persisted (versions compared with versions)', () => {
    const h = new Harness(oneShardView({ members: [1, 2], senders: [true, false], myRank: 0, mode: 'persistent' }));
    h.core.send(0, bytes(1), 1234);
    h.core.send(0, bytes(2), 1300);
    h.rows[1].setI32('seqNum', 0, 1);
    expect(deliveries(h.core.onRowsChanged())).to.have.length(2);
    h.core.persisted(0, makeVersion(3, 0));
    h.rows[1].setI64('persistedNum', 0, makeVersion(3, 0));
    h.core.onRowsChanged();
    h.core.tick(9000);
    expect(h.mine().u64('localStabilityFrontier', 0, 0)).to.equal(1300); // message 0 done, message 1 not yet
    h.core.persisted(0, makeVersion(3, 1));
    h.rows[1].setI64('persistedNum', 0, makeVersion(3, 1));
    h.core.onRowsChanged();
    h.core.tick(10000);
    expect(h.mine().u64('localStabilityFrontier', 0, 0)).to.equal(10000);
  });

  it('wedge stops publishing and delivering, publishes wedged to all, and keeps own undelivered sends', () => {
    const h = new Harness(oneShardView({ members: [1, 2], myRank: 0, params: { windowSize: 1 } }));
    h.core.send(0, bytes(1), 1);
    h.core.send(0, bytes(2), 2);
    const outs = h.core.step({ kind: 'wedge' });
    expect(h.core.isWedged).to.equal(true);
    expect(h.mine().bool('wedged', 0)).to.equal(true);
    expect(pushes(outs).flatMap((p) => p.ranges)).to.deep.include(h.layout.range('wedged'));
    h.core.send(0, bytes(3), 3);
    h.rows[1].setI32('seqNum', 0, 50);
    h.rows[1].setI32('deliveredNum', 0, 50);
    h.rows[1].setI32('numReceivedSst', 0, 50);
    expect(deliveries(h.core.onRowsChanged())).to.have.length(0);
    expect(h.mine().i32('index', 0, 0)).to.equal(0);
    // Receipt stops too: num_received is final once wedged is published.
    h.remoteSmc(1, 0, 0, 0, bytes(9));
    h.core.onRowsChanged();
    expect(h.mine().i32('numReceived', 0, 1)).to.equal(-1);
    expect(h.mine().i32('numReceivedSst', 0, 1)).to.equal(-1);
    expect(h.core.undeliveredOwnSends(0).map((s) => [s.index, s.payload[0]])).to.deep.equal([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });

  it('refuses bad input with errors naming the problem, and changes nothing', () => {
    const h = new Harness(oneShardView({ members: [1, 2], senders: [true, false], myRank: 0, params: { maxPayloadBytes: 10, maxSmcPayloadBytes: 4 } }));
    expect(() => h.core.send(0, new Uint8Array(11), 1)).to.throw(/exceeds maxPayloadBytes 10/);
    expect(() => h.core.send(1, bytes(1), 1)).to.throw(/subgroup must be an integer in \[0, 1\)/);
    expect(() => h.core.send(0, bytes(1), -5)).to.throw(/sendWallUs/);
    expect(() => h.core.send(0, bytes(1), 1, true)).to.not.throw();
    expect(h.core.nextMessageIndex(0)).to.equal(1);
    const r = new Harness(oneShardView({ members: [1, 2], senders: [true, false], myRank: 1 }));
    expect(() => r.core.send(0, bytes(1), 1)).to.throw(/not a sender/);
    expect(() => r.core.onRdmcComplete(0, 1, new Uint8Array(40))).to.throw(/row 1 is not a sender/);
    const u = new Harness(oneShardView({ members: [1, 2], mode: 'unordered' }));
    expect(() => u.core.send(0, bytes(1), 1, true)).to.throw(/cooked \(RPC\) messages need an ordered/);
  });

  it('refuses a table the driver did not initialize', () => {
    const h = new Harness(oneShardView());
    expect(() => new MulticastCore({ view: h.view, table: new ArrayBuffer(h.layout.tableBytes) })).to.throw(/initializeSstTable/);
  });

  it('a member of no shard of a subgroup gets a clear error when it sends there', () => {
    const view = { ...oneShardView({ members: [1, 2] }), members: [1, 2, 3], myRank: 2 };
    const h = new Harness(view);
    expect(() => h.core.send(0, bytes(1), 1)).to.throw(/node 3 is not a member of any shard of subgroup 0/);
  });
});
