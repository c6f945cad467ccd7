import { expect } from 'chai';
import { WorkerPool } from './helpers/workers.js';

const isFailure = (e: { event: string }) => e.event === 'failure';
const isFailureOf = (node: number) => (e: { event: string; nodeId?: unknown }) => e.event === 'failure' && e.nodeId === node;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The failure detector against load: a node whose JS event loop is blocked (a slow synchronous
 * handler) is neither suspected by its peers nor suspects them, because its I/O thread reads and
 * acknowledges for it; a paused process does not count the pause against its peers' deadlines;
 * a process that is really stopped or stuck past the limit is still detected. Both ends receive on
 * the JS thread, as group members do.
 */
describe('failure detection with a blocked event loop (tcp provider)', function () {
  this.timeout(120_000);
  const pool = new WorkerPool();
  afterEach(() => pool.killAll());
  const timeoutMs = 500;
  const open = { receiveOnJsThread: true, batchPuts: true, heartbeatTimeoutMs: timeoutMs };

  async function heartbeating(ids: number[], extra: Record<string, unknown> = {}) {
    const ws = await pool.cluster(ids, { ...open, ...extra });
    await Promise.all(ws.map((w, i) => w.request('heartbeat', { regionId: 5, members: ids, targets: ids.filter((_, j) => j !== i), intervalMs: 50 })));
    await sleep(300);
    return ws;
  }

  it('a node whose event loop is blocked for 3x the failure timeout is not suspected and suspects no one', async () => {
    const [a, b, c] = await heartbeating([41, 42, 43]);
    await b.request('block', { ms: 3 * timeoutMs });
    await sleep(2 * timeoutMs);
    expect(a.events.filter(isFailure), 'failures seen by a').to.deep.equal([]);
    expect(b.events.filter(isFailure), 'failures seen by the blocked node').to.deep.equal([]);
    expect(c.events.filter(isFailure), 'failures seen by c').to.deep.equal([]);
    // The connections still carry writes both ways afterwards.
    const rows = await Promise.all([a, b, c].map((w) => w.request('sstRows', { regionId: 6, members: [41, 42, 43] }, 20_000)));
    for (const r of rows) expect(Object.keys(r.rows as object)).to.have.length(3);
  });

  it('a node paused with SIGSTOP (while its peer answers) does not fail that peer once it runs again', async () => {
    // Only a heartbeats: b answers, but does not time a's answers, so b keeps a while it is stopped.
    const [a, b] = await pool.cluster([44, 45], open);
    await a.request('heartbeat', { regionId: 7, members: [44, 45], targets: [45], intervalMs: 50 });
    await sleep(300);
    a.kill('SIGSTOP');
    await sleep(4 * timeoutMs);
    a.kill('SIGCONT');
    await sleep(3 * timeoutMs);
    expect(a.events.filter(isFailure), 'failures seen by the paused node').to.deep.equal([]);
    expect(b.events.filter(isFailure)).to.deep.equal([]);
  });

  it('a SIGSTOPped node is still removed within the failure timeout, and a killed one at once', async () => {
    const [a, b, c] = await heartbeating([46, 47, 48]);
    let t0 = Date.now();
    b.kill('SIGSTOP');
    const stopped = await a.waitEvent(isFailureOf(47), 10 * timeoutMs, 'failure of the stopped node');
    const stopDetectMs = Date.now() - t0;
    console.log(`      SIGSTOP detected after ${stopDetectMs} ms: ${String(stopped.reason)}`);
    expect(String(stopped.reason)).to.match(/not acknowledged within 500 ms/);
    // The bound: the failure timeout, plus one heartbeat interval and one I/O-thread wake-up.
    expect(stopDetectMs).to.be.lessThan(timeoutMs + 50 + 125 + 500);
    t0 = Date.now();
    c.kill('SIGKILL');
    await a.waitEvent(isFailureOf(48), 10 * timeoutMs, 'failure of the killed node');
    expect(Date.now() - t0).to.be.lessThan(timeoutMs);
  });

  it('a node blocked past blockedLoopLimitMs stops answering and is suspected; one blocked less is not', async () => {
    const [a, b] = await heartbeating([49, 50], { blockedLoopLimitMs: 4 * timeoutMs });
    await b.request('block', { ms: 2 * timeoutMs });
    await sleep(timeoutMs);
    expect(a.events.filter(isFailure), 'a short block').to.deep.equal([]);
    const t0 = Date.now();
    const blocked = b.request('block', { ms: 12 * timeoutMs });
    const f = await a.waitEvent(isFailureOf(50), 20 * timeoutMs, 'failure of the stuck node');
    const detectMs = Date.now() - t0;
    console.log(`      stuck node detected after ${detectMs} ms: ${String(f.reason)}`);
    // Suspected after the limit plus the failure timeout, not after the failure timeout alone.
    expect(detectMs).to.be.greaterThan(4 * timeoutMs);
    await blocked;
    await b.waitEvent((e) => e.event === 'log' && /heartbeats are no longer acknowledged/.test(String(e.message)), 5_000, 'the stuck node says why');
  });
});
