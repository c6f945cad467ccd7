/**
 * Rotating the cluster secret without downtime (cluster.secrets): three members multicast
 * continuously on the old secret; each is restarted in turn onto [new, old], then each in turn
 * onto [new]. At every moment every pair shares a secret, so each restarted member rejoins, the
 * others never stop delivering, and at the end the members agree on the last view's log.
 */
import { expect } from 'chai';
import { deliveredAtLeast, finish, startGroup, waitLine, type Member } from './churn-harness.js';

const OLD = 'the old cluster secret, retiring';
const NEW = 'the new cluster secret, arriving';

/** A VIEW line after view `vid` whose members are exactly `ids`. */
const viewAfter = (vid: number, ids: number[]) => (l: string) => {
  const [tag, v, members] = l.split(' ');
  return tag === 'VIEW' && Number(v) > vid && members.split(',').map(Number).sort().join(',') === [...ids].sort().join(',');
};
const lastVid = (m: Member): number => Math.max(-1, ...m.lines.filter((l) => l.startsWith('VIEW ')).map((l) => Number(l.split(' ')[1])));
const lastDelivered = (m: Member): number => Math.max(0, ...m.lines.filter((l) => l.startsWith('DELIVERED ')).map((l) => Number(l.slice(10))));

describe('membership between real processes: secret rotation', function () {
  this.timeout(240_000);
  let members: Member[] = [];
  afterEach(() => {
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    members = [];
  });

  it('3 members restarted one by one onto [new, old], then onto [new]: each rejoins and the group keeps delivering', async () => {
    const g = await startGroup(3, 2000, 0, undefined, { secrets: [OLD] });
    members = [...g.members];
    await Promise.all(members.map((m) => waitLine(m, deliveredAtLeast(2000), 30_000, '2000 deliveries')));
    const ids = [0, 1, 2];
    for (const secrets of [[NEW, OLD], [NEW]]) {
      for (const id of ids) {
        const leaving = members.find((m) => m.id === id)!;
        const rest = members.filter((m) => m.id !== id);
        const vid = lastVid(rest[0]);
        leaving.child.stdin!.write('leave\n');
        await waitLine(leaving, (l) => l === 'SHUTDOWN left', 20_000, `node ${id} leaving`);
        await Promise.all(rest.map((m) => waitLine(m, viewAfter(vid, rest.map((r) => r.id)), 20_000, `a view without node ${id}`)));
        // The others kept delivering while it was away.
        await Promise.all(rest.map((m) => waitLine(m, deliveredAtLeast(lastDelivered(m) + 2000), 30_000, `deliveries without node ${id}`)));
        // It rejoins through a member that is up (the original contact may be the one restarting).
        const back = g.startLate(id, { secrets, contact: g.addressOf(rest[0].id) });
        members = [...rest, back];
        const vidBefore = lastVid(rest[0]);
        await Promise.all(members.map((m) => waitLine(m, viewAfter(m === back ? -1 : vidBefore, ids), 30_000, `node ${id} back on ${secrets.length} secret(s)`)));
        await waitLine(back, deliveredAtLeast(2000), 30_000, `deliveries at the restarted node ${id}`);
      }
    }
    const { sent, results } = await finish(members);
    for (const r of results) {
      expect(r.errors, `node ${r.nodeId}`).to.deep.equal([]);
      for (const m of members) expect(r.counts[m.id], `messages of ${m.id} at node ${r.nodeId}`).to.equal(sent[m.id]);
    }
    // The last view, which all three share from its start: identical logs, byte for byte.
    const last = String(Math.max(...results.map((r) => Number(r.views[r.views.length - 1].split(':')[0]))));
    expect(new Set(results.map((r) => r.viewDigests[last])).size, `view ${last} logs`).to.equal(1);
  });
});
