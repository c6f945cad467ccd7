/** What the key-value demo does, shared by its members, its runner and its test. */
import type { MemberConfig } from '../local/local-group.js';
import { shardForKey } from './routing.js';

export const KV_SHARDS = 2;
export const KV_REPLICAS = 2;
export const CLIENT_KEYS = 40;
export const MEMBER_KEYS = 5;

export interface KvTask {
  readonly config: MemberConfig;
  readonly numNodes: number;
}

export interface KvStep {
  readonly node: number;
  readonly role: string;
  readonly lines: string[];
  /** Client, step 1: keys whose replicas disagree or lack the value written. */
  readonly problems?: string[];
  readonly keysChecked?: number;
  /** Client, step 0: what put('') (an invalid key) came back with. */
  readonly invalidPut?: { name: string; message: string };
  /** Client, step 1: size of each shard at each replica. */
  readonly sizes?: Record<string, Record<string, number>>;
}

/** The keys store member `node` of shard `shard` writes: the first MEMBER_KEYS that route to its shard. */
export function memberKeys(node: number, shard: number): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < MEMBER_KEYS; i++) if (shardForKey(`member-${node}-${i}`, KV_SHARDS) === shard) keys.push(`member-${node}-${i}`);
  return keys;
}

