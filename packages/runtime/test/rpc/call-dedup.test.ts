import { expect } from 'chai';
import { DedupTable, type DedupVerdict } from '../../src/rpc/call-dedup.js';
import { decodeCallId, encodeCallId, ORDERED_HEADER_BYTES, ReplyStatus } from '../../src/rpc/rpc-wire.js';

const reply = (n: number) => ({ status: ReplyStatus.Ok, body: Uint8Array.of(n & 0xff) });

function runNew(table: DedupTable, client: string, seq: number, atUs: number, ackedThrough = 0): void {
  const v = table.deliver({ client, seq, ackedThrough }, atUs);
  expect(v.kind, `call ${client}/${seq}`).to.equal('new');
  table.settle((v as Extract<DedupVerdict, { kind: 'new' }>).entry, reply(seq));
}

describe('exactly-once call table (call-dedup)', function () {
  this.timeout(60_000);
  it('a retry gets the recorded reply instead of running again, from any caller', () => {
    const table = new DedupTable();
    runNew(table, 'c1', 1, 1000);
    const retry = table.deliver({ client: 'c1', seq: 1 }, 2000);
    expect(retry).to.deep.equal({ kind: 'duplicate', reply: reply(1) });
    expect(table.deliver({ client: 'c2', seq: 1 }, 2000).kind, 'another client, same seq').to.equal('new');
  });

  it('a retry while the first run is still running waits for its reply', () => {
    const table = new DedupTable();
    const first = table.deliver({ client: 'c', seq: 7 }, 10) as Extract<DedupVerdict, { kind: 'new' }>;
    const retry = table.deliver({ client: 'c', seq: 7 }, 11);
    expect(retry.kind).to.equal('running');
    const got: unknown[] = [];
    (retry as Extract<DedupVerdict, { kind: 'running' }>).wait((r) => got.push(r));
    table.settle(first.entry, reply(7));
    expect(got).to.deep.equal([reply(7)]);
  });

  it("the client's acknowledgement drops its entries, and a retry of an acknowledged call is refused", () => {
    const table = new DedupTable();
    for (let seq = 1; seq <= 10; seq++) runNew(table, 'c', seq, seq);
    expect(table.size).to.equal(10);
    runNew(table, 'c', 11, 11, 8);
    expect(table.size, 'entries 9, 10, 11 remain').to.equal(3);
    const refused = table.deliver({ client: 'c', seq: 5 }, 12);
    expect(refused.kind).to.equal('refused');
    expect((refused as { reason: string }).reason).to.match(/already acknowledged/);
  });

  it('entries and idle clients expire by age (delivery time), oldest first', () => {
    const table = new DedupTable({ maxAgeUs: 1000, maxEntries: 1000, maxClients: 1000 });
    runNew(table, 'old', 1, 0);
    runNew(table, 'young', 1, 900);
    runNew(table, 'young', 2, 1500);
    expect(table.size).to.equal(2);
    expect(table.clientCount, "'old' was idle for longer than the age limit").to.equal(1);
    expect(table.deliver({ client: 'young', seq: 1 }, 1600).kind).to.equal('duplicate');
  });

  it('stays bounded over 100,000 acknowledged calls, and by maxEntries without acknowledgements', () => {
    const acked = new DedupTable();
    let maxSize = 0;
    for (let seq = 1; seq <= 100_000; seq++) {
      // A client with up to 16 calls in flight acknowledges what it holds.
      runNew(acked, 'steady', seq, seq * 10, Math.max(0, seq - 16));
      maxSize = Math.max(maxSize, acked.size);
    }
    expect(maxSize).to.equal(16);

    const capped = new DedupTable({ maxAgeUs: 1e15, maxEntries: 500, maxClients: 50 });
    for (let i = 1; i <= 100_000; i++) runNew(capped, `client-${i % 1000}`, i, i);
    expect(capped.size).to.be.at.most(500);
    expect(capped.clientCount).to.be.at.most(50);
  });

  it('travels to a joiner (serialize/restore) with its replies, acknowledgements, and running calls as lost', () => {
    const table = new DedupTable();
    runNew(table, 'a', 1, 1);
    runNew(table, 'a', 2, 2, 1);
    table.deliver({ client: 'b', seq: 3 }, 3); // still running at the sender
    const joiner = new DedupTable();
    joiner.restore(table.serialize());
    expect(joiner.size).to.equal(2);
    expect(joiner.deliver({ client: 'a', seq: 2 }, 4)).to.deep.equal({ kind: 'duplicate', reply: reply(2) });
    expect(joiner.deliver({ client: 'a', seq: 1 }, 4).kind, 'acknowledged').to.equal('refused');
    expect(joiner.deliver({ client: 'b', seq: 3 }, 4).kind, 'lost').to.equal('refused');
    expect(joiner.deliver({ client: 'b', seq: 4 }, 4).kind).to.equal('new');
  });

  it('the call id wire form round-trips and names what is wrong', () => {
    const id = { client: 'gateway-3/ü', seq: 2 ** 40, ackedThrough: 17 };
    const ext = encodeCallId(id);
    const payload = new Uint8Array(ORDERED_HEADER_BYTES + ext.length + 3);
    payload.set(ext, ORDERED_HEADER_BYTES);
    expect(decodeCallId(payload)).to.deep.equal({ id, argsAt: ORDERED_HEADER_BYTES + ext.length });
    expect(() => encodeCallId({ client: '', seq: 1 })).to.throw(TypeError, /client must be a string of 1 to 64/);
    expect(() => encodeCallId({ client: 'x', seq: 0 })).to.throw(TypeError, /seq must be a positive integer/);
    expect(() => encodeCallId({ client: 'x', seq: 3, ackedThrough: 3 })).to.throw(TypeError, /ackedThrough must be an integer from 0 to seq - 1/);
    expect(() => decodeCallId(payload.subarray(0, ORDERED_HEADER_BYTES + 5))).to.throw(/no well-formed one/);
  });
});
