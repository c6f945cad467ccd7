/** `derecho-examples demo analytics`: a sharded sensor store on 4 processes, and analytics reading it whole while it ingests (a 5th). */
import { childScriptArgs } from '@derecho-ts/rdma-native';
import { runLocalGroup } from '../local/local-group.js';
import { consistent } from './judge.js';
import { ANALYTICS_NODES, ANALYTICS_REPLICAS, ANALYTICS_SHARDS, type AnalyticsStep, type AnalyticsTask } from './scenario.js';

export function runAnalytics(options: { logLevel?: string; timeoutMs?: number } = {}): Promise<AnalyticsStep[][]> {
  return runLocalGroup<AnalyticsTask, AnalyticsStep>({
    script: childScriptArgs(import.meta.url, './member'),
    numNodes: ANALYTICS_NODES,
    task: (_id, config) => ({ config, numNodes: ANALYTICS_NODES }),
    steps: 2,
    logLevel: options.logLevel ?? 'error',
    timeoutMs: options.timeoutMs ?? 90_000,
  });
}

/** What the demo shows, from the analytics member's step: counts the test asserts on too. */
export function judgeAnalytics(step: AnalyticsStep): { snapshots: number; snapshotsConsistent: number; repeatedIdentical: number; live: number; liveTorn: number; mapReduceIdentical: boolean } {
  const deliveries = step.deliveries!;
  const snapshots = step.snapshots!;
  const live = step.live!;
  return {
    snapshots: snapshots.length,
    snapshotsConsistent: snapshots.filter((s) => consistent(deliveries, s.first)).length,
    repeatedIdentical: snapshots.filter((s) => JSON.stringify(s.first.counts) === JSON.stringify(s.again.counts)).length,
    live: live.length,
    liveTorn: live.filter((q) => !consistent(deliveries, q)).length,
    mapReduceIdentical: JSON.stringify(step.mapReduce!.runs[0]) === JSON.stringify(step.mapReduce!.runs[1]),
  };
}

export async function analyticsDemo(out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  out(`derecho-examples demo analytics: sensor readings in ${ANALYTICS_SHARDS} shards of ${ANALYTICS_REPLICAS} replicas, and one gateway + analytics process`);
  const steps = await runAnalytics();
  for (const m of steps[0]) for (const line of m.lines) out(`[node ${m.node}] ${line}`);
  const step = steps[0].find((m) => m.deliveries !== undefined)!;
  const j = judgeAnalytics(step);
  out(`snapshot queries: ${j.snapshotsConsistent} of ${j.snapshots} are the store at one instant; ${j.repeatedIdentical} of ${j.snapshots} gave the same answer when asked again`);
  out(`live queries (shard after shard, no snapshot): ${j.liveTorn} of ${j.live} match no single instant (torn)`);
  out(`MapReduce over one snapshot, map tasks on other replicas the second time: ${j.mapReduceIdentical ? 'identical results' : 'DIFFERENT results'}`);
  const ok = j.snapshotsConsistent === j.snapshots && j.repeatedIdentical === j.snapshots && j.mapReduceIdentical;
  out(ok ? 'derecho-examples demo analytics: every snapshot was consistent and repeatable' : 'derecho-examples demo analytics: a snapshot was not consistent');
  return ok ? 0 : 1;
}
