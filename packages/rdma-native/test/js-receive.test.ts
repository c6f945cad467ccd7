import { expect } from 'chai';
import { WorkerPool, runFence } from './helpers/workers.js';

const isFailureOf = (node: number) => (e: { event: string; nodeId?: unknown }) => e.event === 'failure' && e.nodeId === node;
const JS = { receiveOnJsThread: true } as const;

/**
 * receiveOnJsThread: the JS thread is woken by the sockets and reads SST writes itself; the I/O
 * thread keeps every other frame, frames cut short, and failure detection. Both sides of each
 * pair run in that mode, as members of a group do.
 */
describe('SST writes received on the JS thread (receiveOnJsThread)', function () {
  this.timeout(120_000);
  const pool = new WorkerPool();
  afterEach(() => pool.killAll());

  for (const batchPuts of [false, true]) {
    it(`keeps one writer's puts in order and loses none, woken per batch (100,000 writes${batchPuts ? ', batched puts' : ''})`, async () => {
      const [writer, reader] = await pool.cluster([21, 22], { ...JS, batchPuts });
      const count = 100_000;
      const r = await runFence(writer, reader, { writer: 21, reader: 22, regionId: 30 }, count);
      const stats = (await reader.request('stats')) as { putsReceivedInline: number; putsReceivedByIoThread: number };
      console.log(`      reader: ${r.checks} wake-ups, ${stats.putsReceivedInline} writes read on the JS thread, ${stats.putsReceivedByIoThread} by the I/O thread`);
      expect(r.violations).to.equal(0);
      expect(r.regressions).to.equal(0);
      expect(r.finalData).to.equal(count);
      expect(r.writes).to.equal(2 * count);
      expect(stats.putsReceivedInline + stats.putsReceivedByIoThread).to.equal(2 * count);
      expect(stats.putsReceivedInline).to.be.greaterThan(count);
      expect(r.checks * 2).to.be.lessThan(r.writes);
    });
  }

  it('a P2P message sent after puts is seen after them', async () => {
    const [writer, reader] = await pool.cluster([23, 24], { ...JS, batchPuts: true });
    const order = reader.request('putP2PRead', { regionId: 31, members: [23, 24], writer: 23, count: 50_000 }, 120_000);
    await reader.waitEvent((e) => e.event === 'ready', 10_000, 'reader ready');
    await writer.request('putP2PWrite', { regionId: 31, members: [23, 24], to: 24, count: 50_000 }, 120_000);
    const o = await order;
    expect(o.messages).to.equal(500);
    expect(o.violations).to.equal(0);
  });

  it('hands P2P messages, a 5 MiB RDMC message and puts interleaved on one connection to the right readers', async () => {
    const [writer, reader] = await pool.cluster([25, 26], JS);
    await Promise.all([writer, reader].map((w) => w.request('createRdmc', { groupId: 6, members: [25, 26], blockBytes: 256 * 1024 })));
    const done = reader.request('mixedRead', { regionId: 32, members: [25, 26], writer: 25 }, 60_000);
    await reader.waitEvent((e) => e.event === 'ready', 10_000, 'reader ready');
    await writer.request('mixedWrite', { regionId: 32, members: [25, 26], to: 26, groupId: 6 }, 60_000);
    const r = await done;
    expect(r.counter).to.equal(20_000);
    expect(r.p2p).to.equal(200);
    expect(r.rdmcBytes).to.equal(5 << 20);
    expect(r.regressions).to.equal(0);
    expect((r.stats as { putsReceivedInline: number }).putsReceivedInline).to.be.greaterThan(0);
  });

  it('still reports a peer killed with SIGKILL, and a SIGSTOPped one at its heartbeat deadline', async () => {
    const [a, b, c] = await pool.cluster([27, 28, 29], { ...JS, heartbeatTimeoutMs: 400 });
    await Promise.all([
      a.request('heartbeat', { regionId: 33, members: [27, 28, 29], targets: [28, 29], intervalMs: 50 }),
      b.request('heartbeat', { regionId: 33, members: [27, 28, 29], targets: [27, 29], intervalMs: 50 }),
      c.request('heartbeat', { regionId: 33, members: [27, 28, 29], targets: [27, 28], intervalMs: 50 }),
    ]);
    b.kill('SIGKILL');
    const killed = await a.waitEvent(isFailureOf(28), 5_000, 'failure of node 28');
    expect(String(killed.reason)).to.match(/closed|reset|error/);
    const t0 = Date.now();
    c.kill('SIGSTOP');
    const stopped = await a.waitEvent(isFailureOf(29), 3_000, 'failure of node 29');
    expect(String(stopped.reason)).to.match(/not acknowledged within 400 ms/);
    expect(Date.now() - t0).to.be.lessThan(1_000);
    c.kill('SIGCONT');
  });
});
