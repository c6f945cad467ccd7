/**
 * One member of the Foo/Bar demo (Derecho's simple_replicated_objects, reference §3.1): Foo's
 * shard is three members; the fourth holds Bar and also calls Foo as a non-member.
 *
 * Step 0: Foo's first two members change the state concurrently (to 1 and to 3) and its third
 * reads it in the total order; Bar's member appends and reads Foo point-to-point from outside.
 * Step 1: Foo's third member reads the state again (every replica answers the same); Bar's
 * member reads every Foo replica point-to-point, prints its log and clears it.
 */
import { Group, shards } from '@derecho-ts/runtime';
import { wireSchema } from '../derecho.generated.js';
import { showReplies, showStamp } from '../local/format.js';
import type { MemberConfig } from '../local/local-group.js';
import { runMember } from '../local/member.js';
import { Bar, Foo } from './objects.js';

export interface FooBarTask {
  readonly config: MemberConfig;
  readonly numNodes: number;
}

export interface FooBarStep {
  readonly node: number;
  readonly role: string;
  readonly lines: string[];
  /** changeState(value) -> replies, by node; version of the call. */
  readonly changed?: { value: number; replies: Record<string, boolean>; version: string };
  /** readState replies by node (ordered) or reads by node (p2p). */
  readonly reads?: Record<string, number>;
  readonly barLog?: string;
}

interface Context {
  readonly group: Group;
  readonly role: 'foo' | 'bar';
  readonly rank: number;
  readonly fooMembers: readonly number[];
}

const record = (m: ReadonlyMap<number, unknown>) => Object.fromEntries([...m].map(([k, v]) => [String(k), v]));

runMember<FooBarTask, Context>(
  async (task) => {
    const group = await Group.join({
      config: task.config,
      schema: wireSchema,
      subgroups: [
        { type: Foo, layout: shards({ minNodes: 3 }) },
        { type: Bar, layout: shards({ minNodes: 1 }) },
      ],
      minMembers: task.numNodes,
    });
    const fooMembers = group.peer(Foo, { shard: 0 }).members;
    const rank = fooMembers.indexOf(group.nodeId);
    return { group, role: rank >= 0 ? 'foo' : 'bar', rank, fooMembers };
  },
  [
    async (_task, { group, role, rank, fooMembers }): Promise<FooBarStep> => {
      const me = group.nodeId;
      const lines: string[] = [];
      if (role === 'foo' && rank < 2) {
        const value = rank === 0 ? 1 : 3;
        const results = group.subgroup(Foo).ordered.changeState(value);
        const replies = await results.all();
        const version = await results.version;
        lines.push(`Foo rank ${rank}: changeState(${value}) -> ${showReplies(replies)} (${showStamp(version, await results.hlc)})`);
        return { node: me, role: `Foo rank ${rank}`, lines, changed: { value, replies: record(replies) as Record<string, boolean>, version: String(version) } };
      }
      if (role === 'foo') {
        const results = group.subgroup(Foo).ordered.readState();
        const replies = await results.all();
        lines.push(`Foo rank ${rank}: readState() in the total order -> ${showReplies(replies)} (${showStamp(await results.version, await results.hlc)})`);
        return { node: me, role: `Foo rank ${rank}`, lines, reads: record(replies) as Record<string, number> };
      }
      const bar = group.subgroup(Bar);
      const appended = bar.ordered.append(`Hello from node ${me}. `);
      const delivered = await appended.all();
      lines.push(`Bar: append() delivered to ${[...delivered.keys()].join(', ')} at ${showStamp(await appended.version, await appended.hlc)}`);
      const seen = await group.peer(Foo, { shard: 0 }).p2p(fooMembers[0]).readState();
      lines.push(`Bar (not a Foo member): p2p readState() at Foo node ${fooMembers[0]} -> ${seen} (before or between the changes)`);
      return { node: me, role: 'Bar', lines };
    },
    async (_task, { group, role, rank, fooMembers }): Promise<FooBarStep> => {
      const me = group.nodeId;
      const lines: string[] = [];
      if (role === 'foo') {
        if (rank !== 2) return { node: me, role: `Foo rank ${rank}`, lines };
        const results = group.subgroup(Foo).ordered.readState();
        const replies = await results.all();
        lines.push(`Foo rank ${rank}: readState() after both changes -> ${showReplies(replies)} (every replica applied the same order)`);
        return { node: me, role: `Foo rank ${rank}`, lines, reads: record(replies) as Record<string, number> };
      }
      const foo = group.peer(Foo, { shard: 0 });
      const reads = new Map(await Promise.all(fooMembers.map(async (n) => [n, await foo.p2p(n).readState()] as const)));
      lines.push(`Bar (not a Foo member): p2p readState() at each Foo replica -> ${showReplies(reads)}`);
      const bar = group.subgroup(Bar);
      const barLog = await bar.ordered.print().first();
      lines.push(`Bar: print() -> ${JSON.stringify(barLog)}`);
      await bar.ordered.clear().all();
      lines.push(`Bar: clear() -> ${JSON.stringify(await bar.ordered.print().first())}`);
      return { node: me, role: 'Bar', lines, reads: record(reads) as Record<string, number>, barLog };
    },
  ],
  ({ group }) => group.close(),
);
