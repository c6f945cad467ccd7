/**
 * The findings of issue 13 (a member probed by an attacker or a clumsy operator), each replayed
 * over real loopback sockets against a member in a child process: a crash shows as the child's exit.
 */
import { expect } from 'chai';
import { connect as netConnect, type Socket } from 'node:net';
import { FrameType, RawPeer, frame, helloSub, putFrame, rdmcBlockSub } from './helpers/raw-peer.js';
import { WorkerPool, type Worker } from './helpers/workers.js';

const logMatching = (re: RegExp) => (e: { event: string; message?: unknown }) => e.event === 'log' && re.test(String(e.message));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1 << 20;

async function rssOf(w: Worker): Promise<number> {
  return (await w.request('rss')).rss as number;
}

describe('security: hostile and broken peers (issue 13)', function () {
  this.timeout(120_000);
  const pool = new WorkerPool();
  const raws: RawPeer[] = [];
  afterEach(() => {
    for (const r of raws.splice(0)) r.destroy();
    pool.killAll();
  });

  async function member(nodeId: number, open: Record<string, unknown> = {}): Promise<{ w: Worker; port: number }> {
    const w = await pool.spawn(`node${nodeId}`);
    const r = await w.request('open', { nodeId, ...open });
    return { w, port: r.port as number };
  }
  async function raw(port: number, localAddress?: string): Promise<RawPeer> {
    const p = await RawPeer.open(port, localAddress);
    raws.push(p);
    return p;
  }
  /** A real member still gets in (and the process is still alive). */
  async function stillServes(a: Worker, aId: number, port: number, bId: number): Promise<void> {
    const { w: b } = await member(bId);
    await b.request('connect', { peers: [{ nodeId: aId, port }] });
    const rows = await Promise.all([a.request('sstRows', { regionId: 50, members: [aId, bId] }), b.request('sstRows', { regionId: 50, members: [aId, bId] })]);
    expect((rows[0].rows as Record<string, number[]>)[bId][0]).to.equal((bId * 31) & 255);
    expect(a.exited).to.equal(false);
  }

  const crashBlock = frame(
    FrameType.RdmcBlock,
    rdmcBlockSub({ groupId: 777, blockNo: 0, msgIndex: 0n, totalBytes: 1n << 32n, blockBytes: 1 }),
    Buffer.from([1]),
  );

  it('refuses an RdmcBlock of 2^32 one-byte blocks for an unknown group from an id in no group (no crash)', async () => {
    const { w: a, port } = await member(1);
    const p = await raw(port);
    await p.authenticate(9);
    await a.waitEvent(logMatching(/connected to node 9/), 10_000, 'node 9 connected');
    await p.write(crashBlock);
    await p.waitClosed(10_000);
    await sleep(300);
    expect(a.exited, 'the member crashed').to.equal(false);
    await a.waitEvent(logMatching(/node 9.*(rdmc|block)/i), 10_000, 'a log line naming node 9 and the block');
    await stillServes(a, 1, port, 2);
  });

  it('refuses the same block from a member of a real group, and a block of a group it is not in', async () => {
    const { w: a, port } = await member(1);
    await a.request('createRdmc', { groupId: 5, members: [1, 2], blockBytes: 4096 });
    const p = await raw(port);
    await p.authenticate(2);
    await a.waitEvent(logMatching(/connected to node 2/), 10_000, 'node 2 connected');
    await p.write(frame(FrameType.RdmcBlock, rdmcBlockSub({ groupId: 5, blockNo: 0, msgIndex: 0n, totalBytes: 1n << 32n, blockBytes: 1 }), Buffer.from([1])));
    await p.waitClosed(10_000);
    await a.waitEvent(logMatching(/node 2.*(rdmc|block)/i), 10_000, 'a log line naming node 2');
    // A block of group 6 ([1, 3]) from node 4, which is not in it.
    await a.request('createRdmc', { groupId: 6, members: [3, 1], blockBytes: 16 });
    const q = await raw(port);
    await q.authenticate(4);
    await q.write(frame(FrameType.RdmcBlock, rdmcBlockSub({ groupId: 6, blockNo: 0, msgIndex: 0n, totalBytes: 16n, blockBytes: 16 }), Buffer.alloc(16)));
    await q.waitClosed(10_000);
    await a.waitEvent(logMatching(/node 4.*not a member of rdmc group 6/), 10_000, 'a log line naming node 4 and group 6');
    await stillServes(a, 1, port, 3);
  });

  it('reads nothing but the handshake before the proof: a 1 GiB P2P header is refused at once', async () => {
    const { w: a, port } = await member(1);
    await sleep(500);
    const before = await rssOf(a);
    const p = await raw(port);
    await p.write(frame(FrameType.P2P, Buffer.alloc(0), Buffer.alloc(0), 1n << 30n));
    // Stream zeros until the member hangs up (or 256 MiB went out, which buffering would show).
    const chunk = Buffer.alloc(4 * MiB);
    let sent = 0;
    while (!p.closed && sent < 256 * MiB) {
      await p.write(chunk);
      sent += chunk.length;
    }
    const during = await rssOf(a);
    console.log(`      member RSS ${(before / MiB).toFixed(0)} -> ${(during / MiB).toFixed(0)} MiB; ${(sent / MiB).toFixed(0)} MiB handed to our socket before it saw the close`);
    expect(during - before).to.be.lessThan(48 * MiB);
    await p.waitClosed(10_000);
    await a.waitEvent(logMatching(/unauthenticated peer.*before the handshake/), 10_000, 'refusal log');
  });

  it('does not let an unproven hello squat a node id: the real node still connects', async () => {
    const { w: a, port } = await member(1);
    const squatter = await raw(port);
    await squatter.hello(3, 'test-build');
    await squatter.waitUntil(() => squatter.frames.length > 0, 10_000, 'hello-ack');
    // The squatter holds its connection open without ever proving anything.
    await stillServes(a, 1, port, 3);
    expect(a.events.some(logMatching(/already has a connection|duplicate/))).to.equal(false);
  });

  it('dials a node whose id an unproven hello claims once that claim lapses', async () => {
    const { w: a, port } = await member(1, { handshakeTimeoutMs: 1_000 });
    const { w: b, port: bPort } = await member(3);
    const squatter = await raw(port);
    await squatter.hello(3, 'test-build');
    await squatter.waitUntil(() => squatter.frames.length > 0, 10_000, 'hello-ack');
    // Node 1 is asked to dial node 3 while the claim is pending: the dial waits for it, then goes.
    const t0 = Date.now();
    await a.request('connect', { peers: [{ nodeId: 3, port: bPort }], timeoutMs: 15_000 }, 20_000);
    console.log(`      connected ${Date.now() - t0} ms after the dial was asked for (handshake timeout 1000 ms)`);
    await b.request('waitConnected', { nodeIds: [1] });
  });

  it('caps a flood of 1,000 connections and returns the memory afterwards', async () => {
    const { w: a, port } = await member(1);
    await sleep(500);
    const before = await rssOf(a);
    const sockets: Socket[] = [];
    let closedByMember = 0;
    await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise<void>((resolve) => {
            // From 127.0.0.2, so the per-address limit of the flooder does not apply to 127.0.0.1.
            const s = netConnect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }, () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => {
              closedByMember++;
              resolve();
            });
            s.resume();
            sockets.push(s);
          }),
      ),
    );
    await sleep(1_000);
    const during = await rssOf(a);
    const heldOpen = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
    const closedDuringFlood = closedByMember;
    // A real member gets in during the flood (another address).
    const { w: b } = await member(2);
    await b.request('connect', { peers: [{ nodeId: 1, port }] }, 30_000);
    for (const s of sockets) s.destroy();
    await sleep(1_500);
    const after = await rssOf(a);
    console.log(
      `      member RSS before ${(before / MiB).toFixed(1)} MiB, during ${(during / MiB).toFixed(1)} MiB, after ${(after / MiB).toFixed(1)} MiB; ` +
        `${closedDuringFlood} of 1000 connections closed by the member, ${heldOpen} held open`,
    );
    expect(heldOpen).to.be.at.most(64);
    expect(during - before).to.be.lessThan(48 * MiB);
    expect(after - before).to.be.lessThan(32 * MiB);
    await a.waitEvent(logMatching(/refus.*connection|too many/), 5_000, 'flood log');
  });

  it('does not report a failure for an authenticated id that was never a member, just logs it', async () => {
    const { w: a, port } = await member(1);
    const p = await raw(port);
    await p.authenticate(42);
    await a.waitEvent(logMatching(/connected to node 42/), 10_000, 'node 42 connected');
    p.destroy();
    await a.waitEvent(logMatching(/node 42.*dropped/), 10_000, 'the drop of node 42 logged');
    await sleep(500);
    expect(a.events.filter((e) => e.event === 'failure' && e.nodeId === 42)).to.have.length(0);
  });

  it('refuses a stranger without telling it our build string or version', async () => {
    const build = 'build-7f3a9c-secretish';
    const { w: a, port } = await member(1, { buildHash: build });
    const p = await raw(port);
    await p.hello(2, 'some-other-build');
    await p.waitUntil(() => p.frames.length > 0 || p.closed, 10_000, 'a reject');
    const rejectText = p.frames.map((f) => f.payload.toString('latin1')).join('|');
    expect(p.frames[0]?.type).to.equal(FrameType.Reject);
    expect(rejectText).not.to.include(build);
    expect(rejectText).not.to.include('7f3a9c');
    await a.waitEvent(logMatching(new RegExp(`build hash mismatch .*some-other-build.*${build}`)), 10_000, 'the full reason logged locally');
    const q = await raw(port);
    await q.hello(2, build, 99);
    await q.waitUntil(() => q.frames.length > 0 || q.closed, 10_000, 'a reject');
    expect(q.frames.map((f) => f.payload.toString('latin1')).join('|')).not.to.match(/ours 1|\b1\)/);
  });

  it('checks every field of every frame kind from an authenticated peer: a violation drops it, naming the peer and the field', async () => {
    const { w: a, port } = await member(1);
    await a.request('createRegion', { regionId: 7, peek: 1, rowBytes: 64, members: [1, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42] });
    await a.request('createRdmc', { groupId: 8, members: [50, 1, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42], blockBytes: 16 });
    const doneSub = (groupId: number, reserved: number, msgIndex: bigint) => {
      const b = Buffer.alloc(16);
      b.writeUInt32LE(groupId, 0);
      b.writeUInt32LE(reserved, 4);
      b.writeBigUInt64LE(msgIndex, 8);
      return b;
    };
    const withFlags = frame(FrameType.PutAck, Buffer.alloc(8));
    withFlags[3] = 1;
    const cases: { nodeId: number; bytes: Buffer; log: RegExp }[] = [
      { nodeId: 20, bytes: putFrame(7, [[0, 8]]), log: /node 20 wrote to region 7 but owns no row in it \(field regionId\)/ },
      { nodeId: 30, bytes: putFrame(7, [[60, 8]]), log: /node 30 wrote outside its 64-byte row of region 7 \(field ranges/ },
      { nodeId: 31, bytes: frame(FrameType.Put, Buffer.alloc(16)), log: /node 31 .*field rangeCount/ },
      { nodeId: 32, bytes: frame(FrameType.PutAck, Buffer.from([5, 0, 0, 0, 0, 0, 0, 0])), log: /node 32 .*field ackSeq/ },
      { nodeId: 33, bytes: frame(FrameType.RdmcBlock, rdmcBlockSub({ groupId: 8, blockNo: 9, msgIndex: 0n, totalBytes: 32n, blockBytes: 16 }), Buffer.alloc(16)), log: /node 33 .*field blockNo/ },
      { nodeId: 34, bytes: frame(FrameType.RdmcBlock, rdmcBlockSub({ groupId: 8, blockNo: 0, msgIndex: 0n, totalBytes: 32n, blockBytes: 8 }), Buffer.alloc(8)), log: /node 34 .*field blockBytes/ },
      { nodeId: 35, bytes: frame(FrameType.RdmcBlock, rdmcBlockSub({ groupId: 8, blockNo: 0, msgIndex: 3n, totalBytes: 32n, blockBytes: 16 }), Buffer.alloc(16)), log: /node 35 .*field msgIndex/ },
      { nodeId: 36, bytes: frame(FrameType.RdmcBlock, rdmcBlockSub({ groupId: 8, blockNo: 0, msgIndex: 0n, totalBytes: 32n, blockBytes: 16 }), Buffer.alloc(15)), log: /node 36 .*field payloadLen/ },
      { nodeId: 37, bytes: frame(FrameType.RdmcDone, doneSub(8, 0, 0n)), log: /node 37 .*field groupId/ },
      { nodeId: 38, bytes: frame(FrameType.RdmcDone, doneSub(8, 1, 0n)), log: /node 38 .*field reserved/ },
      { nodeId: 39, bytes: frame(FrameType.Hello, helloSub(39, Buffer.alloc(32)), Buffer.from('test-build')), log: /node 39 .*unexpected handshake frame/ },
      { nodeId: 40, bytes: withFlags, log: /node 40 .*field flags/ },
      { nodeId: 41, bytes: frame(FrameType.PutAck, Buffer.alloc(4)), log: /node 41 .*field subLen/ },
      { nodeId: 42, bytes: frame(FrameType.P2P, Buffer.alloc(0), Buffer.alloc(0), 1n << 40n), log: /node 42 .*field payloadLen/ },
    ];
    for (const c of cases) {
      const p = await raw(port);
      await p.authenticate(c.nodeId);
      await a.waitEvent(logMatching(new RegExp(`connected to node ${c.nodeId} `)), 10_000, `node ${c.nodeId} connected`);
      await p.write(c.bytes);
      await p.waitClosed(10_000);
      await a.waitEvent(logMatching(c.log), 10_000, `the log line for node ${c.nodeId}`);
    }
    await stillServes(a, 1, port, 2);
  });
});
