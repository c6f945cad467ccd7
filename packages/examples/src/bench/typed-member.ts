/**
 * A member of `derecho-examples bench typed`: joins a shard of RpcProbe, waits for the start signal, then
 * (if it is a sender) issues its ordered `sink(bytes)` calls as fast as the window allows, and
 * reports when it has applied every sender's calls.
 */
import { customShards, Group } from '@derecho-ts/runtime';
import { wireSchema } from '../derecho.generated.js';
import type { MemberConfig } from '../local/local-group.js';
import { runMember } from '../local/member.js';
import { RpcProbe } from '../testing/rpc-probe.js';

export interface TypedTask {
  readonly config: MemberConfig;
  readonly memberIds: readonly number[];
  readonly senderIds: readonly number[];
  readonly count: number;
  readonly payloadBytes: number;
  /** Call sinkAck (every member replies) instead of sink (void, no replies). */
  readonly replies?: boolean;
}

export interface TypedResult {
  readonly node: number;
  readonly applied: number;
  readonly elapsedNs: number;
  /** CPU time this process used from the start to its last applied call (load-independent cost). */
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  /** With replies: from the start until this sender had every member's reply to its last call
   *  (replies from one member come in its delivery order, so that means all of them). */
  readonly repliedNs?: number;
}

interface Context {
  readonly group: Group;
  /** Resolves with the time the last expected call was applied. */
  readonly done: Promise<bigint>;
}

runMember<TypedTask, Context>(
  async (task) => {
    const expected = task.count * task.senderIds.length;
    let finished!: (atNs: bigint) => void;
    const done = new Promise<bigint>((resolve) => (finished = resolve));
    const layout = customShards([{ minNodes: task.memberIds.length, maxNodes: task.memberIds.length, mode: 'ordered', reservedNodeIds: task.memberIds, reservedSenderIds: task.senderIds }]);
    const group = await Group.join({
      config: task.config,
      schema: wireSchema,
      subgroups: [{ type: RpcProbe, layout, factory: ({ nodeId }) => new RpcProbe(nodeId, (n) => n === expected && finished(process.hrtime.bigint())) }],
      minMembers: task.memberIds.length,
    });
    return { group, done };
  },
  [
    async () => 'ready',
    async (task, { group, done }): Promise<TypedResult> => {
      const probe = group.subgroup(RpcProbe);
      const startNs = process.hrtime.bigint();
      const startCpu = process.cpuUsage();
      let last: Promise<Map<number, number>> | undefined;
      if (task.senderIds.includes(group.nodeId)) {
        const payload = new Uint8Array(task.payloadBytes).fill(7);
        for (let i = 0; i < task.count; i++) {
          if (probe.queued >= 256) await probe.whenWritable(64);
          if (task.replies) {
            const results = probe.ordered.sinkAck(payload);
            if (i === task.count - 1) last = results.all();
          } else probe.ordered.sink(payload);
        }
      }
      let repliedNs: number | undefined;
      if (last !== undefined) {
        const replies = await last;
        if (replies.size !== task.memberIds.length) throw new Error(`the last call has ${replies.size} replies, expected ${task.memberIds.length}`);
        repliedNs = Number(process.hrtime.bigint() - startNs);
      }
      const endNs = await done;
      const cpu = process.cpuUsage(startCpu);
      return { node: group.nodeId, applied: task.count * task.senderIds.length, elapsedNs: Number(endNs - startNs), cpuUserUs: cpu.user, cpuSystemUs: cpu.system, repliedNs };
    },
  ],
  ({ group }) => group.close(),
);
