/**
 * The fabric benchmark: SST put round trips against a raw C TCP ping-pong, RDMC goodput against a
 * raw single-stream C TCP transfer, and the SST small-put rate. It spawns its own peer processes
 * (loopback) and returns the figures; the `derecho bench fabric` command prints them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childScriptArgs } from '../child-script.js';

export interface LatencyFigures {
  medianUs: number;
  p99Us: number;
}

export interface FabricBenchResult {
  provider: string;
  /** Event-driven: the I/O thread receives, wakes JS once per batch, JS polls. */
  sstRoundTrip8B: LatencyFigures;
  sstRoundTrip1KiB: LatencyFigures;
  /** Busy-polling: both sides spin on poll({ inline: true }) (Derecho's predicate-thread style). */
  sstBusyRoundTrip8B: LatencyFigures;
  sstBusyRoundTrip1KiB: LatencyFigures;
  rawRoundTrip8B: LatencyFigures;
  rawRoundTrip1KiB: LatencyFigures;
  /** sst median / raw median (target ≤ 2), event-driven and busy-polling. */
  sstToRawLatency8B: number;
  sstToRawLatency1KiB: number;
  sstBusyToRawLatency8B: number;
  sstBusyToRawLatency1KiB: number;
  rdmcBytes: number;
  rdmcBlockBytes: number;
  /** Per-receiver goodput, GB/s (10^9 bytes/s), from send() to delivery in the receiver's JS. */
  rdmcReceiverGBps: number[];
  rawStreamGBps: number;
  /** min receiver goodput / raw stream (target ≥ 0.4). */
  rdmcToRaw: number;
  /** 64-byte puts per second one writer pushes to 2 peers (each put written on its own). */
  sstPutsPerSecond: number;
  /** The same with batchPuts (puts of one JS task written together). */
  sstBatchedPutsPerSecond: number;
  sstPutCount: number;
}

export interface FabricBenchOptions {
  iterations?: number;
  rdmcBytes?: number;
  rdmcBlockBytes?: number;
  putCount?: number;
  /** Which parts to run (default all); skipped parts report zeros. */
  parts?: readonly ('latency' | 'rdmc' | 'rate')[];
}

class Peer {
  private nextId = 1;
  private readonly waiting = new Map<number, (m: Record<string, unknown>) => void>();
  private readonly events: string[] = [];
  private readonly eventWaiters: (() => void)[] = [];

  constructor(readonly child: ChildProcess) {
    child.on('message', (raw) => {
      const m = raw as Record<string, unknown>;
      if (typeof m.id === 'number') {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        w?.(m);
      } else if (typeof m.event === 'string') {
        this.events.push(m.event);
        for (const f of this.eventWaiters.splice(0)) f();
      }
    });
  }

  request(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (m) => (m.ok ? resolve(m) : reject(new Error(`bench peer: ${cmd}: ${String(m.error)}`))));
      this.child.send({ id, cmd, ...args });
    });
  }

  async event(name: string): Promise<void> {
    for (;;) {
      const i = this.events.indexOf(name);
      if (i >= 0) {
        this.events.splice(i, 1);
        return;
      }
      await new Promise<void>((r) => this.eventWaiters.push(r));
    }
  }
}

