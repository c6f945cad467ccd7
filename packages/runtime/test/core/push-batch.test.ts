import { expect } from 'chai';
import { PUSH_RANK, PushBatch } from '../../src/core/push-batch.js';

describe('core/push-batch', () => {
  it('emits ranks in dependency order whatever the marking order, merging only adjacent ranges of one rank', () => {
    const b = new PushBatch();
    const peers = [1, 2];
    b.mark(PUSH_RANK.index, { offset: 500, length: 4 }, peers);
    b.mark(PUSH_RANK.slots, { offset: 100, length: 40 }, peers);
    b.mark(PUSH_RANK.slots, { offset: 140, length: 8 }, peers); // continues the previous slot range
    b.mark(PUSH_RANK.numReceivedSst, { offset: 504, length: 4 }, peers); // adjacent to index, other rank
    b.mark(PUSH_RANK.slots, { offset: 100, length: 32 }, peers); // same start: keep the longer
    const outs = b.flush();
    expect(outs).to.deep.equal([
      {
        kind: 'push',
        targets: peers,
        withCompletion: false,
        ranges: [
          { offset: 100, length: 48 },
          { offset: 500, length: 4 },
          { offset: 504, length: 4 },
        ],
      },
    ]);
    expect(b.pending).to.equal(0);
    expect(b.flush()).to.deep.equal([]);
  });

  it('keeps per-target order when target sets interleave, and skips empty target sets', () => {
    const b = new PushBatch();
    const a = [1];
    const all = [1, 2, 3];
    b.mark(PUSH_RANK.seqNum, { offset: 8, length: 4 }, a);
    b.mark(PUSH_RANK.wedged, { offset: 900, length: 1 }, all);
    b.mark(PUSH_RANK.slots, { offset: 100, length: 4 }, a);
    b.mark(PUSH_RANK.slots, { offset: 200, length: 4 }, []);
    const outs = b.flush();
    expect(outs.map((o) => [o.targets, o.ranges.map((r) => r.offset)])).to.deep.equal([
      [a, [100, 8]],
      [all, [900]],
    ]);
  });
});
