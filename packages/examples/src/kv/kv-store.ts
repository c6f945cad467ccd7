/**
 * A sharded key-value store: each shard replicates the keys that hash to it. Writes are ordered
 * calls inside the shard; reads are p2p to one replica. Clients outside the shard (any member of
 * the group) write through `submitPut`, a p2p method whose replica turns it into an ordered call,
 * as Derecho's external clients do.
 */
import { currentVersion, Ordered, P2P, Replicated, type QueryResults } from '@derecho-ts/runtime';

export interface PutResult {
  /** The version the write created (identical at every replica of the shard). */
  version: bigint;
  /** The value the key had before, if any. */
  previous?: string;
}

/** What a replica needs to forward writes: its own shard's ordered `put`. */
export type OrderedPut = (key: string, value: string) => QueryResults<PutResult>;

@Replicated()
export class KVStore {
  private readonly data = new Map<string, string>();

  /**
   * `forward` is how `submitPut` reaches the shard's ordered `put` (set by the factory; it may
   * have to wait until this member's Group.join has returned).
   */
  constructor(private readonly forward?: () => OrderedPut | Promise<OrderedPut>) {}

  @Ordered() put(key: string, value: string): PutResult {
    if (key.length === 0) throw new RangeError('put: the key must not be empty');
    const previous = this.data.get(key);
    this.data.set(key, value);
    return previous === undefined ? { version: currentVersion().version } : { version: currentVersion().version, previous };
  }

  @Ordered() remove(key: string): boolean {
    return this.data.delete(key);
  }

  @P2P() get(key: string): string | undefined {
    return this.data.get(key);
  }

  @Ordered() @P2P() size(): number {
    return this.data.size;
  }

  /** A client's write: ordered through this replica's shard, answered once every replica applied it. */
  @P2P() async submitPut(key: string, value: string): Promise<PutResult> {
    if (this.forward === undefined) throw new Error('this replica was built without a forwarder (use kvFactory)');
    const put = await this.forward();
    // all(), not first(): a client that reads right after must find the value at every replica.
    const replies = await put(key, value).all();
    return replies.values().next().value!;
  }
}
