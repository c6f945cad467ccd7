/** `derecho-examples demo iot`: the smart-memory service on 4 local processes (3 replicas + a dashboard). */
import { childScriptArgs } from '@derecho-ts/rdma-native';
import { runLocalGroup } from '../local/local-group.js';
import { IOT_REPLICAS, type IotStep, type IotTask } from './scenario.js';

export const IOT_NODES = IOT_REPLICAS + 1;

export function runIot(options: { logLevel?: string; timeoutMs?: number } = {}): Promise<IotStep[][]> {
  return runLocalGroup<IotTask, IotStep>({
    script: childScriptArgs(import.meta.url, './member'),
    numNodes: IOT_NODES,
    task: (_id, config) => ({ config, numNodes: IOT_NODES }),
    steps: 2,
    logLevel: options.logLevel ?? 'error',
    timeoutMs: options.timeoutMs,
  });
}

export async function iotDemo(out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  out(`derecho-examples demo iot: a smart-memory service replicated on ${IOT_REPLICAS} processes, and a dashboard process`);
  const steps = await runIot();
  steps.forEach((members, step) => {
    out(`-- step ${step + 1}: ${step === 0 ? 'readings stream in' : 'alerts and models, from each replica and from outside'}`);
    for (const m of members) for (const line of m.lines) out(`[node ${m.node}] ${line}`);
  });
  const alerts = steps[1].filter((m) => m.alerts !== undefined).map((m) => JSON.stringify(m.alerts));
  const agreed = new Set(alerts).size === 1;
  out(agreed ? 'derecho-examples demo iot: every replica raised the same alerts at the same versions' : 'derecho-examples demo iot: replicas disagree');
  return agreed ? 0 : 1;
}
