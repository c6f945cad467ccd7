import { expect } from 'chai';
import { WorkerPool, runFence } from './helpers/workers.js';

describe('SST puts and P2P between processes (tcp provider)', function () {
  this.timeout(120_000);
  const pool = new WorkerPool();
  after(() => pool.killAll());

  it('pushes rows among 3 processes, one connection per pair even when all dial at once', async () => {
    const ws = await pool.cluster([1, 2, 3]);
    const replies = await Promise.all(ws.map((w) => w.request('sstRows', { regionId: 10, members: [1, 2, 3] })));
    for (const [i, r] of replies.entries()) {
      const rows = r.rows as Record<string, number[]>;
      for (const node of [1, 2, 3]) expect(rows[node][0], `node ${i + 1} sees row of ${node}`).to.equal((node * 31) & 255);
    }
    // Exactly one connection per pair survived the simultaneous dials.
    for (const w of ws) {
      const connected = w.events.filter((e) => e.event === 'log' && /connected to node/.test(e.message as string));
      expect(connected.length, `${w.name} connection count`).to.equal(2);
    }
    for (const w of ws) await w.request('close');
  });

  it('keeps one writer\'s puts in order: a reader never sees the counter ahead of the data (100,000 writes)', async () => {
    const [writer, reader] = await pool.cluster([11, 12]);
    const count = 100_000;
    const r = await runFence(writer, reader, { writer: 11, reader: 12, regionId: 20 }, count);
    console.log(`      reader: ${r.checks} batches checked, ${r.writes} writes applied`);
    expect(r.violations).to.equal(0);
    expect(r.regressions).to.equal(0);
    expect(r.finalData).to.equal(count);
    expect(r.writes).to.equal(2 * count);
    expect(r.checks).to.be.greaterThan(1);
    // JS is woken per batch, not per write: far fewer wake-ups (each one poll) than writes.
    expect(r.checks * 2).to.be.lessThan(r.writes);
  });

  it('keeps the order when a busy-polling reader receives inline while the I/O thread also reads (100,000 writes)', async () => {
    const [writer, reader] = await pool.cluster([13, 14]);
    const count = 100_000;
    const r = await runFence(writer, reader, { writer: 13, reader: 14, regionId: 21 }, count, 'fenceReadInline');
    const stats = r.stats!;
    console.log(`      reader: ${r.checks} inline polls, ${r.writes} writes applied (${stats.putsReceivedInline} read inline, ${stats.putsReceivedByIoThread} by the I/O thread)`);
    expect(stats.putsReceivedInline).to.be.greaterThan(0);
    expect(stats.putsReceivedInline + stats.putsReceivedByIoThread).to.equal(2 * count);
    expect(r.violations).to.equal(0);
    expect(r.regressions).to.equal(0);
    expect(r.finalData).to.equal(count);
    expect(r.writes).to.equal(2 * count);
  });

  it('delivers P2P and RDMC traffic to a reader that busy-polls without ever yielding', async () => {
    // A window longer than the test: only the reader's call-backs can make the I/O thread listen.
    const [writer, reader] = await pool.cluster([17, 18], { busyPollWindowMs: 600_000 });
    await Promise.all([writer, reader].map((w) => w.request('createRdmc', { groupId: 5, members: [17, 18], blockBytes: 256 * 1024 })));
    const done = reader.request('busyMixedRead', { regionId: 24, members: [17, 18], writer: 17 }, 60_000);
    await reader.waitEvent((e) => e.event === 'ready', 10_000, 'reader ready');
    await writer.request('mixedWrite', { regionId: 24, members: [17, 18], to: 18, groupId: 5 }, 60_000);
    const r = await done;
    expect(r.counter).to.equal(20_000);
    expect(r.p2p).to.equal(200);
    expect(r.rdmcBytes).to.equal(5 << 20);
  });

  it('fails a writer whose held writes (for a region not created here) exceed the bound, with a log line', async () => {
    const [a, b] = await pool.cluster([41, 42], { maxHeldBytes: 4096 });
    await b.request('putMany', { regionId: 50, members: [41, 42], to: 41, count: 500 });
    await a.waitEvent((e) => e.event === 'log' && /wait for regions not created here; failing the connection/.test(String(e.message)), 5_000, 'held overflow log');
    await a.waitEvent((e) => e.event === 'failure' && e.nodeId === 42, 5_000, 'failure of the writer');
  });

  it('drops writes addressed to a region that was closed here', async () => {
    const [a, b] = await pool.cluster([43, 44]);
    await a.request('createRegion', { regionId: 60, members: [43, 44], peek: 44 });
    await a.request('closeRegion', { regionId: 60 });
    await b.request('putMany', { regionId: 60, members: [43, 44], to: 43, count: 10 });
    await a.request('settleAndPeek', { regionId: 60, peek: 44, ms: 300 });
    // Re-created after the writes arrived: they were dropped, not held for it.
    const r = await a.request('createRegion', { regionId: 60, members: [43, 44], peek: 44 });
    expect(r.row).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0]);
    // A control: writes to a region never created here are held and show up on creation.
    await b.request('putMany', { regionId: 61, members: [43, 44], to: 43, count: 10 });
    await a.request('settleAndPeek', { regionId: 61, peek: 44, ms: 300 });
    const held = await a.request('createRegion', { regionId: 61, members: [43, 44], peek: 44 });
    expect(held.row).to.deep.equal([10, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('keeps the order with batched puts (batchPuts), P2P sent after puts arriving after them', async () => {
    const [writer, reader] = await pool.cluster([15, 16], { batchPuts: true });
    const count = 100_000;
    const r = await runFence(writer, reader, { writer: 15, reader: 16, regionId: 22 }, count);
    console.log(`      reader: ${r.checks} batches checked, ${r.writes} writes applied`);
    expect(r.violations).to.equal(0);
    expect(r.regressions).to.equal(0);
    expect(r.finalData).to.equal(count);
    expect(r.writes).to.equal(2 * count);
    const order = reader.request('putP2PRead', { regionId: 23, members: [15, 16], writer: 15, count: 50_000 }, 120_000);
    await reader.waitEvent((e) => e.event === 'ready' && reader.events.filter((x) => x.event === 'ready').length === 2, 10_000, 'reader ready');
    await writer.request('putP2PWrite', { regionId: 23, members: [15, 16], to: 16, count: 50_000 }, 120_000);
    const o = await order;
    expect(o.messages).to.equal(500);
    expect(o.violations).to.equal(0);
  });

  it('keeps the order with batched puts when large puts skip the cork and small ones take it (20,000 writes)', async () => {
    const [writer, reader] = await pool.cluster([19, 20], { batchPuts: true });
    const count = 20_000;
    const r = await runFence(writer, reader, { writer: 19, reader: 20, regionId: 25 }, count, 'fenceRead', 16 * 1024);
    expect(r.violations).to.equal(0);
    expect(r.regressions).to.equal(0);
    expect(r.finalData).to.equal(count);
    expect(r.writes).to.equal(2 * count);
  });

  it('holds writes for a region created late, then applies them', async () => {
    const [a, b] = await pool.cluster([21, 22]);
    // b pushes its row before a has created the region; a creates it afterwards.
    const bRows = b.request('sstRows', { regionId: 30, members: [21, 22] });
    await new Promise((r) => setTimeout(r, 300));
    const aRows = await a.request('sstRows', { regionId: 30, members: [21, 22] });
    await bRows;
    expect((aRows.rows as Record<string, number[]>)[22][0]).to.equal((22 * 31) & 255);
  });

  it('keeps a P2P message of thousands of chunks whole while RDMC blocks share the connection', async () => {
    const [a, b] = await pool.cluster([33, 34]);
    await Promise.all([a, b].map((w) => w.request('createRdmc', { groupId: 6, members: [33, 34], blockBytes: 64 * 1024 })));
    await a.request('p2pManyChunks', { to: 34, groupId: 6 });
    const r = await b.request('p2pManyChunksCheck');
    expect(r.count).to.equal(20);
    expect(r.intact).to.equal(true);
  });

  it('delivers P2P messages reliably and in FIFO order, chunk arrays gathered as one message', async () => {
    const [a, b] = await pool.cluster([31, 32]);
    await a.request('p2pSend', { to: 32, count: 5000 });
    const r = await b.request('p2pWait', { count: 5000 });
    expect(r.received).to.equal(5000);
    expect(r.inOrder).to.equal(true);
    expect(r.intact).to.equal(true);
    expect(r.from).to.deep.equal([31]);
  });
});
