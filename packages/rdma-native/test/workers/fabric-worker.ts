/**
 * A fabric member driven by its parent test over the IPC channel: each request is
 * { id, cmd, ...args } and gets one reply { id, ok, ...result } (or { id, ok: false, error }).
 * Every native log line and failure is also forwarded as { event: 'log' | 'failure', ... }.
 */
import { createHash } from 'node:crypto';
import { Endpoint, type PollResult, type RdmcGroup, type Region } from '../../src/index.js';

type Request = { id: number; cmd: string; [k: string]: unknown };

let ep: Endpoint | undefined;
const regions = new Map<number, Region>();
const groups = new Map<number, RdmcGroup>();
const rdmcSeen: { groupId: number; sender: number; index: number; size: number; sha256: string; ownMessage: boolean }[] = [];
const p2pSeen: { from: number; data: Uint8Array }[] = [];
const pollHooks = new Set<(r: PollResult) => void>();

function send(msg: unknown): void {
  process.send?.(msg);
}

function endpoint(): Endpoint {
  if (!ep) throw new Error('open first');
  return ep;
}

const u64 = (b: Uint8Array, off: number): bigint => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
const setU64 = (b: Uint8Array, off: number, v: bigint): void => new DataView(b.buffer, b.byteOffset, b.byteLength).setBigUint64(off, v, true);

