import { expect } from 'chai';
import { connect as netConnect, type Socket } from 'node:net';
import { WorkerPool, type Worker } from './helpers/workers.js';

const isFailureOf = (node: number) => (e: { event: string; nodeId?: unknown }) => e.event === 'failure' && e.nodeId === node;
const logMatching = (re: RegExp) => (e: { event: string; message?: unknown }) => e.event === 'log' && re.test(String(e.message));

describe('failure signals and refusals (tcp provider)', function () {
  this.timeout(60_000);
  const pool = new WorkerPool();
  afterEach(() => pool.killAll());

  it('reports a peer killed with SIGKILL as failed (broken connection)', async () => {
    const [a, b] = await pool.cluster([1, 2], { heartbeatTimeoutMs: 500 });
    const t0 = Date.now();
    b.kill('SIGKILL');
    const f = await a.waitEvent(isFailureOf(2), 5_000, 'failure of node 2');
    console.log(`      detected after ${Date.now() - t0} ms: ${String(f.reason)}`);
    expect(String(f.reason)).to.match(/closed|reset|error/);
    // A crash is not a refusal: dialing again later may succeed.
    expect(f.refused).to.equal(false);
  });

  it('accepts a restarted peer with the same node id after its old connection failed', async () => {
    const [a, b] = await pool.cluster([11, 12]);
    await a.request('waitConnected', { nodeIds: [12] });
    b.kill('SIGKILL');
    await a.waitEvent(isFailureOf(12), 5_000, 'failure of node 12');
    const b2 = await pool.spawn('node12-again');
    await b2.request('open', { nodeId: 12 });
    const aPort = await a.request('port');
    await b2.request('connect', { peers: [{ nodeId: 11, port: aPort.port }] });
    const rows = await Promise.all([a.request('sstRows', { regionId: 4, members: [11, 12] }), b2.request('sstRows', { regionId: 4, members: [11, 12] })]);
    expect((rows[0].rows as Record<string, number[]>)[12][0]).to.equal((12 * 31) & 255);
  });

  it('reports a SIGSTOPped peer as failed once a put-with-completion misses its deadline', async () => {
    const timeoutMs = 400;
    const [a, b] = await pool.cluster([3, 4], { heartbeatTimeoutMs: timeoutMs });
    await Promise.all([
      a.request('heartbeat', { regionId: 1, members: [3, 4], targets: [4], intervalMs: 50 }),
      b.request('heartbeat', { regionId: 1, members: [3, 4], targets: [3], intervalMs: 50 }),
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(a.events.filter(isFailureOf(4))).to.have.length(0);
    const t0 = Date.now();
    b.kill('SIGSTOP');
    const f = await a.waitEvent(isFailureOf(4), timeoutMs + 2_000, 'failure of node 4');
    const elapsed = Date.now() - t0;
    console.log(`      detected after ${elapsed} ms: ${String(f.reason)}`);
    expect(String(f.reason)).to.match(/not acknowledged within 400 ms/);
    // Heartbeats are 50 ms apart: the deadline of the first unanswered one is hit within timeout + interval + poll slack.
    expect(elapsed).to.be.lessThan(timeoutMs + 600);
  });

  it('fails a peer that stopped reading once 256 MiB of sends queue up for it', async () => {
    const [a, b] = await pool.cluster([9, 10], { heartbeatTimeoutMs: 60_000 });
    b.kill('SIGSTOP');
    await a.request('bigPuts', { regionId: 3, rowBytes: 1 << 20, members: [9, 10], to: 10, count: 320 });
    const f = await a.waitEvent(isFailureOf(10), 10_000, 'failure of node 10');
    expect(String(f.reason)).to.match(/fell more than 256 MiB behind/);
  });

  async function tryPair(aOpen: Record<string, unknown>, bOpen: Record<string, unknown>): Promise<[Worker, Worker]> {
    const [a, b] = await Promise.all([pool.spawn('a'), pool.spawn('b')]);
    const pa = await a.request('open', { nodeId: 5, ...aOpen });
    await b.request('open', { nodeId: 6, ...bOpen });
    await b.request('connect', { peers: [{ nodeId: 5, port: pa.port }], timeoutMs: 3_000 }).then(
      () => expect.fail('the connection should have been refused'),
      (err: Error) => expect(err.message).to.match(/PeerFailedError|FabricTimeoutError/),
    );
    return [a, b];
  }

  it('refuses a peer with the wrong cluster secret, saying why on both sides', async () => {
    const [a, b] = await tryPair({ secret: 'right' }, { secret: 'wrong' });
    await b.waitEvent(logMatching(/failed to prove the cluster secret/), 3_000, 'dialer-side refusal log');
    await a.waitEvent(logMatching(/refused the connection: .*cluster secret/), 3_000, 'acceptor-side refusal log');
    // The dialer is told it was refused, as a code, not only as text: dialing again will not help.
    const f = await b.waitEvent(isFailureOf(5), 3_000, 'the refused dial reported as a failure');
    expect(f.refused).to.equal(true);
  });

  it('refuses a peer with a different build hash, saying why', async () => {
    const [a, b] = await tryPair({ buildHash: 'build-A' }, { buildHash: 'build-B' });
    await a.waitEvent(logMatching(/build hash mismatch \(peer "build-B", ours "build-A"\)/), 3_000, 'acceptor-side refusal log');
    await b.waitEvent(logMatching(/refused our connection: build hash mismatch/), 3_000, 'dialer-side refusal log');
    expect((await b.waitEvent(isFailureOf(5), 3_000, 'the refused dial reported as a failure')).refused).to.equal(true);
  });

  it('drops a connection that sends garbage, logs why, and keeps serving real peers', async () => {
    const [a] = await Promise.all([pool.spawn('a')]);
    const pa = await a.request('open', { nodeId: 7, handshakeTimeoutMs: 300 });
    const port = pa.port as number;
    const sendRaw = (bytes: Buffer): Promise<void> =>
      new Promise((resolve) => {
        const s: Socket = netConnect(port, '127.0.0.1', () => s.end(bytes));
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.resume();
      });
    await sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await a.waitEvent(logMatching(/malformed frame from unauthenticated peer.*bad frame magic/), 3_000, 'garbage log');
    // A valid header with an absurd payload length.
    const absurd = Buffer.alloc(16);
    absurd.writeUInt16LE(0xde7c, 0);
    absurd.writeUInt8(7, 2);
    absurd.writeBigUInt64LE(1n << 50n, 8);
    await sendRaw(absurd);
    await a.waitEvent(logMatching(/payload of 1125899906842624 bytes/), 3_000, 'absurd length log');
    // A truncated hello, then the socket closes.
    const truncated = Buffer.alloc(20);
    truncated.writeUInt16LE(0xde7c, 0);
    truncated.writeUInt8(1, 2);
    truncated.writeUInt32LE(72, 4);
    await sendRaw(truncated);
    await a.waitEvent(logMatching(/closed during the handshake \(in the middle of a frame\)/), 3_000, 'truncated log');
    // A stranger that connects and says nothing.
    const silent = netConnect(port, '127.0.0.1');
    silent.on('error', () => undefined);
    await a.waitEvent(logMatching(/handshake not finished within 300 ms/), 3_000, 'silent stranger log');
    silent.destroy();
    // A well-formed hello from a build speaking another protocol version.
    const hello = Buffer.alloc(16 + 72 + 10);
    hello.writeUInt16LE(0xde7c, 0);
    hello.writeUInt8(1, 2);
    hello.writeUInt32LE(72, 4);
    hello.writeBigUInt64LE(10n, 8);
    hello.writeUInt32LE(99, 16);
    hello.writeUInt32LE(9, 20);
    hello.write('test-build', 88);
    await sendRaw(hello);
    await a.waitEvent(logMatching(/handshake refused: protocol version mismatch \(peer 99, ours 2\)/), 3_000, 'version mismatch log');
    for (let i = 0; i < 20; i++) await sendRaw(Buffer.from(Array.from({ length: 64 + i * 13 }, (_, j) => (j * 7919 + i) & 255)));
    // Still alive and accepting real members.
    const b = await pool.spawn('b');
    await b.request('open', { nodeId: 8 });
    await b.request('connect', { peers: [{ nodeId: 7, port }] });
    const rows = await Promise.all([a.request('sstRows', { regionId: 2, members: [7, 8] }), b.request('sstRows', { regionId: 2, members: [7, 8] })]);
    expect((rows[0].rows as Record<string, number[]>)[8][0]).to.equal((8 * 31) & 255);
    expect(a.exited).to.equal(false);
  });
});
