import { expect } from 'chai';
import { WorkerPool } from './helpers/workers.js';

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
    const done = reader.request('fenceRead', { regionId: 20, members: [11, 12], writer: 11, count }, 120_000);
    await reader.waitEvent((e) => e.event === 'ready', 10_000, 'reader ready');
    await writer.request('fenceWrite', { regionId: 20, members: [11, 12], count }, 120_000);
    const r = await done;
    console.log(`      reader: ${r.checks} batches checked, ${r.writes} writes applied`);
    expect(r.violations).to.equal(0);
    expect(r.regressions).to.equal(0);
    expect(r.finalData).to.equal(count);
    expect(r.writes as number).to.equal(2 * count);
    expect(r.checks as number).to.be.greaterThan(1);
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