function latency(values: number[]): LatencyFigures {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { medianUs: round(at(0.5)), p99Us: round(at(0.99)) };
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs every part of the benchmark; the peer processes are always killed before it returns. */
export async function runFabricBench(options: FabricBenchOptions = {}): Promise<FabricBenchResult> {
  const iterations = options.iterations ?? 5000;
  const rdmcBytes = options.rdmcBytes ?? 100 * 1024 * 1024;
  const rdmcBlockBytes = options.rdmcBlockBytes ?? 1024 * 1024;
  const putCount = options.putCount ?? 300_000;
  const { command, args } = childScriptArgs(import.meta.url, './fabric-bench-peer');
  const children: ChildProcess[] = [];
  try {
    const startPeers = async (open: Record<string, unknown>): Promise<Peer[]> => {
      const ps = await Promise.all(
        [1, 2, 3].map(async () => {
          const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          children.push(child);
          const p = new Peer(child);
          await p.event('started');
          return p;
        }),
      );
      const ids = [1, 2, 3];
      const ports = await Promise.all(ps.map((p, i) => p.request('open', { nodeId: ids[i], ...open })));
      await Promise.all(
        ps.map((p, i) => p.request('connect', { peers: ids.filter((_, j) => j !== i).map((id) => ({ nodeId: id, port: ports[id - 1].port })) })),
      );
      return ps;
    };
    const peers = await startPeers({});
    const [a, b, c] = peers;

    // (a) SST put round trips vs raw ping-pong between the same two processes. The kinds are
    // interleaved in rounds so that drift in machine load hits them all alike.
    const parts = new Set(options.parts ?? ['latency', 'rdmc', 'rate']);
    const none: LatencyFigures = { medianUs: 0, p99Us: 0 };
    const skipLatency = !parts.has('latency');
    let regionId = 100;
    const eventRun = async (size: number, n: number): Promise<number[]> => {
      const id = regionId++;
      await b.request('sstEchoStart', { regionId: id, size, members: [1, 2], partner: 1 });
      return (await a.request('sstPing', { regionId: id, size, members: [1, 2], partner: 2, iterations: n })).rttsUs as number[];
    };
    const busyRun = async (size: number, n: number): Promise<number[]> => {
      const id = regionId++;
      await b.request('sstEchoSpin', { regionId: id, size, members: [1, 2], partner: 1, iterations: n });
      const r = await a.request('sstPingSpin', { regionId: id, size, members: [1, 2], partner: 2, iterations: n });
      await b.event('echoDone');
      return r.rttsUs as number[];
    };
    const rawRun = async (size: number, n: number): Promise<number[]> => {
      const s = await b.request('rawServe', { mode: 'echo', msgBytes: size });
      const r = await a.request('rawPing', { port: s.port, size, iterations: n });
      await b.event('rawDone');
      return r.rttsUs as number[];
    };
    const kinds = ['sst', 'busy', 'raw'] as const;
    const samples = new Map<string, number[]>();
    if (!skipLatency) {
      const rounds = 5;
      const perRound = Math.max(1, Math.floor(iterations / rounds));
      for (const size of [8, 1024]) {
        await eventRun(size, Math.min(300, perRound)); // warm-up
        await busyRun(size, Math.min(300, perRound));
        await rawRun(size, Math.min(300, perRound));
      }
      for (let r = 0; r < rounds; r++) {
        for (const size of [8, 1024]) {
          for (const kind of kinds) {
            const run = kind === 'sst' ? eventRun : kind === 'busy' ? busyRun : rawRun;
            const key = `${kind}${size}`;
            samples.set(key, [...(samples.get(key) ?? []), ...(await run(size, perRound))]);
          }
        }
      }
    }
    const fig = (key: string): LatencyFigures => (skipLatency ? none : latency(samples.get(key)!));
    const sst8 = fig('sst8');
    const sst1k = fig('sst1024');
    const busy8 = fig('busy8');
    const busy1k = fig('busy1024');
    const raw8 = fig('raw8');
    const raw1k = fig('raw1024');

    // (b) RDMC: one sender, two receivers, against a raw single stream.
    let rdmcReceiverGBps = [0, 0];
    let rawStreamGBps = 0;
    if (parts.has('rdmc')) {
      await Promise.all(peers.map((p) => p.request('rdmcCreate', { groupId: 1, members: [1, 2, 3], blockBytes: rdmcBlockBytes })));
      // Steady state, as in Derecho's bandwidth tests: two warm-up messages of the measured size
      // (receive buffers are recycled between messages), then the median of three.
      const one = async (bytes: number): Promise<number[]> => {
        const recv = [b.request('rdmcReceive', { groupId: 1 }), c.request('rdmcReceive', { groupId: 1 })];
        const sent = await a.request('rdmcSend', { groupId: 1, bytes });
        const got = await Promise.all(recv);
        return got.map((g) => bytes / (((g.atMs as number) - (sent.startMs as number)) / 1000) / 1e9);
      };
      for (let i = 0; i < 2; i++) await one(rdmcBytes);
      const runs: number[][] = [];
      for (let i = 0; i < 3; i++) runs.push(await one(rdmcBytes));
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
      rdmcReceiverGBps = [0, 1].map((k) => round(median(runs.map((r) => r[k])), 3));
      const rawRates: number[] = [];
      for (let i = 0; i < 3; i++) {
        const sink = await b.request('rawServe', { mode: 'sink' });
        const stream = await a.request('rawStream', { port: sink.port, bytes: rdmcBytes });
        await b.event('rawDone');
        rawRates.push(rdmcBytes / (stream.seconds as number) / 1e9);
      }
      rawStreamGBps = round(median(rawRates), 3);
    }

    // (c) SST small-put rate: 64-byte puts from one writer to two peers, written one by one and
    // batched (batchPuts: one write per JS task), each on its own set of processes.
    const putRate = async ([w, r1, r2]: Peer[]): Promise<number> => {
      const rb = r1.request('sstRateReceive', { regionId: 300, members: [1, 2, 3], count: putCount });
      const rc = r2.request('sstRateReceive', { regionId: 300, members: [1, 2, 3], count: putCount });
      await Promise.all([r1.event('ready'), r2.event('ready')]);
      const sent = await w.request('sstRateSend', { regionId: 300, members: [1, 2, 3], targets: [2, 3], count: putCount });
      const done = await Promise.all([rb, rc]);
      const lastMs = Math.max(...done.map((d) => d.atMs as number));
      return Math.round(putCount / ((lastMs - (sent.startMs as number)) / 1000));
    };
    let sstPutsPerSecond = 0;
    let sstBatchedPutsPerSecond = 0;
    if (parts.has('rate')) sstPutsPerSecond = await putRate(peers);
    await Promise.all(peers.map((p) => p.request('close')));
    if (parts.has('rate')) {
      const batched = await startPeers({ batchPuts: true });
      sstBatchedPutsPerSecond = await putRate(batched);
      await Promise.all(batched.map((p) => p.request('close')));
    }

    return {
      provider: 'tcp',
      sstRoundTrip8B: sst8,
      sstRoundTrip1KiB: sst1k,
      rawRoundTrip8B: raw8,
      rawRoundTrip1KiB: raw1k,
      sstBusyRoundTrip8B: busy8,
      sstBusyRoundTrip1KiB: busy1k,
      sstToRawLatency8B: skipLatency ? 0 : round(sst8.medianUs / raw8.medianUs),
      sstToRawLatency1KiB: skipLatency ? 0 : round(sst1k.medianUs / raw1k.medianUs),
      sstBusyToRawLatency8B: skipLatency ? 0 : round(busy8.medianUs / raw8.medianUs),
      sstBusyToRawLatency1KiB: skipLatency ? 0 : round(busy1k.medianUs / raw1k.medianUs),
      rdmcBytes,
      rdmcBlockBytes,
      rdmcReceiverGBps,
      rawStreamGBps,
      rdmcToRaw: rawStreamGBps > 0 ? round(Math.min(...rdmcReceiverGBps) / rawStreamGBps) : 0,
      sstPutsPerSecond,
      sstBatchedPutsPerSecond,
      sstPutCount: putCount,
    };
  } finally {
    for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
  }
}
