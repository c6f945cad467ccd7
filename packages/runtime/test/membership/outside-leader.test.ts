/**
 * Issue 10 at the level of the view manager: a leader that holds no shard commits and installs in
 * one step (it has no trim to agree on), and HLCs continue across a view change for survivors and
 * for members that move into a shard.
 */
import { expect } from 'chai';
import type { GroupSubgroup } from '../../src/core/membership/group-view.js';
import type { MembershipOutput } from '../../src/core/membership/membership-io.js';
import type { AllocateNextView } from '../../src/core/membership/next-view.js';
import { compareHlc } from '../../src/core/hlc.js';
import { InadequateLayoutError } from '../../src/layout/errors.js';
import { groupView, HandBuilt, LocalGroup, params, wholeGroup } from './vm-harness.js';

/** One shard of exactly 3 members, filled from the highest ids: the lowest ids hold no shard. */
const highestThree: AllocateNextView = (ids) => {
  if (ids.length < 3) throw new InadequateLayoutError(3, ids.length, ['T[0] shard 0']);
  const shard = [...ids].sort((a, b) => b - a).slice(0, 3).sort((a, b) => a - b);
  return [{ type: 'T', index: 0, shards: [{ members: shard, senders: shard.map(() => true), mode: 'ordered' }], params }] as GroupSubgroup[];
};

describe('membership: a leader in no shard, and HLCs across views (issue 10)', () => {
  it('a leader that holds no shard commits and installs in one step: its pushes come first, installView last', () => {
    // View [1, 2, 3, 4, 5]: node 1 leads and holds no shard (the shard is [3, 4, 5]).
    const h = new HandBuilt(groupView([1, 2, 3, 4, 5], 0, highestThree), 1, { allocate: highestThree, partitionSafety: false });
    h.vm.step({ kind: 'peerFailed', node: 5 });
    const batch = h.mine.changes(0);
    expect(batch.map((c) => c.node)).to.deep.equal([5]);
    // Every live row acknowledged the batch and is wedged: the commit and the install are one step.
    for (const r of [1, 2, 3]) {
      h.row(r).writeChanges(batch);
      h.row(r).setNumAcked(1);
      h.table(r).setBool('wedged', 0, true);
    }
    const outs: MembershipOutput[] = h.rowsChanged();
    const kinds = outs.map((o) => o.kind);
    expect(kinds).to.include('installView');
    expect(kinds[kinds.length - 1]).to.equal('installView');
    // The commit reaches the followers in the view it was made in, before the install.
    const pushes = outs.filter((o): o is Extract<MembershipOutput, { kind: 'push' }> => o.kind === 'push');
    const committedOffset = h.layout.column('numCommitted').offset;
    expect(pushes.some((p) => p.ranges.some((r) => r.offset === committedOffset)), 'num_committed pushed').to.equal(true);
    expect(kinds.lastIndexOf('push')).to.be.lessThan(kinds.indexOf('installView'));
    for (const p of pushes) for (const t of p.targets) expect(t).to.be.within(1, 4);
  });

  it('the view it installs moves a survivor into the shard, which then receives the shard state', () => {
    const h = new HandBuilt(groupView([1, 2, 3, 4, 5], 0, highestThree), 1, { allocate: highestThree, partitionSafety: false });
    h.vm.step({ kind: 'peerFailed', node: 5 });
    const batch = h.mine.changes(0);
    for (const r of [1, 2, 3]) {
      h.row(r).writeChanges(batch);
      h.row(r).setNumAcked(1);
      h.table(r).setBool('wedged', 0, true);
    }
    const install = h.rowsChanged().find((o) => o.kind === 'installView') as Extract<MembershipOutput, { kind: 'installView' }>;
    // Node 2 moves into the shard [2, 3, 4]; node 1 stays out: no floor needed for node 1.
    expect(install.view.subgroups[0].shards[0].members).to.deep.equal([2, 3, 4]);
    expect(install.stateTransfers).to.deep.equal([{ subgroup: 0, shard: 0, from: 3, to: 2 }]);
  });

  it('survivors continue from the last HLC of the closing view', () => {
    const g = new LocalGroup(groupView([1, 2, 3]));
    // Messages whose send times are far ahead of the ones sent after the change.
    g.send(1, 'early', 5_000_000);
    g.send(2, 'early', 5_000_001);
    const before = g.get(1).vm.core.shardOf(0)!.lastDeliveredHlc;
    expect(before.wallUs).to.be.at.least(5_000_000);
    g.crash(3);
    g.detect(3);
    expect(g.get(1).vm.vid).to.equal(1);
    g.send(1, 'late', 10);
    const after = g.get(1).vm.core.shardOf(0)!.lastDeliveredHlc;
    expect(compareHlc(after, before), 'the HLC of the first delivery of view 1 follows the last of view 0').to.be.greaterThan(0);
    expect(g.get(2).vm.core.shardOf(0)!.lastDeliveredHlc).to.deep.equal(after);
  });

  it('a wedged view says what it waits for (stallReason), and tells pending joiners why they wait', () => {
    const h = new HandBuilt(groupView([1, 2, 3, 4, 5]), 1, { partitionSafety: false });
    expect(h.vm.stallReason()).to.equal(undefined);
    h.vm.step({ kind: 'peerFailed', node: 5 });
    expect(h.vm.stallReason()).to.match(/view 0 is wedged \(suspected: 5\); this node leads the change and waits for acknowledgements from nodes 2, 3, 4/);
    const batch = h.mine.changes(0);
    for (const r of [1, 2, 3]) {
      h.row(r).writeChanges(batch);
      h.row(r).setNumAcked(1);
    }
    h.rowsChanged();
    expect(h.vm.stallReason()).to.match(/the change is committed, waiting for nodes 2, 3, 4 to wedge/);

    // The shard needs all 4: losing two wedges the group; one joiner is not enough either.
    const tiny = new HandBuilt(groupView([1, 2, 3, 4], 0, wholeGroup(4)), 1, { allocate: wholeGroup(4), partitionSafety: false });
    tiny.vm.step({ kind: 'peerFailed', node: 3 });
    tiny.vm.step({ kind: 'peerFailed', node: 4 });
    expect(tiny.vm.stallReason()).to.match(/cannot be provisioned, so the group waits for more nodes to join: .*needs at least 4 nodes/);
    const outs = tiny.vm.step({ kind: 'joinRequest', joiner: { id: 9, host: '10.0.0.9', port: 7009 } });
    const deferred = outs.find((o) => o.kind === 'joinDeferred') as Extract<MembershipOutput, { kind: 'joinDeferred' }>;
    expect(deferred.to.id).to.equal(9);
    expect(deferred.message).to.match(/the group cannot install view 1 yet: .*needs at least 4 nodes but the view has 3/);
  });
});
