import { expect } from 'chai';
import type { MembershipOutput } from '../../src/core/membership/membership-io.js';
import { makeNextView, stateTransfers } from '../../src/core/membership/next-view.js';
import { addr, groupView, HandBuilt, LocalGroup, params, wholeGroup } from './vm-harness.js';

const kinds = (outs: readonly MembershipOutput[]) => outs.map((o) => o.kind);
const find = <K extends MembershipOutput['kind']>(outs: readonly MembershipOutput[], kind: K) => outs.find((o) => o.kind === kind) as Extract<MembershipOutput, { kind: K }> | undefined;

describe('membership: ViewManager steps over hand-built tables', () => {
  it('a failure signal suspects, wedges, and the leader proposes a batch ending the view', () => {
    const h = new HandBuilt(groupView([1, 2, 3]), 1);
    const outs = h.vm.step({ kind: 'peerFailed', node: 3 });
    expect(h.vm.core.isWedged).to.equal(true);
    expect(h.mine.suspected(0, 2)).to.equal(true);
    const changes = h.mine.changes(0);
    expect(changes).to.deep.equal([{ leader: 1, node: 3, endOfView: true }]);
    expect(h.mine.numAcked(0)).to.equal(1);
    expect(h.mine.numCommitted(0)).to.equal(0);
    // One push to both others: suspected, the core's wedge, then changes and numChanges, numAcked.
    const push = find(outs, 'push')!;
    expect(push.targets).to.deep.equal([1, 2]);
    const offsets = push.ranges.map((r) => r.offset);
    const col = (name: Parameters<typeof h.layout.column>[0]) => h.layout.column(name).offset;
    for (const c of ['suspected', 'wedged', 'changes', 'numChanges', 'numAcked'] as const) expect(offsets, c).to.include(col(c));
    expect(offsets.indexOf(col('changes'))).to.be.lessThan(offsets.indexOf(col('numChanges')));
    expect(offsets.indexOf(col('numChanges'))).to.be.lessThan(offsets.indexOf(col('numAcked')));
    expect(h.vm.stats.proposed).to.equal(1);
  });

  it('a follower copies the leader\'s stamped batch, acknowledges it and wedges; not an unstamped one', () => {
    const h = new HandBuilt(groupView([1, 2, 3]), 2);
    const leader = h.row(0);
    // A batch in the leader's row still stamped by someone else (it is adopting): not acked yet.
    leader.writeChanges([{ leader: 9, node: 3, endOfView: true }]);
    h.rowsChanged();
    expect(h.mine.numAcked(1)).to.equal(0);
    leader.writeChanges([{ leader: 1, node: 3, endOfView: true }]);
    leader.setSuspected(2);
    const outs = h.rowsChanged();
    expect(h.mine.numAcked(1)).to.equal(1);
    expect(h.mine.sameChanges(1, 0)).to.equal(true);
    expect(h.vm.core.isWedged).to.equal(true);
    expect(h.vm.suspectedIds).to.deep.equal([3]);
    expect(kinds(outs)).to.include('push');
  });

  it('the leader commits once every live row acknowledged exactly its batch', () => {
    const h = new HandBuilt(groupView([1, 2, 3, 4, 5]), 1);
    h.vm.step({ kind: 'peerFailed', node: 5 });
    const batch = h.mine.changes(0);
    h.row(1).writeChanges(batch);
    h.row(1).setNumAcked(1);
    // Row 2 acked a different batch (same length): no commit.
    h.row(2).writeChanges([{ leader: 1, node: 4, endOfView: true }]);
    h.row(2).setNumAcked(1);
    h.row(3).writeChanges(batch);
    h.row(3).setNumAcked(1);
    h.rowsChanged();
    expect(h.mine.numCommitted(0)).to.equal(0);
    h.row(2).writeChanges(batch);
    h.rowsChanged();
    expect(h.mine.numCommitted(0)).to.equal(1);
    expect(h.vm.committedBatch).to.deep.equal(batch);
  });

  it('a suspected row is not waited for: commit without it', () => {
    const h = new HandBuilt(groupView([1, 2, 3]), 1);
    h.vm.step({ kind: 'peerFailed', node: 3 });
    h.row(1).writeChanges(h.mine.changes(0));
    h.row(1).setNumAcked(1);
    h.rowsChanged();
    expect(h.mine.numCommitted(0)).to.equal(1);
  });

  it('after the commit: waits for every live row to wedge, the shard leader publishes min(num_received) and logs it', () => {
    const h = new HandBuilt(groupView([1, 2, 3]), 1);
    h.vm.step({ kind: 'peerFailed', node: 3 });
    h.row(1).writeChanges(h.mine.changes(0));
    h.row(1).setNumAcked(1);
    const base = h.layout.subgroups[0].numReceivedOffset;
    // Row 1 received 4 messages of sender 1, row 2 (failed) would have lowered the minimum.
    h.table(1).setI32('numReceived', base + 0, -1);
    h.table(1).setI32('numReceived', base + 1, 4);
    h.table(2).setI32('numReceived', base + 1, 0);
    let outs = h.rowsChanged();
    expect(h.vm.committedBatch).to.not.equal(undefined);
    expect(find(outs, 'logTrim'), 'no trim before row 1 wedged').to.equal(undefined);
    h.table(1).setBool('wedged', 0, true);
    outs = h.rowsChanged();
    const log = find(outs, 'logTrim')!;
    // min over live rows {me: -1, row 1: ...} of each sender: my own num_received is -1 everywhere.
    expect(log).to.deep.include({ vid: 0, subgroup: 0, shard: 0, shardLeader: 1 });
    expect(log.throughIndex).to.deep.equal([-1, -1, -1]);
    expect(h.mine.globalMinReady(0, 0)).to.equal(true);
    // Delivery waits for the log and for row 1 to echo.
    outs = h.vm.step({ kind: 'trimLogged', vid: 0, subgroup: 0 });
    expect(find(outs, 'installView')).to.equal(undefined);
    h.row(1).publishGlobalMin(0, [-1, -1, -1]);
    outs = h.rowsChanged();
    const install = find(outs, 'installView')!;
    expect(install.view.vid).to.equal(1);
    expect(install.view.members.map((m) => m.id)).to.deep.equal([1, 2]);
    expect(install.removed).to.deep.equal([3]);
    expect(h.vm.phase).to.equal('awaitingTable');
  });

  it('a follower logs the shard leader\'s trim before echoing it', () => {
    const h = new HandBuilt(groupView([1, 2, 3]), 2);
    const leader = h.row(0);
    leader.setSuspected(2);
    leader.writeChanges([{ leader: 1, node: 3, endOfView: true }]);
    leader.setNumAcked(1);
    leader.setNumCommitted(1);
    h.table(0).setBool('wedged', 0, true);
    h.rowsChanged();
    expect(h.vm.committedBatch).to.not.equal(undefined);
    leader.publishGlobalMin(0, [-1, -1, -1]);
    const outs = h.rowsChanged();
    expect(find(outs, 'logTrim')!.shardLeader).to.equal(1);
    expect(h.mine.globalMinReady(1, 0), 'not echoed before the log is durable').to.equal(false);
    h.vm.step({ kind: 'trimLogged', vid: 0, subgroup: 0 });
    expect(h.mine.globalMinReady(1, 0)).to.equal(true);
  });

  it('a new shard leader reuses a trim a failed shard leader already published', () => {
    const h = new HandBuilt(groupView([1, 2, 3, 4, 5]), 2);
    // Node 1 (leader and shard leader) proposed {remove 5}, committed, published a trim, then failed.
    const old = h.row(0);
    const batch = [{ leader: 1, node: 5, endOfView: true }];
    old.setSuspected(4);
    old.writeChanges(batch);
    old.setNumAcked(1);
    old.setNumCommitted(1);
    h.table(0).setBool('wedged', 0, true);
    old.publishGlobalMin(0, [-1, -1, -1, -1, -1]);
    h.rowsChanged();
    expect(h.vm.committedBatch).to.deep.equal(batch);
    h.vm.step({ kind: 'peerFailed', node: 1 });
    expect(h.vm.isLeader).to.equal(true);
    expect(h.vm.stats.adopted, 'the new leader re-proposes the committed batch').to.equal(1);
    expect(h.mine.changes(1)).to.deep.equal([{ leader: 2, node: 5, endOfView: true }]);
    for (const r of [2, 3]) {
      h.row(r).writeChanges(h.mine.changes(1));
      h.row(r).setNumAcked(1);
      h.table(r).setBool('wedged', 0, true);
    }
    const outs = h.rowsChanged();
    expect(h.mine.numCommitted(1)).to.equal(1);
    expect(h.vm.stats.trimsReused).to.equal(1);
    expect(find(outs, 'logTrim')!.shardLeader).to.equal(2);
    expect(h.mine.globalMin(1, 0, 5)).to.deep.equal([-1, -1, -1, -1, -1]);
  });

  it('leader failure: the next leader adopts a complete batch of the failed leader, restamped', () => {
    const h = new HandBuilt(groupView([1, 2, 3, 4, 5]), 2);
    // Node 1 proposed {remove 5}; only row 2 (node 3) copied it before node 1 failed.
    h.row(2).writeChanges([{ leader: 1, node: 5, endOfView: true }]);
    h.row(2).setNumAcked(1);
    h.row(2).setSuspected(4);
    h.vm.step({ kind: 'peerFailed', node: 1 });
    expect(h.vm.isLeader).to.equal(true);
    expect(h.vm.stats.adopted).to.equal(1);
    expect(h.mine.changes(1)).to.deep.equal([{ leader: 2, node: 5, endOfView: true }]);
    // Node 1's removal waits for the next view (the batch is complete).
    expect(h.vm.suspectedIds).to.deep.equal([1, 5]);
  });

  it('a new leader commits on acknowledgements of the same batch under the old stamp (members that moved on never re-ack)', () => {
    const h = new HandBuilt(groupView([1, 2, 3, 4, 5]), 2);
    const batch = [{ leader: 1, node: 5, endOfView: true }];
    for (const r of [0, 2, 3]) {
      h.row(r).writeChanges(batch);
      h.row(r).setNumAcked(1);
      h.row(r).setSuspected(4);
    }
    h.rowsChanged();
    expect(h.mine.numAcked(1)).to.equal(1);
    h.vm.step({ kind: 'peerFailed', node: 1 });
    expect(h.vm.stats.adopted).to.equal(1);
    expect(h.mine.numCommitted(1)).to.equal(1);
    expect(h.vm.committedBatch!.map((c) => c.node)).to.deep.equal([5]);
  });

  it('a slow member takes a commit from any leader row, even one it suspects, and catches up', () => {
    const h = new HandBuilt(groupView([1, 2, 3, 4, 5]), 3);
    // Node 1 committed {remove 5}; node 2 acked it and installed the next view (its row is final).
    const batch = [{ leader: 1, node: 5, endOfView: true }];
    h.row(0).setSuspected(4);
    h.row(0).writeChanges(batch);
    h.row(0).setNumAcked(1);
    h.row(0).setNumCommitted(1);
    h.row(1).writeChanges(batch);
    h.row(1).setNumAcked(1);
    // I (node 3) never acked, and suspect node 1 (my leader is now node 2, which will not act).
    h.vm.step({ kind: 'reportFailure', node: 1 });
    expect(h.vm.leaderRank).to.equal(1);
    h.rowsChanged();
    expect(h.vm.committedBatch!.map((c) => c.node)).to.deep.equal([5]);
    expect(h.mine.numAcked(2)).to.equal(1);
  });

  it('partition safety: suspecting half of the view shuts down; off, it does not', () => {
    const h = new HandBuilt(groupView([1, 2, 3, 4]), 1);
    expect(h.vm.step({ kind: 'peerFailed', node: 4 }).some((o) => o.kind === 'shutdown')).to.equal(false);
    const outs = h.vm.step({ kind: 'peerFailed', node: 3 });
    const down = find(outs, 'shutdown')!;
    expect(down.reason).to.equal('partitioned');
    expect(down.message).to.match(/suspects 2 of the 4 members/);
    expect(outs[outs.length - 1].kind).to.equal('shutdown');
    expect(h.vm.phase).to.equal('stopped');
    expect(h.vm.step({ kind: 'tick', nowUs: 5 })).to.deep.equal([]);
    const off = new HandBuilt(groupView([1, 2, 3, 4]), 1, { partitionSafety: false });
    off.vm.step({ kind: 'peerFailed', node: 4 });
    expect(off.vm.step({ kind: 'peerFailed', node: 3 }).some((o) => o.kind === 'shutdown')).to.equal(false);
    // A 2-member group trips on the first failure; a graceful leave does not count.
    expect(find(new HandBuilt(groupView([1, 2]), 1).vm.step({ kind: 'peerFailed', node: 2 }), 'shutdown')!.reason).to.equal('partitioned');
    const two = new HandBuilt(groupView([1, 2]), 1);
    two.row(1).setRip();
    two.row(1).setSuspected(1);
    expect(find(two.rowsChanged(), 'shutdown')).to.equal(undefined);
  });

  it('removal detection: another member suspects me, so I stop', () => {
    const h = new HandBuilt(groupView([1, 2, 3]), 3);
    h.row(0).setSuspected(2);
    const down = find(h.rowsChanged(), 'shutdown')!;
    expect(down.reason).to.equal('removed');
    expect(down.message).to.match(/node 3 was suspected/);
  });

  it('joins: a follower redirects to the leader; the leader refuses an id in use and proposes the join', () => {
    const follower = new HandBuilt(groupView([1, 2, 3]), 2);
    const redirect = find(follower.vm.step({ kind: 'joinRequest', joiner: addr(7) }), 'joinRedirect')!;
    expect(redirect.leader).to.deep.equal(addr(1));
    expect(redirect.to).to.deep.equal(addr(7));
    const h = new HandBuilt(groupView([1, 2, 3]), 1);
    const refused = find(h.vm.step({ kind: 'joinRequest', joiner: addr(2) }), 'joinRefused')!;
    expect(refused.code).to.equal('idInUse');
    h.vm.step({ kind: 'joinRequest', joiner: addr(7) });
    expect(h.mine.changes(0)).to.deep.equal([{ leader: 1, node: 7, endOfView: true, address: addr(7) }]);
    // The same joiner asking again is not refused; another node with its id is.
    expect(h.vm.step({ kind: 'joinRequest', joiner: addr(7) })).to.deep.equal([]);
    expect(find(h.vm.step({ kind: 'joinRequest', joiner: { ...addr(7), port: 1 } }), 'joinRefused')!.code).to.equal('idInUse');
    // A join arriving during a change waits for the next view.
    h.vm.step({ kind: 'joinRequest', joiner: addr(8) });
    expect(h.mine.numChanges(0)).to.equal(1);
    expect(h.vm.pendingJoinIds).to.deep.equal([8]);
    expect(() => h.vm.step({ kind: 'joinRequest', joiner: { id: 9, host: 'example.org', port: 1 } })).to.throw(/IPv4/);
  });

  it('an inadequate next view is reported and not proposed; the group stays wedged until a join makes it adequate', () => {
    const h = new HandBuilt(groupView([1, 2, 3]), 1, { allocate: wholeGroup(3) });
    const outs = h.vm.step({ kind: 'peerFailed', node: 3 });
    expect(find(outs, 'inadequate')!.message).to.match(/needs at least 3 nodes but the view has 2/);
    expect(h.mine.numChanges(0)).to.equal(0);
    expect(h.vm.core.isWedged).to.equal(true);
    h.vm.step({ kind: 'joinRequest', joiner: addr(4) });
    expect(h.mine.changes(0).map((c) => c.node)).to.deep.equal([3, 4]);
  });

  it('leave: rip, suspect myself, wedge, push, shut down', () => {
    const h = new HandBuilt(groupView([1, 2, 3]), 2);
    const outs = h.vm.step({ kind: 'leave' });
    expect(kinds(outs)).to.deep.equal(['push', 'shutdown']);
    expect(find(outs, 'shutdown')!.reason).to.equal('left');
    const offsets = find(outs, 'push')!.ranges.map((r) => r.offset);
    expect(offsets.indexOf(h.layout.column('rip').offset)).to.be.lessThan(offsets.indexOf(h.layout.column('suspected').offset));
  });

  it('bad application input gets a clear error', () => {
    const h = new HandBuilt(groupView([1, 2, 3]), 1);
    expect(() => h.vm.step({ kind: 'reportFailure', node: 42 })).to.throw(/node 42 is not a member of view 0/);
    expect(() => h.vm.step({ kind: 'reportFailure', node: 1 })).to.throw(/use leave\(\)/);
    expect(() => h.vm.step({ kind: 'viewTableReady', vid: 1, table: new ArrayBuffer(8) })).to.throw(/no view change is being installed/);
  });
});

