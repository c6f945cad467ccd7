/**
 * One member of the key-value demo: two shards of two replicas, plus one member outside the store
 * acting as a client (it routes each key to its shard with `group.peer`).
 *
 * Step 0: the client writes 40 keys through the shards' replicas (submitPut); each store member
 * writes keys of its own shard with ordered puts; the client tries an invalid (empty) key.
 * Step 1: the client reads every key back from every replica of its shard, and each shard's size.
 */
import { Group, RemoteError, shards } from '@derecho-ts/runtime';
import { wireSchema } from '../derecho.generated.js';
import { runMember } from '../local/member.js';
import { KvClient } from './client.js';
import { KVStore } from './kv-store.js';
import { CLIENT_KEYS, KV_REPLICAS, KV_SHARDS, memberKeys, type KvStep, type KvTask } from './scenario.js';

interface Context {
  readonly group: Group;
  /** My shard, or -1 for the client. */
  readonly shard: number;
  readonly client: KvClient;
}

runMember<KvTask, Context>(
  async (task) => {
    // Replicas are built while joining; their forwarder needs the joined group, so it waits for it.
    let joined!: (g: Group) => void;
    const ready = new Promise<Group>((resolve) => (joined = resolve));
    const group = await Group.join({
      config: task.config,
      schema: wireSchema,
      subgroups: [{ type: KVStore, layout: shards({ count: KV_SHARDS, minNodes: KV_REPLICAS }), factory: () => new KVStore(async () => (await ready).subgroup(KVStore).ordered.put) }],
      minMembers: task.numNodes,
    });
    joined(group);
    const client = new KvClient(group, KV_SHARDS);
    return { group, shard: client.members.findIndex((m) => m.includes(group.nodeId)), client };
  },
  [
    async (_task, { group, shard, client }): Promise<KvStep> => {
      const me = group.nodeId;
      const lines: string[] = [];
      if (shard < 0) {
        const writes = await Promise.all(Array.from({ length: CLIENT_KEYS }, (_, i) => client.put(`key-${i}`, `value-${i}`)));
        const perShard = [0, 1].map((s) => writes.filter((_, i) => client.shardOf(`key-${i}`) === s).length);
        lines.push(`client (in no shard): wrote ${CLIENT_KEYS} keys through the shards' replicas: ${perShard.map((c, s) => `${c} to shard ${s} (members ${client.members[s].join(', ')})`).join(', ')}`);
        const err = await client.put('', 'nothing').then(() => undefined, (e: unknown) => e);
        lines.push(`client: put('') -> ${err instanceof RemoteError ? `${err.name}: ${err.message}` : `unexpected ${String(err)}`}`);
        return { node: me, role: 'client', lines, invalidPut: err instanceof RemoteError ? { name: err.remoteName, message: err.remoteMessage } : undefined };
      }
      const kv = group.subgroup(KVStore);
      const keys = memberKeys(me, shard);
      const results = await Promise.all(keys.map((k) => kv.ordered.put(k, `from-${me}`).all()));
      lines.push(`shard ${shard} member: ordered put of ${keys.length} keys, each applied by ${[...results[0].keys()].sort().join(' and ')}`);
      return { node: me, role: `shard ${shard}`, lines };
    },
    async (_task, { group, shard, client }): Promise<KvStep> => {
      const me = group.nodeId;
      if (shard >= 0) return { node: me, role: `shard ${shard}`, lines: [] };
      const problems: string[] = [];
      const expected = new Map<string, string>();
      for (let i = 0; i < CLIENT_KEYS; i++) expected.set(`key-${i}`, `value-${i}`);
      client.members.forEach((members, s) => {
        for (const node of members) for (const k of memberKeys(node, s)) expected.set(k, `from-${node}`);
      });
      for (const [key, value] of expected) {
        const s = client.shardOf(key);
        const seen = await Promise.all(client.members[s].map((replica) => client.get(key, replica)));
        if (seen.some((v) => v !== value)) problems.push(`${key}: expected ${value} at every replica of shard ${s}, got ${seen.join(', ')}`);
      }
      const sizes: Record<string, Record<string, number>> = {};
      for (let s = 0; s < KV_SHARDS; s++) {
        const caller = group.peer(KVStore, { shard: s });
        sizes[s] = Object.fromEntries(await Promise.all(caller.members.map(async (n) => [String(n), await caller.p2p(n).size()] as const)));
      }
      const lines = [
        `client: read ${expected.size} keys back from every replica of their shard: ${problems.length === 0 ? 'all agree' : `${problems.length} problems`}`,
        `client: shard sizes by replica: ${Object.entries(sizes).map(([s, bySize]) => `shard ${s} ${JSON.stringify(bySize)}`).join(', ')}`,
      ];
      return { node: me, role: 'client', lines, problems, keysChecked: expected.size, sizes };
    },
  ],
  ({ group }) => group.close(),
);
