/**
 * Swarm testing of the multicast core: each seed draws a whole scenario (group size, subgroups and
 * shards, delivery modes, window and SMC/RDMC sizes, send pattern, network delays, bandwidth,
 * slow and paused members) and runs it in the simulator under the invariant checkers. A failing
 * seed replays exactly: `node --conditions=@derecho-ts/source --import tsx
 * packages/runtime/src/sim/replay.ts --seed N` prints its trace.
 */
import type { DeliveryMode, ShardLayout, SubgroupLayout, ViewLayout } from '../core/view.js';
import { MulticastChecker } from './checkers.js';
import type { NetworkOptions } from './network.js';
import { Prng } from './prng.js';
import { SimCluster } from './sim-cluster.js';

export interface ScenarioSend {
  readonly atUs: number;
  readonly row: number;
  readonly subgroup: number;
  readonly payload: Uint8Array;
  readonly cooked: boolean;
}

export interface Scenario {
  readonly seed: number;
  readonly view: Omit<ViewLayout, 'myRank'>;
  readonly network: NetworkOptions;
  readonly processingDelayUs: readonly number[];
  readonly persistDelayUs: readonly [number, number];
  readonly sends: readonly ScenarioSend[];
  readonly pauses: readonly { atUs: number; row: number; durationUs: number }[];
  /** When set, every member wedges (around this time): the view ends mid-traffic. */
  readonly wedges: readonly { atUs: number; row: number }[];
  readonly tickUntilUs: number;
}

const MODES: readonly DeliveryMode[] = ['ordered', 'persistent', 'unordered'];

/** Draws a scenario from a seed; the same seed always gives the same scenario. */
export function generateScenario(seed: number): Scenario {
  const prng = new Prng(seed);
  const n = prng.int(2, 7);
  const nodeIds = new Set<number>();
  while (nodeIds.size < n) nodeIds.add(prng.int(0, 999));
  const members = prng.shuffle([...nodeIds]);

  const subgroups: SubgroupLayout[] = [];
  const numSubgroups = prng.int(1, 3);
  for (let g = 0; g < numSubgroups; g++) {
    const numShards = prng.int(1, Math.min(3, n));
    const rows = prng.shuffle(members.map((_, r) => r));
    const shardRows: number[][] = Array.from({ length: numShards }, (_, s) => [rows[s]]);
    for (const r of rows.slice(numShards)) if (prng.chance(0.85)) shardRows[prng.int(0, numShards - 1)].push(r);
    const shards: ShardLayout[] = shardRows.map((rs) => {
      const mode = prng.pick(MODES);
      const noSenders = prng.chance(0.05);
      const senders = rs.map(() => !noSenders && prng.chance(0.7));
      return { members: rs.map((r) => members[r]), senders, mode };
    });
    const maxSmcPayloadBytes = prng.pick([0, 8, 24, 64, 100]);
    const maxPayloadBytes = maxSmcPayloadBytes + prng.pick([0, 40, 300, 2000]);
    subgroups.push({ shards, params: { windowSize: prng.int(1, 6), maxSmcPayloadBytes, maxPayloadBytes } });
  }
  const view: Omit<ViewLayout, 'myRank'> = { vid: prng.int(0, 5), members, subgroups };

  const sendPhaseUs = prng.int(200, 20_000);
  const burst = prng.chance(0.2);
  const sends: ScenarioSend[] = [];
  for (let g = 0; g < numSubgroups; g++) {
    const { params } = subgroups[g];
    for (const shard of subgroups[g].shards) {
      shard.members.forEach((node, i) => {
        if (!shard.senders[i]) return;
        const row = members.indexOf(node);
        const cookedShare = shard.mode === 'unordered' ? 0 : 0.3;
        const count = prng.chance(0.15) ? prng.int(20, 60) : prng.int(0, 15);
        for (let c = 0; c < count; c++) {
          const large = params.maxPayloadBytes > params.maxSmcPayloadBytes && prng.chance(0.25);
          const size = large ? prng.int(params.maxSmcPayloadBytes + 1, params.maxPayloadBytes) : prng.int(0, params.maxSmcPayloadBytes);
          const payload = new Uint8Array(size);
          for (let b = 0; b < size; b++) payload[b] = prng.int(0, 255);
          sends.push({ atUs: burst ? prng.int(0, 50) : prng.int(0, sendPhaseUs), row, subgroup: g, payload, cooked: prng.chance(cookedShare) });
        }
      });
    }
  }

  const network: NetworkOptions = {
    baseDelayUs: prng.int(1, 40),
    jitterUs: prng.pick([0, 5, 50, 300]),
    bandwidthBytesPerUs: prng.pick([1, 10, 100, 1000]),
    slowness: members.map(() => (prng.chance(0.15) ? prng.int(5, 20) : 1)),
  };
  const processingDelayUs = members.map(() => (prng.chance(0.15) ? prng.int(50, 500) : prng.int(0, 10)));
  const pauses: { atUs: number; row: number; durationUs: number }[] = [];
  if (prng.chance(0.4)) {
    const count = prng.int(1, 3);
    for (let i = 0; i < count; i++) pauses.push({ atUs: prng.int(0, sendPhaseUs), row: prng.int(0, n - 1), durationUs: prng.int(100, 20_000) });
  }
  const persistDelayUs: [number, number] = prng.chance(0.5) ? [1, 50] : [100, 5000];
  const wedges: { atUs: number; row: number }[] = [];
  if (prng.chance(0.12)) {
    const atUs = prng.int(0, sendPhaseUs);
    members.forEach((_, row) => wedges.push({ atUs: atUs + prng.int(0, 500), row }));
  }
  return { seed, view, network, processingDelayUs, persistDelayUs, sends, pauses, wedges, tickUntilUs: sendPhaseUs + 5000 };
}

