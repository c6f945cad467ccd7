/**
 * Collects the ranges of my row that changed during one core step and turns them into push
 * outputs when the step ends.
 *
 * Why flush at the end and in column order: the driver snapshots the bytes of a range when it
 * handles the push output, i.e. after the step. If the core emitted "slots, index" for message 5
 * and later in the same step wrote message 6 and emitted "slots, index" again, the first index
 * push would already carry 6 and reach readers before slot 6. Ordering every step's pushes by a
 * fixed dependency rank (slot contents before the index that publishes them, and so on) makes
 * each reader observe a consistent prefix, which is what Derecho gets from ordered fenced writes.
 */
import type { PushOutput } from './core-io.js';
import type { ByteRange } from './sst-layout.js';

/** Lower ranks are pushed first. */
export const PUSH_RANK = {
  slots: 0,
  index: 1,
  numReceivedSst: 2,
  numReceived: 3,
  seqNum: 4,
  deliveredNum: 5,
  persistedNum: 6,
  localStabilityFrontier: 7,
  wedged: 8,
} as const;

interface Dirty {
  readonly rank: number;
  readonly order: number;
  readonly offset: number;
  length: number;
  readonly targets: readonly number[];
  readonly targetsKey: string;
}

export class PushBatch {
  /** Per target set (by its canonical key), the dirty ranges by start offset. */
  private dirty = new Map<string, Map<number, Dirty>>();
  /** Target arrays are long-lived (one per shard, one for "everyone"): cache their keys. */
  private readonly keyOf = new Map<readonly number[], string>();
  private order = 0;
  private count = 0;

  mark(rank: number, range: ByteRange, targets: readonly number[]): void {
    if (targets.length === 0 || range.length === 0) return;
    let targetsKey = this.keyOf.get(targets);
    if (targetsKey === undefined) {
      targetsKey = targets.join(',');
      this.keyOf.set(targets, targetsKey);
    }
    let byOffset = this.dirty.get(targetsKey);
    if (!byOffset) {
      byOffset = new Map();
      this.dirty.set(targetsKey, byOffset);
    }
    const existing = byOffset.get(range.offset);
    // Same start offset means same column, hence same rank. Pushing the longer of the two is
    // always safe: the bytes pushed are my row's current contents.
    if (existing) existing.length = Math.max(existing.length, range.length);
    else {
      byOffset.set(range.offset, { rank, order: this.order++, offset: range.offset, length: range.length, targets, targetsKey });
      this.count++;
    }
  }

  get pending(): number {
    return this.count;
  }

  /** Push outputs for everything marked since the last flush, in dependency order. */
  flush(): PushOutput[] {
    if (this.count === 0) return [];
    const items: Dirty[] = [];
    for (const byOffset of this.dirty.values()) for (const d of byOffset.values()) items.push(d);
    items.sort((a, b) => a.rank - b.rank || a.order - b.order);
    this.dirty.clear();
    this.order = 0;
    this.count = 0;
    const outputs: PushOutput[] = [];
    let cur: { targets: readonly number[]; key: string; ranges: ByteRange[]; lastRank: number } | undefined;
    for (const it of items) {
      if (!cur || cur.key !== it.targetsKey) {
        if (cur) outputs.push({ kind: 'push', ranges: cur.ranges, targets: cur.targets, withCompletion: false });
        cur = { targets: it.targets, key: it.targetsKey, ranges: [], lastRank: -1 };
      }
      const last = cur.ranges[cur.ranges.length - 1];
      // Merge a range that continues the previous one of the same rank: fewer, larger writes.
      // Never across ranks: the order between ranks is a guarantee, the order of bytes inside
      // one write is not.
      if (last && cur.lastRank === it.rank && last.offset + last.length === it.offset) cur.ranges[cur.ranges.length - 1] = { offset: last.offset, length: last.length + it.length };
      else cur.ranges.push({ offset: it.offset, length: it.length });
      cur.lastRank = it.rank;
    }
    if (cur) outputs.push({ kind: 'push', ranges: cur.ranges, targets: cur.targets, withCompletion: false });
    return outputs;
  }
}
