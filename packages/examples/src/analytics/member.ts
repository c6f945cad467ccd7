/**
 * One member of the analytics demo: a sensor store of two shards of two replicas (SensorShard in
 * ordered shards: its versions are kept in memory) and one member outside it, the analytics
 * service and the reducer of MapReduce jobs.
 *
 * Step 0: the first replica of each shard is the gateway of that shard's sensors: it records a
 * round of their readings every ROUND_MS (ordered calls). Meanwhile the analytics member asks the
 * whole store, over and over, how many readings each shard holds: through a snapshot (twice, the
 * same instant), and live; then it runs one MapReduce job twice over one snapshot, with the map
 * tasks on different replicas each time, reducing through ordered calls to its Reducer; last, it
 * reads back every shard's versions with `history()` to judge the answers.
 * Step 1: everyone reports.
 */
import { Group, shards } from '@derecho-ts/runtime';
import { wireSchema } from '../derecho.generated.js';
import { runMember } from '../local/member.js';
import { Reducer } from './reducer.js';
import { ANALYTICS_REPLICAS, ANALYTICS_SHARDS, INGEST_MS, ROUND_MS, sensorsOf, valueOf, type AnalyticsStep, type AnalyticsTask, type Delivery, type ShardCounts } from './scenario.js';
import { SensorShard, type Tally } from './sensor-shard.js';

interface Context {
  readonly group: Group;
  /** My shard of the store (-1: the analytics member). */
  readonly shard: number;
  readonly gateway: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowUs = () => Date.now() * 1000;

async function ingest(group: Group, shard: number): Promise<number> {
  const store = group.subgroup(SensorShard);
  const pending: Promise<unknown>[] = [];
  let sent = 0;
  for (let round = 0; round < INGEST_MS / ROUND_MS; round++) {
    const atUs = nowUs();
    const readings = sensorsOf(shard).map((sensor, i) => ({ sensor, atUs, value: valueOf(i, round) }));
    pending.push(store.ordered.record(readings).all());
    sent += readings.length;
    await sleep(ROUND_MS);
  }
  await Promise.all(pending);
  return sent;
}

async function analyze(group: Group): Promise<AnalyticsStep> {
  const store = Array.from({ length: ANALYTICS_SHARDS }, (_, shard) => group.peer(SensorShard, { shard }));
  const count = async (read: (shard: number) => Promise<{ tally: Tally }>): Promise<number[]> => {
    const out: number[] = [];
    for (let shard = 0; shard < store.length; shard++) {
      out.push((await read(shard)).tally.count);
      await sleep(3); // a dashboard asking shard after shard
    }
    return out;
  };
  const snapshots: { first: ShardCounts; again: ShardCounts }[] = [];
  const live: ShardCounts[] = [];
  await sleep(200);
  const queriesEndUs = nowUs() + (INGEST_MS - 800) * 1000;
  // A busy machine can hold a shard's stability frontier back for a while: wait for it generously.
  const waitMs = 30_000;
  while (nowUs() < queriesEndUs) {
    const cut = group.snapshot(undefined, { waitMs });
    const viaCut = (shard: number) => cut.peer(SensorShard, { shard }).p2p().tallyThrough(Number.MAX_SAFE_INTEGER);
    snapshots.push({ first: { atUs: cut.time.wallUs, counts: await count(viaCut) }, again: { atUs: cut.time.wallUs, counts: await count(viaCut) } });
    live.push({ counts: await count((shard) => store[shard].p2p().tallyThrough(Number.MAX_SAFE_INTEGER)) });
  }
  // MapReduce over one snapshot, twice: map tasks split each shard's sensors over its replicas.
  const cut = group.snapshot(undefined, { waitMs });
  const reducer = group.subgroup(Reducer);
  const runs: Record<string, Tally>[] = [];
  for (const run of [0, 1]) {
    const job = `sensors-${cut.time.wallUs}-run${run}`;
    await Promise.all(
      store.flatMap((peer, shard) =>
        peer.members.map(async (_node, part) => {
          const replica = peer.members[(part + run) % peer.members.length];
          const partial = await cut.peer(SensorShard, { shard }).p2p(replica).mapSensors(part, peer.members.length);
          await reducer.ordered.submit(job, `shard${shard}-part${part}`, partial).all();
        }),
      ),
    );
    runs.push((await reducer.p2p(group.nodeId).result(job))!.sensors);
  }
  // When each shard got what: its versions, read back through history().
  await sleep(INGEST_MS);
  const deliveries: Delivery[][] = [];
  for (const peer of store) {
    const versions = await peer.p2p().history({ limit: 100_000 }).heldCount();
    deliveries.push(versions.map((v, i) => ({ count: v.value - (i === 0 ? 0 : versions[i - 1].value), wallUs: v.hlc.wallUs, logical: v.hlc.logical })));
  }
  const held = deliveries.map((d) => d.reduce((n, x) => n + x.count, 0));
  return {
    node: group.nodeId,
    role: 'analytics',
    lines: [`analytics: ${snapshots.length} snapshot queries (each asked twice), ${live.length} live queries, one MapReduce job run twice over snapshot ${cut.time.wallUs}; the shards hold ${held.join(' and ')} readings`],
    deliveries,
    snapshots,
    live,
    mapReduce: { atUs: cut.time.wallUs, runs },
  };
}

runMember<AnalyticsTask, Context>(
  async (task) => {
    const group = await Group.join({
      config: task.config,
      schema: wireSchema,
      subgroups: [
        { type: SensorShard, layout: shards({ count: ANALYTICS_SHARDS, minNodes: ANALYTICS_REPLICAS }) },
        { type: Reducer, layout: shards({ minNodes: 1 }) },
      ],
      minMembers: task.numNodes,
    });
    const members = Array.from({ length: ANALYTICS_SHARDS }, (_, s) => group.peer(SensorShard, { shard: s }).members);
    const shard = members.findIndex((m) => m.includes(group.nodeId));
    return { group, shard, gateway: shard >= 0 && members[shard][0] === group.nodeId };
  },
  [
    async (_task, { group, shard, gateway }): Promise<AnalyticsStep> => {
      if (shard < 0) return analyze(group);
      if (!gateway) return { node: group.nodeId, role: `shard ${shard} replica`, lines: [] };
      const sent = await ingest(group, shard);
      return { node: group.nodeId, role: `shard ${shard} gateway`, lines: [`gateway of shard ${shard}: recorded ${sent} readings in ${INGEST_MS / ROUND_MS} rounds`], readingsSent: sent };
    },
    async (_task, { group, shard }): Promise<AnalyticsStep> => ({ node: group.nodeId, role: shard < 0 ? 'analytics' : `shard ${shard}`, lines: [] }),
  ],
  ({ group }) => group.close(),
);