export function describeScenario(s: Scenario): string {
  const lines = [`seed ${s.seed}: vid ${s.view.vid}, members [${s.view.members.join(', ')}] (row = position)`];
  s.view.subgroups.forEach((sub, g) => {
    const p = sub.params;
    lines.push(`  subgroup ${g}: window ${p.windowSize}, smc <= ${p.maxSmcPayloadBytes}B, max ${p.maxPayloadBytes}B`);
    sub.shards.forEach((sh, i) => lines.push(`    shard ${i} ${sh.mode}: ${sh.members.map((m, j) => `${m}${sh.senders[j] ? '*' : ''}`).join(' ')}  (* = sender)`));
  });
  const n = s.network;
  lines.push(`  network: delay ${n.baseDelayUs}us + jitter ${n.jitterUs}us, ${n.bandwidthBytesPerUs} B/us, slowness [${n.slowness?.join(',')}]`);
  lines.push(`  processing delay [${s.processingDelayUs.join(',')}]us, persist ${s.persistDelayUs[0]}..${s.persistDelayUs[1]}us`);
  lines.push(`  ${s.sends.length} sends (${s.sends.filter((x) => x.payload.length > s.view.subgroups[x.subgroup].params.maxSmcPayloadBytes).length} via RDMC), pauses: ${s.pauses.map((p) => `r${p.row}@${p.atUs}+${p.durationUs}`).join(' ') || 'none'}`);
  if (s.wedges.length > 0) lines.push(`  wedges: ${s.wedges.map((w) => `r${w.row}@${w.atUs}`).join(' ')}`);
  return lines.join('\n');
}

export interface SwarmOptions {
  /** Receives the run's trace, line by line. */
  readonly trace?: (line: string) => void;
  readonly maxEvents?: number;
}

export interface SwarmResult {
  readonly seed: number;
  readonly events: number;
  readonly sends: number;
  readonly deliveries: number;
  readonly pushes: number;
  readonly rdmcSends: number;
  readonly virtualUs: number;
}

/** Error for a failing seed; its message says how to replay it. */
export class SwarmSeedFailure extends Error {
  override readonly name = 'SwarmSeedFailure';
  constructor(
    readonly seed: number,
    override readonly cause: unknown,
    readonly atUs: number,
  ) {
    super(
      `swarm seed ${seed} failed at ${atUs}us: ${cause instanceof Error ? cause.message : String(cause)}\n` +
        `  replay: node --conditions=@derecho-ts/source --import tsx packages/runtime/src/sim/replay.ts --seed ${seed}`,
    );
  }
}

function applyRaggedTrim(scenario: Scenario, cluster: SimCluster): void {
  const { view } = scenario;
  view.subgroups.forEach((sub, g) => {
    for (const shard of sub.shards) {
      const rows = shard.members.map((n) => view.members.indexOf(n));
      const numSenders = shard.senders.filter(Boolean).length;
      const trim = Array.from({ length: numSenders }, (_, k) => Math.min(...rows.map((r) => cluster.core(r).receivedThrough(g, k))));
      for (const r of rows) cluster.inject(r, { kind: 'deliverTrim', subgroup: g, throughIndex: trim });
    }
  });
}

/** Runs one seed's scenario to quiescence under the checkers; throws SwarmSeedFailure on any violation. */
export function runSwarmSeed(seed: number, options: SwarmOptions = {}): SwarmResult {
  const scenario = generateScenario(seed);
  const checker = new MulticastChecker(scenario.view);
  const cluster = new SimCluster({
    view: scenario.view,
    network: scenario.network,
    prng: new Prng(seed).fork(),
    processingDelayUs: scenario.processingDelayUs,
    persistDelayUs: scenario.persistDelayUs,
    tickUntilUs: scenario.tickUntilUs,
    observer: checker,
    trace: options.trace,
    maxEvents: options.maxEvents,
  });
  checker.attach(cluster);
  for (const s of scenario.sends) cluster.scheduleSend(s.atUs, s.row, s.subgroup, s.payload, s.cooked);
  for (const p of scenario.pauses) cluster.schedulePause(p.atUs, p.row, p.durationUs);
  for (const w of scenario.wedges) cluster.scheduleWedge(w.atUs, w.row);
  try {
    cluster.run();
    if (scenario.wedges.length > 0) {
      // The view-change step this core is ready for: per shard, trim each sender at the minimum
      // over the members' (now frozen) num_received, and have everyone deliver exactly that.
      checker.beginTrim();
      applyRaggedTrim(scenario, cluster);
      cluster.run();
      checker.checkWedgedQuiescent();
    } else {
      checker.checkQuiescent();
    }
  } catch (e) {
    throw new SwarmSeedFailure(seed, e, cluster.nowUs);
  }
  return {
    seed,
    events: cluster.eventsRun,
    sends: scenario.sends.length,
    deliveries: checker.deliveries,
    pushes: cluster.pushesSent,
    rdmcSends: cluster.rdmcSent,
    virtualUs: cluster.nowUs,
  };
}