describe('membership: next view and state transfer decisions', () => {
  it('survivors keep their order, joiners are appended in proposal order, vid + 1', () => {
    const v = groupView([5, 3, 9]);
    const next = makeNextView(
      v,
      [
        { leader: 5, node: 3, endOfView: false },
        { leader: 5, node: 12, endOfView: false, address: addr(12) },
        { leader: 5, node: 11, endOfView: true, address: addr(11) },
      ],
      wholeGroup(),
    );
    expect(next.view.vid).to.equal(1);
    expect(next.view.members.map((m) => m.id)).to.deep.equal([5, 9, 12, 11]);
    expect(next.removed).to.deep.equal([3]);
    expect(next.joined.map((j) => j.id)).to.deep.equal([12, 11]);
  });

  it('state goes from the lowest-ranked surviving old shard member to each new shard member', () => {
    const mk = (vid: number, ids: number[], shards: number[][]) => ({
      vid,
      members: ids.map(addr),
      subgroups: [{ type: 'T', index: 0, shards: shards.map((m) => ({ members: m, senders: m.map(() => true), mode: 'ordered' as const })), params }],
    });
    const prev = mk(0, [1, 2, 3, 4], [[2, 1], [3, 4]]);
    const next = mk(1, [2, 3, 4, 7, 8], [[2, 7], [3, 8]]);
    expect(stateTransfers(prev, next)).to.deep.equal([
      { subgroup: 0, shard: 0, from: 2, to: 7 },
      { subgroup: 0, shard: 1, from: 3, to: 8 },
    ]);
    // No survivor of the old shard: nobody has its state.
    expect(stateTransfers(prev, mk(1, [3, 4, 7], [[7], [3, 4]]))).to.deep.equal([]);
  });
});

