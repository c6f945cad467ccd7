/**
 * `derecho-examples demo` (`npm start`): Derecho's simple replicated objects demo on a
 * local group of four processes; prints what each member saw.
 */
import { childScriptArgs } from '@derecho-ts/rdma-native';
import { runLocalGroup } from '../local/local-group.js';
import type { FooBarStep, FooBarTask } from './member.js';

export const FOO_BAR_NODES = 4;

export async function runFooBar(options: { logLevel?: string; timeoutMs?: number } = {}): Promise<FooBarStep[][]> {
  return runLocalGroup<FooBarTask, FooBarStep>({
    script: childScriptArgs(import.meta.url, './member'),
    numNodes: FOO_BAR_NODES,
    task: (_id, config) => ({ config, numNodes: FOO_BAR_NODES }),
    steps: 2,
    logLevel: options.logLevel ?? 'error',
    timeoutMs: options.timeoutMs,
  });
}

export async function fooBarDemo(out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  out(`derecho-examples demo: Foo and Bar replicated objects on ${FOO_BAR_NODES} processes on 127.0.0.1 (Foo: 3 replicas, Bar: 1)`);
  const steps = await runFooBar();
  steps.forEach((members, step) => {
    out(`-- step ${step + 1}: ${step === 0 ? 'two concurrent changeState calls, an ordered read, a non-member p2p read' : 'reads after the changes, from members and from outside'}`);
    for (const m of members) for (const line of m.lines) out(`[node ${m.node}] ${line}`);
  });
  const finals = steps[1].flatMap((m) => Object.values(m.reads ?? {}));
  const agreed = new Set(finals).size === 1;
  out(agreed ? `derecho-examples demo: every replica ended with state ${finals[0]}` : `derecho-examples demo: replicas disagree: ${finals.join(', ')}`);
  return agreed ? 0 : 1;
}
