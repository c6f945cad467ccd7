/** A member of `derecho-examples bench p2p-latency`: the caller times `count` blocking p2p ping() calls to the other member. */
import { Group, shards } from '@derecho-ts/runtime';
import { wireSchema } from '../derecho.generated.js';
import type { MemberConfig } from '../local/local-group.js';
import { runMember } from '../local/member.js';
import { RpcProbe } from '../testing/rpc-probe.js';

export interface P2PLatencyTask {
  readonly config: MemberConfig;
  readonly count: number;
}

export interface P2PLatencyResult {
  readonly node: number;
  readonly rttUs?: number[];
}

runMember<P2PLatencyTask, { group: Group }>(
  async (task) => ({ group: await Group.join({ config: task.config, schema: wireSchema, subgroups: [{ type: RpcProbe, layout: shards({ minNodes: 2 }) }], minMembers: 2 }) }),
  [
    async () => 'ready',
    async (task, { group }): Promise<P2PLatencyResult> => {
      if (group.nodeId !== 0) return { node: group.nodeId };
      const probe = group.subgroup(RpcProbe);
      const other = probe.members.find((n) => n !== group.nodeId)!;
      const stub = probe.p2p(other);
      for (let i = 0; i < Math.min(1000, task.count); i++) await stub.ping(); // warm-up
      const rttUs: number[] = [];
      for (let i = 0; i < task.count; i++) {
        const t0 = process.hrtime.bigint();
        await stub.ping();
        rttUs.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
      return { node: group.nodeId, rttUs };
    },
  ],
  ({ group }) => group.close(),
);
