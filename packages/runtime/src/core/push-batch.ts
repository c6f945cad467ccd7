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
  readonly range: ByteRange;
  readonly targets: readonly number[];
  readonly targetsKey: string;
}

export class PushBatch {
  private dirty = new Map<string, Dirty>();
  private order = 0;

  mark(rank: number, range: ByteRange, targets: readonly number[]): void {
    if (targets.length === 0 || range.length === 0) return;
    const targetsKey = targets.join(',');
    const key = `${range.offset}:${range.length}:${targetsKey}`;
    if (!this.dirty.has(key)) this.dirty.set(key, { rank, order: this.order++, range, targets, targetsKey });
  }

  get pending(): number {
    return this.dirty.size;
  }

  /** Push outputs for everything marked since the last flush, in dependency order. */
  flush(): PushOutput[] {
    if (this.dirty.size === 0) return [];
    const items = [...this.dirty.values()].sort((a, b) => a.rank - b.rank || a.order - b.order);
    this.dirty.clear();
    this.order = 0;
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
      if (last && cur.lastRank === it.rank && last.offset + last.length === it.range.offset) cur.ranges[cur.ranges.length - 1] = { offset: last.offset, length: last.length + it.range.length };
      else cur.ranges.push(it.range);
      cur.lastRank = it.rank;
    }
    if (cur) outputs.push({ kind: 'push', ranges: cur.ranges, targets: cur.targets, withCompletion: false });
    return outputs;
  }
}
