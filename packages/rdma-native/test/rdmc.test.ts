import { expect } from 'chai';
import { WorkerPool, type Worker } from './helpers/workers.js';

interface Seen {
  groupId: number;
  sender: number;
  index: number;
  size: number;
  sha256: string;
  ownMessage: boolean;
}

const MiB = 1 << 20;

describe('RDMC multicast between processes (binomial pipeline over tcp)', function () {
  this.timeout(120_000);
  const pool = new WorkerPool();
  after(() => pool.killAll());

  it('delivers every message once, intact and in order, for sizes 0..100 MiB and 2..8 members, groups running at once', async () => {
    const ids = [1, 2, 3, 4, 5, 6, 7, 8];
    const ws = await pool.cluster(ids);
    const byId = new Map<number, Worker>(ids.map((id, i) => [id, ws[i]]));
    const edge = (b: number) => [0, 1, b - 1, b, b + 1];
    const groups = [
      { groupId: 2, members: [2, 3], blockBytes: 1000, sizes: [...edge(1000), 10 * MiB] },
      { groupId: 3, members: [3, 4, 5], blockBytes: MiB, sizes: [...edge(MiB), 100 * MiB] },
      { groupId: 4, members: [4, 5, 6, 7], blockBytes: 4096, sizes: edge(4096) },
      { groupId: 5, members: [5, 6, 7, 8, 1], blockBytes: 64 * 1024, sizes: [...edge(64 * 1024), 10 * MiB] },
      { groupId: 6, members: [6, 7, 8, 1, 2, 3], blockBytes: 4096, sizes: edge(4096) },
      { groupId: 7, members: [7, 8, 1, 2, 3, 4, 5], blockBytes: 3000, sizes: edge(3000) },
      { groupId: 8, members: [8, 1, 2, 3, 4, 5, 6, 7], blockBytes: 4096, sizes: [...edge(4096), 10 * MiB] },
    ];
    // Receivers create their groups after the sender has started, in varying order: blocks that
    // arrive before the local group exists are held and forwarded once it does.
    for (const g of groups) await byId.get(g.members[0])!.request('createRdmc', g);
    const sent = await Promise.all(groups.map((g) => byId.get(g.members[0])!.request('rdmcSend', { groupId: g.groupId, sizes: g.sizes })));
    for (const g of groups) for (const m of g.members.slice(1).reverse()) await byId.get(m)!.request('createRdmc', g);
    const t0 = Date.now();
    await Promise.all(
      groups.map(async (g, gi) => {
        const sums = sent[gi].sums as string[];
        for (const m of g.members) {
          const r = await byId.get(m)!.request('rdmcWait', { groupId: g.groupId, count: g.sizes.length, timeoutMs: 90_000 }, 100_000);
          const seen = r.messages as Seen[];
          expect(seen, `group ${g.groupId} at node ${m}`).to.have.length(g.sizes.length);
          seen.forEach((s, i) => {
            expect(s.index, `group ${g.groupId} node ${m} message ${i} index`).to.equal(i);
            expect(s.sender).to.equal(g.members[0]);
            expect(s.size, `group ${g.groupId} node ${m} message ${i} size`).to.equal(g.sizes[i]);
            expect(s.sha256, `group ${g.groupId} node ${m} message ${i} checksum`).to.equal(sums[i]);
            expect(s.ownMessage).to.equal(m === g.members[0]);
          });
        }
      }),
    );
    console.log(`      ${groups.length} groups, ${groups.reduce((n, g) => n + g.sizes.length, 0)} messages delivered everywhere in ${Date.now() - t0} ms`);
  });

  it('drops blocks for a group destroyed on the receiver without dropping the connection', async () => {
    const [a, b] = await pool.cluster([21, 22]);
    await a.request('createRdmc', { groupId: 9, members: [21, 22], blockBytes: 64 * 1024 });
    await b.request('createRdmc', { groupId: 9, members: [21, 22], blockBytes: 64 * 1024 });
    await a.request('rdmcSend', { groupId: 9, sizes: [1000] });
    await b.request('rdmcWait', { groupId: 9, count: 1 });
    await b.request('destroyRdmc', { groupId: 9 });
    await a.request('rdmcSend', { groupId: 9, sizes: [20 * MiB] });
    await new Promise((r) => setTimeout(r, 500));
    await a.request('p2pSend', { to: 22, count: 10 });
    const r = await b.request('p2pWait', { count: 10 });
    expect(r.inOrder).to.equal(true);
    expect(b.events.filter((e) => e.event === 'failure')).to.have.length(0);
    expect(a.events.filter((e) => e.event === 'failure')).to.have.length(0);
  });
});
