/**
 * Partitions and loss between hosts (network namespaces joined by a bridge), with every member
 * multicasting all along. Cutting the links of two of five hosts leaves a majority of three: it
 * installs a view without them and goes on; the two on the minority side see half or more of
 * their view suspected and shut themselves down instead of forming a second group (partition
 * safety, on by default). Random loss on a host's link only slows TCP down: nothing is lost.
 */
import { expect } from 'chai';
import { deliveredAtLeast, finish, startGroup, viewOf, waitLine, type Member } from '../membership/churn-harness.js';
import { NetnsLab, ensureNft } from './netns-lab.js';

describe('partitions and loss between hosts (network namespaces)', function () {
  this.timeout(120_000);
  let lab: NetnsLab | undefined;
  let members: Member[] = [];

  before(function () {
    const why = NetnsLab.unavailableReason();
    if (why !== undefined) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
  });

  afterEach(() => {
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    members = [];
    lab?.destroy();
    lab = undefined;
  });

  it('cutting two of five hosts: the minority shuts down, the majority installs a view and goes on', async () => {
    lab = NetnsLab.create(5, `${process.pid}p`);
    members = (await startGroup(5, 600, 0, lab.hosts)).members;
    await Promise.all(members.map((m) => waitLine(m, deliveredAtLeast(2000), 30_000, '2000 deliveries')));
    lab.setLink(3, false);
    lab.setLink(4, false);
    const majority = members.slice(0, 3);
    // The two cut hosts may be detected together (one view change) or apart (two).
    await Promise.all(majority.map((m) => waitLine(m, viewOf([0, 1, 2]), 15_000, 'a view of the majority')));
    for (const m of members.slice(3)) expect(await waitLine(m, (l) => l.startsWith('SHUTDOWN '), 15_000, 'shutdown of a minority member')).to.equal('SHUTDOWN partitioned');
    for (const m of members.slice(3)) {
      const installed = m.lines.filter((l) => l.startsWith('VIEW ') && !l.startsWith('VIEW 0 '));
      expect(installed, `node ${m.id} must not install a view on the minority side`).to.deep.equal([]);
    }
    await Promise.all(majority.map((m) => waitLine(m, deliveredAtLeast(8000), 30_000, 'deliveries after the partition')));
    const { sent, results } = await finish(majority);
    for (const r of results) {
      expect(r.errors, `node ${r.nodeId}`).to.deep.equal([]);
      for (const s of majority) expect(r.counts[s.id]).to.equal(sent[s.id]);
    }
    expect(new Set(results.map((r) => r.digest)).size, 'identical logs on the majority side').to.equal(1);
  });

  it('with 20% packet loss on one host, the group loses nothing and agrees byte for byte', async function () {
    this.timeout(300_000);
    const why = ensureNft();
    if (why !== undefined) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    lab = NetnsLab.create(3, `${process.pid}l`);
    members = (await startGroup(3, 5000, 0, lab.hosts)).members;
    await Promise.all(members.map((m) => waitLine(m, deliveredAtLeast(1000), 30_000, '1000 deliveries')));
    lab.setLoss(2, 20);
    await Promise.all(members.map((m) => waitLine(m, deliveredAtLeast(4000), 60_000, 'deliveries under loss')));
    lab.setLoss(2, 0);
    const { sent, results } = await finish(members);
    for (const r of results) {
      expect(r.errors, `node ${r.nodeId}`).to.deep.equal([]);
      expect(r.views, 'no member was suspected').to.have.length(1);
      for (const m of members) expect(r.counts[m.id]).to.equal(sent[m.id]);
    }
    expect(new Set(results.map((r) => r.digest)).size).to.equal(1);
  });
});