const handlers: Record<string, (req: Request) => Promise<Record<string, unknown>> | Record<string, unknown>> = {
  open(req) {
    ep = Endpoint.open({
      nodeId: req.nodeId as number,
      buildHash: (req.buildHash as string) ?? 'test-build',
      secret: (req.secret as string | string[]) ?? 'test-secret',
      tls: req.tls as { ca: string; cert: string; key: string } | undefined,
      heartbeatTimeoutMs: (req.heartbeatTimeoutMs as number) ?? 1000,
      maxHeldBytes: req.maxHeldBytes as number | undefined,
      handshakeTimeoutMs: req.handshakeTimeoutMs as number | undefined,
      batchPuts: req.batchPuts as boolean | undefined,
      busyPollWindowMs: req.busyPollWindowMs as number | undefined,
      receiveOnJsThread: req.receiveOnJsThread as boolean | undefined,
      blockedLoopLimitMs: req.blockedLoopLimitMs as number | undefined,
      maxPendingHandshakes: req.maxPendingHandshakes as number | undefined,
      handshakesPerSecondPerAddress: req.handshakesPerSecondPerAddress as number | undefined,
    });
    ep.onPoll((r) => {
      for (const l of r.logs) send({ event: 'log', ...l });
      for (const f of r.failures) send({ event: 'failure', ...f });
      for (const m of r.p2p) p2pSeen.push(m);
      for (const m of r.rdmc) {
        rdmcSeen.push({
          groupId: m.groupId,
          sender: m.sender,
          index: m.index,
          size: m.data.byteLength,
          sha256: createHash('sha256').update(m.data).digest('hex'),
          ownMessage: m.ownMessage,
        });
        // Recycle the buffer (odd indexes only, so both paths run: release and garbage collection).
        if (m.index % 2 === 1) {
          m.release();
          if (m.data.byteLength !== 0 && !m.ownMessage) throw new Error('release() did not detach the buffer');
        }
      }
      for (const h of pollHooks) h(r);
    });
    return { port: ep.port, provider: ep.provider };
  },
  async connect(req) {
    const peers = req.peers as { nodeId: number; port: number }[];
    for (const p of peers) endpoint().connect(p.nodeId, '127.0.0.1', p.port);
    await endpoint().waitConnected(peers.map((p) => p.nodeId), (req.timeoutMs as number) ?? 10_000);
    return { connected: endpoint().connectedPeers() };
  },
  port() {
    return { port: endpoint().port };
  },
  async waitConnected(req) {
    await endpoint().waitConnected(req.nodeIds as number[], (req.timeoutMs as number) ?? 10_000);
    return {};
  },
  /** Writes a recognisable pattern into my row, pushes it, waits for every other row's pattern. */
  async sstRows(req) {
    const e = endpoint();
    const members = req.members as number[];
    const rowBytes = 64;
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes, members });
    regions.set(region.regionId, region);
    const pattern = (node: number) => Array.from({ length: rowBytes }, (_, i) => (node * 31 + i) & 255);
    region.ownRow().set(pattern(e.nodeId));
    region.put([[0, 32], [32, 32]]);
    const matches = (node: number) => region.rowOf(node).every((v, i) => v === pattern(node)[i]);
    await e.waitFor(() => members.every(matches), 10_000, 'all rows');
    return { rows: Object.fromEntries(members.map((m) => [m, Array.from(region.rowOf(m).subarray(0, 4))])) };
  },
  /**
   * Data (bytes 0..8) then counter (8..16) as two separate puts, `count` times. With `bigBytes`,
   * the counter put also carries that many bytes after the counter, all set to i & 255: a put
   * large enough to skip the cork of batched puts, after a small one that takes it (were it
   * written first, the reader would see the counter ahead of the data).
   */
  async fenceWrite(req) {
    const e = endpoint();
    const big = (req.bigBytes as number | undefined) ?? 0;
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes: 16 + big, members: req.members as number[] });
    const row = region.ownRow();
    const count = req.count as number;
    const targets = (req.members as number[]).filter((m) => m !== e.nodeId);
    for (let i = 1; i <= count; i++) {
      setU64(row, 0, BigInt(i));
      region.put([[0, 8]], targets);
      setU64(row, 8, BigInt(i));
      if (big > 0) row.fill(i & 255, 16, 16 + big);
      region.put(big > 0 ? [[8, 8], [16, big]] : [[8, 8]], targets);
      if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    return {};
  },
  /** Checks after every batch that the writer's counter never runs ahead of its data. */
  async fenceRead(req) {
    const e = endpoint();
    const big = (req.bigBytes as number | undefined) ?? 0;
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes: 16 + big, members: req.members as number[] });
    const writerRow = region.rowOf(req.writer as number);
    const count = BigInt(req.count as number);
    let violations = 0;
    let checks = 0;
    let writes = 0;
    let lastCounter = 0n;
    let regressions = 0;
    const hook = (r: PollResult) => {
      writes += r.writes;
      const data = u64(writerRow, 0);
      const counter = u64(writerRow, 8);
      checks++;
      if (counter > data) violations++;
      // The large bytes came in the same put as the counter: they always match it.
      if (big > 0 && counter > 0n && (writerRow[16] !== Number(counter & 255n) || writerRow[15 + big] !== Number(counter & 255n))) violations++;
      if (counter < lastCounter) regressions++;
      lastCounter = counter;
    };
    pollHooks.add(hook);
    send({ event: 'ready' });
    await e.waitFor(() => u64(writerRow, 8) === count, 120_000, 'the last counter');
    pollHooks.delete(hook);
    return { violations, checks, writes, regressions, finalData: Number(u64(writerRow, 0)) };
  },
  /** fenceRead, busy-polling with poll({ inline: true }) so both receive paths interleave. */
  fenceReadInline(req) {
    const e = endpoint();
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes: 16, members: req.members as number[] });
    const writerRow = region.rowOf(req.writer as number);
    const count = BigInt(req.count as number);
    return new Promise((resolve) => {
      process.send?.({ event: 'ready' }, undefined, {}, () => {
        let violations = 0;
        let checks = 0;
        let writes = 0;
        let lastCounter = 0n;
        let regressions = 0;
        const deadline = Date.now() + 60_000;
        while (u64(writerRow, 8) !== count && Date.now() < deadline) {
          writes += e.poll({ inline: true }).writes;
          const data = u64(writerRow, 0);
          const counter = u64(writerRow, 8);
          checks++;
          if (counter > data) violations++;
          if (counter < lastCounter) regressions++;
          lastCounter = counter;
        }
        resolve({ violations, checks, writes, regressions, finalData: Number(u64(writerRow, 0)), stats: e.stats() });
      });
    });
  },
  /** Puts `count` 8-byte writes of region `regionId` to `to` (which may not have the region). */
  putMany(req) {
    const e = endpoint();
    const region = regions.get(req.regionId as number) ?? e.createRegion({ regionId: req.regionId as number, rowBytes: 64, members: req.members as number[] });
    regions.set(region.regionId, region);
    for (let i = 1; i <= (req.count as number); i++) {
      setU64(region.ownRow(), 0, BigInt(i));
      region.put([[0, 8]], [req.to as number]);
    }
    return {};
  },
  /** `count` puts of a whole `rowBytes`-byte row to `to`, yielding between them. */
  async bigPuts(req) {
    const e = endpoint();
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes: req.rowBytes as number, members: req.members as number[] });
    for (let i = 0; i < (req.count as number); i++) {
      region.ownRow().fill(i & 255);
      try {
        region.put([[0, req.rowBytes as number]], [req.to as number]);
      } catch {
        break;
      }
      if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    return {};
  },
  createRegion(req) {
    const region = endpoint().createRegion({ regionId: req.regionId as number, rowBytes: 64, members: req.members as number[] });
    regions.set(region.regionId, region);
    return { row: Array.from(region.rowOf(req.peek as number).subarray(0, 8)) };
  },
  closeRegion(req) {
    regions.get(req.regionId as number)?.close();
    regions.delete(req.regionId as number);
    return {};
  },
  /** Polls for a while, then reports the first 8 bytes of node `peek`'s row in a region. */
  async settleAndPeek(req) {
    await endpoint().waitFor(() => false, req.ms as number).catch(() => undefined);
    const region = regions.get(req.regionId as number);
    return { row: region ? Array.from(region.rowOf(req.peek as number).subarray(0, 8)) : null };
  },
  /** Puts counter i, and after every 100th also sends P2P message i. */
  async putP2PWrite(req) {
    const e = endpoint();
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes: 8, members: req.members as number[] });
    for (let i = 1; i <= (req.count as number); i++) {
      setU64(region.ownRow(), 0, BigInt(i));
      region.put([[0, 8]], [req.to as number]);
      if (i % 100 === 0) {
        const m = new Uint8Array(4);
        new DataView(m.buffer).setUint32(0, i, true);
        e.sendP2P(req.to as number, m);
      }
      if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
    }
    return {};
  },
  /** Checks that when P2P message i is delivered, put i has been applied. */
  async putP2PRead(req) {
    const e = endpoint();
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes: 8, members: req.members as number[] });
    const row = region.rowOf(req.writer as number);
    let messages = 0;
    let violations = 0;
    const hook = (r: PollResult) => {
      for (const m of r.p2p) {
        messages++;
        if (u64(row, 0) < BigInt(new DataView(m.data.buffer, m.data.byteOffset).getUint32(0, true))) violations++;
      }
    };
    pollHooks.add(hook);
    process.send?.({ event: 'ready' });
    await e.waitFor(() => messages >= (req.count as number) / 100, 60_000, 'p2p messages');
    pollHooks.delete(hook);
    return { messages, violations };
  },
  /** Interleaves puts (counter), P2P messages and one 5 MiB RDMC message to `to`. */
  async mixedWrite(req) {
    const e = endpoint();
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes: 8, members: req.members as number[] });
    const g = groups.get(req.groupId as number)!;
    for (let i = 1; i <= 20_000; i++) {
      setU64(region.ownRow(), 0, BigInt(i));
      region.put([[0, 8]], [req.to as number]);
      if (i % 100 === 0) e.sendP2P(req.to as number, new Uint8Array(3000).fill(i & 255));
      if (i === 10_000) g.send(new Uint8Array(5 << 20).fill(7));
      if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    return {};
  },
  /** Busy-polls (never yielding) until the puts, the P2P messages and the RDMC message all arrived. */
  busyMixedRead(req) {
    const e = endpoint();
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes: 8, members: req.members as number[] });
    const row = region.rowOf(req.writer as number);
    return new Promise((resolve) => {
      process.send?.({ event: 'ready' }, undefined, {}, () => {
        let p2p = 0;
        let rdmcBytes = -1;
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && !(u64(row, 0) === 20_000n && p2p === 200 && rdmcBytes >= 0)) {
          const r = e.poll({ inline: true });
          p2p += r.p2p.length;
          for (const m of r.rdmc) rdmcBytes = m.data.byteLength;
        }
        resolve({ counter: Number(u64(row, 0)), p2p, rdmcBytes, stats: e.stats() });
      });
    });
  },
  /** busyMixedRead, event-driven: woken per batch (by the sockets themselves with receiveOnJsThread). */
  async mixedRead(req) {
    const e = endpoint();
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes: 8, members: req.members as number[] });
    const row = region.rowOf(req.writer as number);
    let p2p = 0;
    let rdmcBytes = -1;
    let regressions = 0;
    let last = 0n;
    const hook = (r: PollResult) => {
      p2p += r.p2p.length;
      for (const m of r.rdmc) rdmcBytes = m.data.byteLength;
      const now = u64(row, 0);
      if (now < last) regressions++;
      last = now;
    };
    pollHooks.add(hook);
    send({ event: 'ready' });
    await e.waitFor(() => u64(row, 0) === 20_000n && p2p === 200 && rdmcBytes >= 0, 60_000, 'puts, P2P and RDMC');
    pollHooks.delete(hook);
    return { counter: Number(u64(row, 0)), p2p, rdmcBytes, regressions, stats: e.stats() };
  },
  createRdmc(req) {
    const g = endpoint().createRdmcGroup({ groupId: req.groupId as number, members: req.members as number[], blockBytes: req.blockBytes as number });
    groups.set(g.groupId, g);
    return {};
  },
  destroyRdmc(req) {
    groups.get(req.groupId as number)?.destroy();
    groups.delete(req.groupId as number);
    return {};
  },
  /** Sends deterministic messages of the given sizes; replies with their checksums. */
  rdmcSend(req) {
    const g = groups.get(req.groupId as number)!;
    const sums: string[] = [];
    for (const size of req.sizes as number[]) {
      const data = new Uint8Array(size);
      let x = (size * 2654435761) >>> 0;
      for (let i = 0; i < size; i += 4096) {
        x = (x * 1103515245 + 12345) >>> 0;
        data[i] = x & 255;
      }
      if (size > 0) data[size - 1] = 0xab;
      sums.push(createHash('sha256').update(data).digest('hex'));
      g.send(data);
    }
    return { sums };
  },
  async rdmcWait(req) {
    const groupId = req.groupId as number;
    const count = req.count as number;
    await endpoint().waitFor(() => rdmcSeen.filter((m) => m.groupId === groupId).length >= count, (req.timeoutMs as number) ?? 60_000, `rdmc messages of group ${groupId}`);
    return { messages: rdmcSeen.filter((m) => m.groupId === groupId) };
  },
  /** Sends `count` numbered P2P messages, alternating single buffers and chunk arrays. */
  p2pSend(req) {
    const e = endpoint();
    for (let i = 0; i < (req.count as number); i++) {
      const head = new Uint8Array(4);
      new DataView(head.buffer).setUint32(0, i, true);
      const body = new Uint8Array(i % 97).fill(i & 255);
      e.sendP2P(req.to as number, i % 2 === 0 ? [head, body] : Buffer.concat([head, body]));
    }
    return {};
  },
  /** Messages of 2,500 chunks each (more than one sendmsg takes), while an RDMC message streams. */
  p2pManyChunks(req) {
    const e = endpoint();
    groups.get(req.groupId as number)!.send(new Uint8Array(8 << 20).fill(3));
    for (let m = 0; m < 20; m++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < 2500; i++) chunks.push(new Uint8Array(1 + ((i * 7 + m) % 20)).fill((i + m) & 255));
      e.sendP2P(req.to as number, chunks);
    }
    return {};
  },
  async p2pManyChunksCheck() {
    await endpoint().waitFor(() => p2pSeen.length >= 20, 30_000, 'chunked messages');
    let intact = true;
    p2pSeen.slice(0, 20).forEach((msg, m) => {
      let at = 0;
      for (let i = 0; i < 2500; i++) {
        const len = 1 + ((i * 7 + m) % 20);
        for (let k = 0; k < len; k++) if (msg.data[at + k] !== ((i + m) & 255)) intact = false;
        at += len;
      }
      if (at !== msg.data.byteLength) intact = false;
    });
    return { intact, count: p2pSeen.length };
  },
  async p2pWait(req) {
    const count = req.count as number;
    await endpoint().waitFor(() => p2pSeen.length >= count, 30_000, 'p2p messages');
    let inOrder = true;
    let intact = true;
    p2pSeen.forEach((m, i) => {
      const n = new DataView(m.data.buffer, m.data.byteOffset).getUint32(0, true);
      if (n !== i) inOrder = false;
      if (m.data.byteLength !== 4 + (i % 97) || m.data.subarray(4).some((b) => b !== (i & 255))) intact = false;
    });
    return { received: p2pSeen.length, inOrder, intact, from: [...new Set(p2pSeen.map((m) => m.from))] };
  },
  /** Heartbeat: a put with completion to `targets` every `intervalMs`. */
  heartbeat(req) {
    const e = endpoint();
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes: 8, members: req.members as number[] });
    let beat = 0n;
    const timer = setInterval(() => {
      setU64(region.ownRow(), 0, ++beat);
      try {
        region.put([[0, 8]], req.targets as number[], { completion: true });
      } catch {
        clearInterval(timer);
      }
    }, req.intervalMs as number);
    return {};
  },
  /** Blocks this process's event loop for `ms` (a busy-wait, as a slow synchronous handler would). */
  block(req) {
    const until = Date.now() + (req.ms as number);
    let spins = 0;
    while (Date.now() < until) spins++;
    return { spins };
  },
  stats() {
    return { ...endpoint().stats() };
  },
  /** Resident set size in bytes (after a garbage collection when --expose-gc is on). */
  rss() {
    return { rss: process.memoryUsage.rss() };
  },
  close() {
    ep?.close();
    return {};
  },
};

process.on('message', (raw) => {
  const req = raw as Request;
  const h = handlers[req.cmd];
  Promise.resolve()
    .then(() => {
      if (!h) throw new Error(`unknown command ${req.cmd}`);
      return h(req);
    })
    .then(
      (result) => send({ id: req.id, ok: true, ...result }),
      (err: unknown) => send({ id: req.id, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
    );
});
process.on('disconnect', () => {
  ep?.close();
  process.exit(0);
});
send({ event: 'started' });
