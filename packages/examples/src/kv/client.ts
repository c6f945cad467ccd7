/**
 * A key-value client for any member of the group, inside the store or not: it routes each key to
 * its shard and calls that shard's replicas point-to-point (`group.peer`).
 */
import type { Group, PeerCaller } from '@derecho-ts/runtime';
import { KVStore, type PutResult } from './kv-store.js';
import { shardForKey } from './routing.js';

export class KvClient {
  private readonly shards: PeerCaller<KVStore>[];

  constructor(group: Group, shardCount: number) {
    this.shards = Array.from({ length: shardCount }, (_, shard) => group.peer(KVStore, { shard }));
  }

  shardOf(key: string): number {
    return shardForKey(key, this.shards.length);
  }

  /** Replicated write: resolves once the key's whole shard applied it. */
  put(key: string, value: string): Promise<PutResult> {
    return this.shards[this.shardOf(key)].p2p().submitPut(key, value);
  }

  /** Read from one replica of the key's shard (its first member unless `replica` names another). */
  get(key: string, replica?: number): Promise<string | undefined> {
    return this.shards[this.shardOf(key)].p2p(replica).get(key);
  }

  /** Members of each shard. */
  get members(): (readonly number[])[] {
    return this.shards.map((s) => s.members);
  }
}
