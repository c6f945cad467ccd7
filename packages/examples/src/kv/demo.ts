/** `derecho-examples demo kv`: the sharded key-value store on 5 local processes (2 shards x 2 replicas + a client). */
import { childScriptArgs } from '@derecho-ts/rdma-native';
import { runLocalGroup } from '../local/local-group.js';
import { KV_REPLICAS, KV_SHARDS, type KvStep, type KvTask } from './scenario.js';

export const KV_NODES = KV_SHARDS * KV_REPLICAS + 1;

export function runKv(options: { logLevel?: string; timeoutMs?: number } = {}): Promise<KvStep[][]> {
  return runLocalGroup<KvTask, KvStep>({
    script: childScriptArgs(import.meta.url, './member'),
    numNodes: KV_NODES,
    task: (_id, config) => ({ config, numNodes: KV_NODES }),
    steps: 2,
    logLevel: options.logLevel ?? 'error',
    timeoutMs: options.timeoutMs,
  });
}

export async function kvDemo(out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  out(`derecho-examples demo kv: a key-value store in ${KV_SHARDS} shards of ${KV_REPLICAS} replicas, and a client, on ${KV_NODES} processes`);
  const steps = await runKv();
  steps.forEach((members, step) => {
    out(`-- step ${step + 1}: ${step === 0 ? 'writes' : 'reads from every replica'}`);
    for (const m of members) for (const line of m.lines) out(`[node ${m.node}] ${line}`);
  });
  const client = steps[1].find((m) => m.role === 'client');
  return client !== undefined && client.problems?.length === 0 ? 0 : 1;
}
