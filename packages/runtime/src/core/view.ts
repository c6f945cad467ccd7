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

/**
 * Multicast parameters of one subgroup (Derecho's per-profile `window_size`, `max_payload_size`,
 * `max_smc_payload_size`). Payloads up to `maxSmcPayloadBytes` travel through SST slots (SMC);
 * larger ones, up to `maxPayloadBytes`, through RDMC. Both share one sequence space.
 */
export interface MulticastParams {
  readonly windowSize: number;
  readonly maxPayloadBytes: number;
  readonly maxSmcPayloadBytes: number;
}

/** One subgroup in one view: its shards (a node is in at most one) and its multicast parameters. */
export interface SubgroupLayout {
  readonly shards: readonly ShardLayout[];
  readonly params: MulticastParams;
}

/**
 * Everything the multicast core needs to know about one view. `members[r]` is the node id of SST
 * row r; `myRank` is this node's row. Subgroup ids are the indices of `subgroups`.
 */
export interface ViewLayout {
  readonly vid: number;
  readonly members: readonly number[];
  readonly myRank: number;
  readonly subgroups: readonly SubgroupLayout[];
}

/** Where this node sits in one subgroup, or undefined when it is in none of its shards. */
export interface MyShard {
  readonly shardIndex: number;
  readonly shard: ShardLayout;
  /** Rank within `shard.members`. */
  readonly shardRank: number;
}

export function findMyShard(view: ViewLayout, subgroup: number): MyShard | undefined {
  const me = view.members[view.myRank];
  const shards = view.subgroups[subgroup]?.shards ?? [];
  for (let shardIndex = 0; shardIndex < shards.length; shardIndex++) {
    const shardRank = shards[shardIndex].members.indexOf(me);
    if (shardRank >= 0) return { shardIndex, shard: shards[shardIndex], shardRank };
  }
  return undefined;
}

function isIntIn(x: unknown, lo: number, hi: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi;
}

/**
 * Checks a view layout and throws an Error naming the offending field. Layouts come from the
 * allocator and the membership protocol, but a malformed one would corrupt every SST row offset,
 * so it is checked where the SST is laid out.
 */
export function validateViewLayout(view: ViewLayout): void {
  if (!isIntIn(view.vid, 0, 0x7fffffff)) throw new Error(`view.vid must be an integer in [0, 2^31), got ${String(view.vid)}`);
  if (!Array.isArray(view.members) || view.members.length === 0) throw new Error(`view.members must be a non-empty array of node ids, got ${JSON.stringify(view.members)}`);
  const seen = new Set<number>();
  for (const [r, id] of view.members.entries()) {
    if (!isIntIn(id, 0, 0xffffffff)) throw new Error(`view.members[${r}] must be a u32 node id, got ${String(id)}`);
    if (seen.has(id)) throw new Error(`view.members[${r}]: node id ${id} appears twice`);
    seen.add(id);
  }
  if (!isIntIn(view.myRank, 0, view.members.length - 1)) throw new Error(`view.myRank must be a row index in [0, ${view.members.length - 1}], got ${String(view.myRank)}`);
  for (const [g, sub] of view.subgroups.entries()) {
    const p = sub.params;
    if (!isIntIn(p.windowSize, 1, 1 << 16)) throw new Error(`subgroups[${g}].params.windowSize must be an integer in [1, 65536], got ${String(p.windowSize)}`);
    if (!isIntIn(p.maxSmcPayloadBytes, 0, 1 << 20)) throw new Error(`subgroups[${g}].params.maxSmcPayloadBytes must be an integer in [0, 1 MiB], got ${String(p.maxSmcPayloadBytes)}`);
    if (!isIntIn(p.maxPayloadBytes, p.maxSmcPayloadBytes, 0x7fffffff)) {
      throw new Error(`subgroups[${g}].params.maxPayloadBytes must be an integer >= maxSmcPayloadBytes (${p.maxSmcPayloadBytes}), got ${String(p.maxPayloadBytes)}`);
    }
    if (sub.shards.length === 0) throw new Error(`subgroups[${g}].shards must not be empty`);
    const inSubgroup = new Set<number>();
    for (const [s, shard] of sub.shards.entries()) {
      const where = `subgroups[${g}].shards[${s}]`;
      if (shard.members.length === 0) throw new Error(`${where}.members must not be empty`);
      if (shard.senders.length !== shard.members.length) {
        throw new Error(`${where}.senders must have one flag per member (${shard.members.length}), got ${shard.senders.length}`);
      }
      if (shard.mode !== 'ordered' && shard.mode !== 'unordered' && shard.mode !== 'persistent') {
        throw new Error(`${where}.mode must be 'ordered', 'unordered' or 'persistent', got ${JSON.stringify(shard.mode)}`);
      }
      for (const id of shard.members) {
        if (!seen.has(id)) throw new Error(`${where}.members: node ${id} is not a member of view ${view.vid}`);
        if (inSubgroup.has(id)) throw new Error(`${where}.members: node ${id} is already in another shard of subgroup ${g}`);
        inSubgroup.add(id);
      }
    }
  }
}
