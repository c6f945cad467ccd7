/**
 * The shape of a view as the protocol core sees it: who is in the group, and how the subgroups are
 * sharded. The layout allocator (`../layout`) produces the shards; membership assigns `vid`.
 */

/** How a shard delivers: total order, raw FIFO per sender, or total order plus durable versions. */
export type DeliveryMode = 'ordered' | 'unordered' | 'persistent';

/** One shard of one subgroup in one view. `senders[i]` says whether `members[i]` may multicast. */
export interface ShardLayout {
  readonly members: readonly number[];
  readonly senders: readonly boolean[];
  readonly mode: DeliveryMode;
  /**
   * Name of the multicast settings profile this shard uses (Derecho's `SUBGROUP/<profile>`); absent
   * means the deployment's default multicast settings.
   */
  readonly profile?: string;
}
