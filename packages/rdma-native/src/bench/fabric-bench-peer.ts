/**
 * One process of the fabric benchmark, driven by runFabricBench over IPC (requests
 * { id, cmd, ...args }, replies { id, ok, ...result }). Not a public entry point.
 */
import { loadAddon } from '../addon.js';
import { Endpoint } from '../endpoint.js';
import type { PollResult } from '../types.js';
import type { RdmcGroup } from '../rdmc-group.js';

type Request = { id: number; cmd: string; [k: string]: unknown };
let ep: Endpoint | undefined;
/** Work that blocks this thread, started only once the reply announcing it is on the wire. */
let spinAfterReply: (() => void) | undefined;
/** The one event-driven echo currently answering (a new one replaces it). */
let echoHook: ((r: PollResult) => void) | undefined;
const hooks = new Set<(r: PollResult) => void>();
const groups = new Map<number, RdmcGroup>();
const sendBuffers = new Map<number, Uint8Array>();
const wallMs = (): number => performance.timeOrigin + performance.now();

function reply(msg: unknown, then?: () => void): void {
  process.send?.(msg, undefined, {}, () => then?.());
}
function endpoint(): Endpoint {
  if (!ep) throw new Error('open first');
  return ep;
}

/** The SST of a ping pair: my row and the partner's, the 32-bit counter at offset 0 of each, and the put that sends my row. */
function pingPair(req: Request) {
  const size = req.size as number;
  const region = endpoint().createRegion({ regionId: req.regionId as number, rowBytes: size, members: req.members as number[] });
  const mine = region.ownRow();
  const theirs = region.rowOf(req.partner as number);
  const target = [req.partner as number];
  const range: [number, number][] = [[0, size]];
  return {
    mine,
    theirs,
    myView: new DataView(mine.buffer, mine.byteOffset),
    theirView: new DataView(theirs.buffer, theirs.byteOffset),
    sendMine: () => region.put(range, target),
  };
}

