/**
 * Failures between real processes: five members multicast continuously; members are killed with
 * kill -9 (and one paused with SIGSTOP past the failure timeout) mid-stream. The survivors must
 * install new views (vid + 1 each, without the dead) and keep delivering, and in the end every
 * survivor's delivery log must be identical, byte for byte, through every view: the same ragged
 * trim of each closing view, every survivor's own messages delivered exactly once (re-sent in
 * the next view when the trim cut them off), FIFO per sender.
 */
import { expect } from 'chai';
import { deliveredAtLeast, finish, startGroup, viewWith, waitLine, type Member } from './churn-harness.js';

describe('membership between real processes: failures', function () {
  this.timeout(120_000);
  let members: Member[] = [];
  afterEach(() => {
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    members = [];
  });

  it('5 members multicasting; two killed with kill -9 one after the other; survivors agree byte for byte', async () => {
    members = (await startGroup(5, 500)).members;
    await Promise.all(members.map((m) => waitLine(m, deliveredAtLeast(4000), 30_000, '4000 deliveries')));

    members[4].child.kill('SIGKILL');
    const firstSurvivors = members.slice(0, 4);
    await Promise.all(firstSurvivors.map((m) => waitLine(m, viewWith(1, [0, 1, 2, 3]), 10_000, 'view 1 without node 4')));
    await Promise.all(firstSurvivors.map((m) => waitLine(m, deliveredAtLeast(12_000), 30_000, 'deliveries in view 1')));

    members[1].child.kill('SIGKILL');
    const survivors = [members[0], members[2], members[3]];
    await Promise.all(survivors.map((m) => waitLine(m, viewWith(2, [0, 2, 3]), 10_000, 'view 2 without node 1')));
    await Promise.all(survivors.map((m) => waitLine(m, deliveredAtLeast(20_000), 30_000, 'deliveries in view 2')));

    const { sent, results } = await finish(survivors);
    for (const r of results) {
      expect(r.errors, `node ${r.nodeId}`).to.deep.equal([]);
      // Views 0, 1, 2; each later view keeps the survivors in their earlier relative order.
      const views = (r.views as string[]).map((v) => v.split(':')[1].split(',').map(Number));
      expect(views).to.have.length(3);
      expect(views[1]).to.deep.equal(views[0].filter((id) => id !== 4));
      expect(views[2]).to.deep.equal(views[1].filter((id) => id !== 1));
      // Every survivor's own messages were all delivered, exactly once.
      for (const s of survivors) expect(r.counts[s.id], `messages of survivor ${s.id} at node ${r.nodeId}`).to.equal(sent[s.id]);
    }
    expect(new Set(results.map((r) => r.digest)).size, 'identical delivery logs through every view').to.equal(1);
    expect(new Set(results.map((r) => JSON.stringify(r.views))).size, 'the same views everywhere').to.equal(1);
    expect(new Set(results.map((r) => JSON.stringify(r.counts))).size, 'the same trimmed prefix of the dead senders everywhere').to.equal(1);
  });

  it('a member joins a running group while everyone multicasts, then one is killed; the joiner agrees from its first view on', async () => {
    const g = await startGroup(4, 500, 1);
    members = g.members;
    await Promise.all(members.map((m) => waitLine(m, deliveredAtLeast(3000), 30_000, '3000 deliveries')));
    const joiner = g.startLate(4);
    members.push(joiner);
    await Promise.all(members.map((m) => waitLine(m, viewWith(1, [0, 1, 2, 3, 4]), 20_000, 'view 1 with the joiner')));
    await waitLine(joiner, deliveredAtLeast(4000), 30_000, 'deliveries at the joiner');
    members[2].child.kill('SIGKILL');
    const survivors = [members[0], members[1], members[3], joiner];
    await Promise.all(survivors.map((m) => waitLine(m, viewWith(2, [0, 1, 3, 4]), 10_000, 'view 2 without node 2')));
    await waitLine(joiner, deliveredAtLeast(8000), 30_000, 'deliveries in view 2');
    const { sent, results } = await finish(survivors);
    for (const r of results) {
      expect(r.errors, `node ${r.nodeId}`).to.deep.equal([]);
      // Every survivor's messages, through the last one it sent, reached every survivor.
      for (const s of survivors) expect(r.counts[s.id], `messages of ${s.id} at node ${r.nodeId}`).to.equal(sent[s.id]);
    }
    // Views 1 and 2 (where all four were members): identical logs everywhere, byte for byte.
    for (const vid of ['1', '2']) expect(new Set(results.map((r) => r.viewDigests[vid])).size, `view ${vid} logs`).to.equal(1);
    const old = results.filter((r) => r.nodeId !== 4);
    expect(new Set(old.map((r) => r.digest)).size, 'the members from view 0 agree on everything').to.equal(1);
  });

  it('the leader (lowest rank) is killed: the next one takes over and the survivors agree', async () => {
    members = (await startGroup(4, 500)).members;
    await Promise.all(members.map((m) => waitLine(m, deliveredAtLeast(2000), 30_000, '2000 deliveries')));
    const view0 = (await waitLine(members[0], (l) => l.startsWith('VIEW 0 '), 1000, 'view 0')).split(' ')[2].split(',').map(Number);
    const leader = view0[0];
    members[leader].child.kill('SIGKILL');
    const survivors = members.filter((m) => m.id !== leader);
    await Promise.all(survivors.map((m) => waitLine(m, viewWith(1, survivors.map((x) => x.id)), 10_000, 'view 1 without the leader')));
    await Promise.all(survivors.map((m) => waitLine(m, deliveredAtLeast(6000), 30_000, 'deliveries in view 1')));
    const { sent, results } = await finish(survivors);
    for (const r of results) {
      expect(r.errors, `node ${r.nodeId}`).to.deep.equal([]);
      for (const m of survivors) expect(r.counts[m.id]).to.equal(sent[m.id]);
    }
    expect(new Set(results.map((r) => r.digest)).size).to.equal(1);
  });

  it('a member that leaves gracefully: the others install a view without it, and it stops with reason "left"', async () => {
    members = (await startGroup(4, 2000)).members;
    await Promise.all(members.map((m) => waitLine(m, deliveredAtLeast(2000), 30_000, '2000 deliveries')));
    members[1].child.stdin!.write('leave\n');
    expect(await waitLine(members[1], (l) => l.startsWith('SHUTDOWN '), 10_000, 'shutdown of the leaver')).to.equal('SHUTDOWN left');
    const rest = [members[0], members[2], members[3]];
    await Promise.all(rest.map((m) => waitLine(m, viewWith(1, [0, 2, 3]), 10_000, 'view 1 without the leaver')));
    const { sent, results } = await finish(rest);
    for (const r of results) {
      expect(r.errors, `node ${r.nodeId}`).to.deep.equal([]);
      for (const m of rest) expect(r.counts[m.id]).to.equal(sent[m.id]);
    }
    expect(new Set(results.map((r) => r.digest)).size).to.equal(1);
  });

  it('a member paused with SIGSTOP past the failure timeout is removed; the rest go on', async () => {
    members = (await startGroup(4, 400)).members;
    await Promise.all(members.map((m) => waitLine(m, deliveredAtLeast(2000), 30_000, '2000 deliveries')));
    members[2].child.kill('SIGSTOP');
    const survivors = [members[0], members[1], members[3]];
    await Promise.all(survivors.map((m) => waitLine(m, viewWith(1, [0, 1, 3]), 10_000, 'view 1 without node 2')));
    await Promise.all(survivors.map((m) => waitLine(m, deliveredAtLeast(8000), 30_000, 'deliveries in view 1')));
    const { results } = await finish(survivors);
    for (const r of results) expect(r.errors, `node ${r.nodeId}`).to.deep.equal([]);
    expect(new Set(results.map((r) => r.digest)).size).to.equal(1);
    // Woken up, the removed member learns it was removed and stops.
    members[2].child.kill('SIGCONT');
    await waitLine(members[2], (l) => l.startsWith('SHUTDOWN '), 10_000, 'shutdown of the removed member');
  });
});
