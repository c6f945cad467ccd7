/**
 * False suspicions from load, between real processes: a member whose event loop is blocked by a
 * slow delivery handler for 3x the failure timeout stays in the group and removes no one, while a
 * member that is really stopped (SIGSTOP) or dead (kill -9) is still removed within the documented
 * bound (failure timeout + heartbeat + scheduling slack; at once for a crash).
 */
import { expect } from 'chai';
import { deliveredAtLeast, finish, startGroup, viewWith, waitLine, type Member } from './churn-harness.js';

const lastDelivered = (m: Member): number => Number(m.lines.filter((l) => l.startsWith('DELIVERED ')).at(-1)?.slice(10) ?? 0);

describe('membership between real processes: a blocked event loop is not a failure', function () {
  this.timeout(180_000);
  let members: Member[] = [];
  afterEach(() => {
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) (m.child.kill('SIGCONT'), m.child.kill('SIGKILL'));
    members = [];
  });

  it('a member blocked for 3x the failure timeout is not removed and removes no one; stopped and killed ones are', async () => {
    const failureTimeoutMs = 1000;
    members = (await startGroup(4, failureTimeoutMs)).members;
    await Promise.all(members.map((m) => waitLine(m, deliveredAtLeast(2000), 30_000, '2000 deliveries')));

    const blockMs = 3 * failureTimeoutMs;
    members[1].child.stdin!.write(`block ${blockMs}\n`);
    const blocked = Number((await waitLine(members[1], (l) => l.startsWith('BLOCKED '), 30_000, 'the blocked handler')).slice(8));
    expect(blocked).to.be.at.least(blockMs);
    // Everyone goes on delivering after the block, in view 0 (no VIEW line anywhere since).
    await Promise.all(members.map((m) => waitLine(m, deliveredAtLeast(lastDelivered(m) + 4000), 60_000, `deliveries at node ${m.id} after the block`)));
    await new Promise((r) => setTimeout(r, 2 * failureTimeoutMs));
    for (const m of members) {
      expect(m.lines.filter((l) => l.startsWith('VIEW ') && !l.startsWith('VIEW 0 ')), `views at node ${m.id}`).to.deep.equal([]);
      expect(m.lines.filter((l) => l.startsWith('SHUTDOWN ')), `node ${m.id}`).to.deep.equal([]);
    }

    let t0 = Date.now();
    members[2].child.kill('SIGSTOP');
    const afterStop = [members[0], members[1], members[3]];
    await Promise.all(afterStop.map((m) => waitLine(m, viewWith(1, [0, 1, 3]), 20_000, 'view 1 without the stopped node')));
    const stopRemovedMs = Date.now() - t0;
    console.log(`      SIGSTOPped member removed (view installed everywhere) after ${stopRemovedMs} ms`);

    t0 = Date.now();
    members[3].child.kill('SIGKILL');
    const survivors = [members[0], members[1]];
    await Promise.all(survivors.map((m) => waitLine(m, viewWith(2, [0, 1]), 20_000, 'view 2 without the killed node')));
    console.log(`      killed member removed after ${Date.now() - t0} ms`);

    const { sent, results } = await finish(survivors);
    for (const r of results) {
      expect(r.errors, `node ${r.nodeId}`).to.deep.equal([]);
      for (const s of survivors) expect(r.counts[s.id], `messages of ${s.id} at node ${r.nodeId}`).to.equal(sent[s.id]);
    }
    expect(new Set(results.map((r) => r.digest)).size, 'identical delivery logs').to.equal(1);
    // The bound for a stopped process: failure timeout + heartbeat + slack, then one view change.
    expect(stopRemovedMs).to.be.lessThan(failureTimeoutMs + 5_000);
  });
});