const handlers: Record<string, (req: Request) => Promise<Record<string, unknown>> | Record<string, unknown>> = {
  open(req) {
    ep = Endpoint.open({ nodeId: req.nodeId as number, buildHash: 'bench', secret: 'bench-secret', heartbeatTimeoutMs: 5000, batchPuts: req.batchPuts === true });
    ep.onPoll((r) => {
      for (const h of hooks) h(r);
    });
    return { port: ep.port };
  },
  async connect(req) {
    const peers = req.peers as { nodeId: number; port: number }[];
    for (const p of peers) endpoint().connect(p.nodeId, '127.0.0.1', p.port);
    await endpoint().waitConnected(peers.map((p) => p.nodeId));
    return {};
  },
  /** Echoes the partner's first `size` bytes back into my row whenever they change. */
  sstEchoStart(req) {
    const { mine, theirs, theirView, sendMine } = pingPair(req);
    let last = 0;
    if (echoHook) hooks.delete(echoHook);
    echoHook = () => {
      const v = theirView.getUint32(0, true);
      if (v !== last) {
        last = v;
        mine.set(theirs);
        sendMine();
      }
    };
    hooks.add(echoHook);
    return {};
  },
  /** Round trips: write a counter into my row, put it, wait until the partner echoes it. */
  sstPing(req) {
    const iterations = req.iterations as number;
    const { myView, theirView, sendMine } = pingPair(req);
    const rtts = new Float64Array(iterations);
    let i = 0;
    let t0 = 0;
    return new Promise((resolve) => {
      const issue = () => {
        myView.setUint32(0, i + 1, true);
        t0 = performance.now();
        sendMine();
      };
      const hook = () => {
        if (theirView.getUint32(0, true) !== i + 1) return;
        rtts[i] = (performance.now() - t0) * 1000;
        i++;
        if (i === iterations) {
          hooks.delete(hook);
          resolve({ rttsUs: Array.from(rtts) });
        } else {
          issue();
        }
      };
      hooks.add(hook);
      issue();
    });
  },
  /**
   * Busy-poll variant of the echo: after replying, spins on poll({ inline: true }) until it has
   * echoed `iterations` values (or 60 s pass), then reports { event: 'echoDone' }.
   */
  sstEchoSpin(req) {
    const e = endpoint();
    const { mine, theirs, theirView, sendMine } = pingPair(req);
    spinAfterReply = () => {
      const deadline = Date.now() + 60_000;
      let last = 0;
      let echoed = 0;
      while (echoed < (req.iterations as number) && (echoed % 1024 !== 0 || Date.now() < deadline)) {
        e.poll({ inline: true });
        const v = theirView.getUint32(0, true);
        if (v !== last) {
          last = v;
          mine.set(theirs);
          sendMine();
          echoed++;
        }
      }
      reply({ event: 'echoDone' });
    };
    return {};
  },
  /** Busy-poll round trips: put, then spin on poll({ inline: true }) until the echo is back. */
  sstPingSpin(req) {
    const e = endpoint();
    const iterations = req.iterations as number;
    const { myView, theirView, sendMine } = pingPair(req);
    const rtts: number[] = [];
    const deadline = Date.now() + 60_000;
    for (let i = 1; i <= iterations && Date.now() < deadline; i++) {
      myView.setUint32(0, i, true);
      const t0 = performance.now();
      sendMine();
      while (theirView.getUint32(0, true) !== i) e.poll({ inline: true });
      rtts.push((performance.now() - t0) * 1000);
    }
    return { rttsUs: rtts };
  },
  /** Listens for the raw baseline; replies with the port, then blocks serving one client. */
  rawServe(req) {
    const addon = loadAddon();
    const { fd, port } = addon.rawListen('127.0.0.1');
    return { port, fd, serveMode: req.mode, msgBytes: req.msgBytes };
  },
  rawPing(req) {
    return { rttsUs: Array.from(loadAddon().rawPingPong('127.0.0.1', req.port as number, req.size as number, req.iterations as number)) };
  },
  rawStream(req) {
    return { seconds: loadAddon().rawStream('127.0.0.1', req.port as number, req.bytes as number) };
  },
  rdmcCreate(req) {
    groups.set(req.groupId as number, endpoint().createRdmcGroup({ groupId: req.groupId as number, members: req.members as number[], blockBytes: req.blockBytes as number }));
    return {};
  },
  /** Receiver: resolves with the wall-clock time the next message of the group arrived in JS. */
  rdmcReceive(req) {
    return new Promise((resolve) => {
      const hook = (r: PollResult) => {
        for (const m of r.rdmc) {
          if (m.groupId !== req.groupId) continue;
          hooks.delete(hook);
          const atMs = wallMs();
          const result = { atMs, size: m.data.byteLength, last: m.data[m.data.byteLength - 1] };
          m.release(); // steady state: the next message reuses this buffer, as with preregistered memory
          resolve(result);
        }
      };
      hooks.add(hook);
    });
  },
  rdmcSend(req) {
    // One buffer per size, reused unmodified (a message may still be in flight when the next is queued).
    let data = sendBuffers.get(req.bytes as number);
    if (!data) {
      data = new Uint8Array(req.bytes as number).fill(5);
      sendBuffers.set(data.byteLength, data);
    }
    const startMs = wallMs();
    groups.get(req.groupId as number)!.send(data);
    return { startMs };
  },
  /** Receiver side of the put-rate run: counts the writes applied until `count` arrived. */
  sstRateReceive(req) {
    const e = endpoint();
    e.createRegion({ regionId: req.regionId as number, rowBytes: 64, members: req.members as number[] });
    let writes = 0;
    const count = req.count as number;
    return new Promise((resolve) => {
      const hook = (r: PollResult) => {
        writes += r.writes;
        if (writes >= count) {
          hooks.delete(hook);
          resolve({ atMs: wallMs(), writes });
        }
      };
      hooks.add(hook);
      reply({ event: 'ready' });
    });
  },
  async sstRateSend(req) {
    const e = endpoint();
    const region = e.createRegion({ regionId: req.regionId as number, rowBytes: 64, members: req.members as number[] });
    const row = new DataView(region.ownRow().buffer, region.ownRow().byteOffset);
    const targets = req.targets as number[];
    const count = req.count as number;
    const range: [number, number][] = [[0, 64]];
    const startMs = wallMs();
    for (let i = 1; i <= count; i++) {
      row.setUint32(0, i, true);
      region.put(range, targets);
      if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
    }
    return { startMs, issueMs: wallMs() - startMs };
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
      (result) => {
        if (req.cmd === 'rawServe') {
          reply({ id: req.id, ok: true, ...result }, () => {
            const addon = loadAddon();
            addon.rawServe(result.fd as number, result.serveMode as 'echo' | 'sink', (result.msgBytes as number) ?? 0);
            addon.rawClose(result.fd as number);
            reply({ event: 'rawDone' });
          });
        } else if (spinAfterReply) {
          const spin = spinAfterReply;
          spinAfterReply = undefined;
          reply({ id: req.id, ok: true, ...result }, spin);
        } else {
          reply({ id: req.id, ok: true, ...result });
        }
      },
      (err: unknown) => reply({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
});
process.on('disconnect', () => {
  ep?.close();
  process.exit(0);
});
reply({ event: 'started' });