describe('membership: a local group through whole view changes', () => {
  it('a crash: survivors deliver the same trimmed prefix, install view 1, re-send own undelivered messages', () => {
    const g = new LocalGroup(groupView([1, 2, 3]));
    g.send(1, 'a');
    g.send(2, 'b');
    g.send(3, 'c');
    expect(g.delivered(1)).to.deep.equal(['a', 'b', 'c']);
    g.crash(3);
    g.send(1, 'd'); // cannot be stable while 3 is in the view
    expect(g.delivered(1)).to.deep.equal(['a', 'b', 'c']);
    g.detect(3);
    for (const id of [1, 2]) {
      const vm = g.get(id).vm;
      expect(vm.vid, `n${id}`).to.equal(1);
      expect(vm.phase).to.equal('running');
      expect(vm.view.members.map((m) => m.id)).to.deep.equal([1, 2]);
    }
    // 'd' was received by 1 and 2 only; whether it is in the trim depends on num_received,
    // but either way both deliver it exactly once and in the same place.
    expect(g.delivered(1)).to.deep.equal(g.delivered(2));
    expect(g.delivered(1)).to.deep.equal(['a', 'b', 'c', 'd']);
    g.send(2, 'e');
    expect(g.delivered(1)).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
  });

  it('the trim is the minimum over survivors of what they received: nobody delivers what one survivor lacks', () => {
    const g = new LocalGroup(groupView([1, 2, 3]));
    g.send(1, 'a');
    // Node 3's messages reach node 1 but not node 2, then node 3 fails.
    g.cut.add('3>2');
    g.send(3, 'x1');
    g.send(3, 'x2');
    expect(g.get(1).vm.core.receivedThrough(0, 2)).to.equal(1);
    expect(g.get(2).vm.core.receivedThrough(0, 2)).to.equal(-1);
    g.crash(3);
    g.detect(3);
    const trims = [1, 2].map((id) => g.get(id).outputs.filter((o) => o.kind === 'logTrim').map((o) => (o as { throughIndex: readonly number[] }).throughIndex));
    // Sender ranks 0, 1, 2 = nodes 1, 2, 3 (indices count reactive nulls too): node 3's entry is
    // what node 2 received from it, nothing; node 1 received x1 and x2 but trims them away.
    expect(trims[0]).to.have.length(1);
    expect(trims[0]).to.deep.equal(trims[1]);
    expect(trims[0][0][2]).to.equal(-1);
    expect(g.delivered(1)).to.deep.equal(['a']);
    expect(g.delivered(2)).to.deep.equal(['a']);
    expect(g.get(1).vm.vid).to.equal(1);
  });

  it('messages beyond the trim are re-sent by their sender in the next view', () => {
    const g = new LocalGroup(groupView([1, 2, 3]));
    g.crash(3);
    g.autoLogTrim = false;
    // Node 2 wedges first (it saw the failure), so its later send stays queued in the old view.
    g.step(2, (vm) => vm.step({ kind: 'peerFailed', node: 3 }));
    g.send(2, 'late1');
    g.send(2, 'late2');
    g.send(2, 'late3');
    g.detect(3);
    expect(g.delivered(2)).to.deep.equal([]);
    g.ackTrims();
    expect(g.get(2).vm.vid).to.equal(1);
    // Three re-sends in one step: their pushes are merged so "index" never precedes a slot.
    expect(g.delivered(1)).to.deep.equal(['late1', 'late2', 'late3']);
    expect(g.delivered(2)).to.deep.equal(['late1', 'late2', 'late3']);
    expect(g.get(1).delivered[0].vid).to.equal(1);
  });

  it('a join: the leader sends the view to the joiner and old shard leaders send state', () => {
    const g = new LocalGroup(groupView([1, 2]));
    const outs = g.step(2, (vm) => vm.step({ kind: 'joinRequest', joiner: addr(5) }));
    expect(find(outs, 'joinRedirect')!.leader.id).to.equal(1);
    g.step(1, (vm) => vm.step({ kind: 'joinRequest', joiner: addr(5) }));
    const leaderOuts = g.get(1).outputs;
    const sendView = find(leaderOuts, 'sendView')!;
    expect(sendView.to.id).to.equal(5);
    expect(sendView.view.members.map((m) => m.id)).to.deep.equal([1, 2, 5]);
    expect(find(leaderOuts, 'sendState')).to.deep.include({ subgroup: 0, shard: 0, vid: 1 });
    expect(find(g.get(2).outputs, 'sendState')).to.equal(undefined);
    expect(g.get(1).vm.vid).to.equal(1);
    expect(g.get(2).vm.vid).to.equal(1);
    // The joiner starts in the view it was sent and takes part in ordered delivery.
    g.add(5, sendView.view);
    g.send(5, 'from the joiner');
    g.send(1, 'to the joiner');
    for (const id of [1, 2, 5]) expect(g.delivered(id), `n${id}`).to.deep.equal(['from the joiner', 'to the joiner']);
    // A failure in the new view: the joiner takes part in the next change too.
    g.crash(2);
    g.detect(2);
    expect(g.get(5).vm.vid).to.equal(2);
    expect(g.get(5).vm.view.members.map((m) => m.id)).to.deep.equal([1, 5]);
  });
});
