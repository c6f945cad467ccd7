/**
 * Membership through the Group API, with in-process members (each its own endpoint on loopback):
 * an application's reportFailure removes a member (which learns it and stops), and a view that
 * would be too small for the layout keeps the group wedged, saying so, until a member joins.
 */
import { expect } from 'chai';
import { Group, customShards, InadequateViewError, type ViewChange } from '../../src/index.js';
import { freeLoopbackPorts } from '../../src/bench/local-ports.js';

const cfg = (id: number, ports: readonly number[]) => ({
  cluster: { secret: 'a-test-cluster-secret', contact: `127.0.0.1:${ports[0]}` },
  node: { id, host: '127.0.0.1', port: ports[id] },
  failure: { heartbeatMs: 20, failureTimeoutMs: 1000 },
  logging: { level: 'silent' },
});

const nextView = (g: Group, test: (v: ViewChange) => boolean, timeoutMs = 5000) =>
  new Promise<ViewChange>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${g.nodeId}: no such view within ${timeoutMs} ms`)), timeoutMs);
    g.on('view', (v) => {
      if (test(v)) {
        clearTimeout(timer);
        resolve(v);
      }
    });
  });

describe('membership through the Group API (in-process members)', function () {
  this.timeout(30_000);
  const groups: Group[] = [];
  afterEach(() => {
    for (const g of groups.splice(0)) g.close();
  });

  it('reportFailure removes a member; it learns it was removed and stops', async () => {
    const ports = await freeLoopbackPorts(3);
    const subgroups = [{ name: 's', layout: customShards([{ minNodes: 1, maxNodes: 3 }]) }];
    groups.push(...(await Promise.all([0, 1, 2].map((id) => Group.join({ argv: [], config: cfg(id, ports), subgroups, minMembers: 3 })))));
    const stopped = new Promise<{ reason: string; message: string }>((resolve) => groups[2].on('shutdown', resolve));
    const views = [nextView(groups[0], (v) => v.vid === 1), nextView(groups[1], (v) => v.vid === 1)];
    groups[0].reportFailure(2);
    for (const v of await Promise.all(views)) expect(v.departed).to.deep.equal([2]);
    const stop = await stopped;
    expect(stop.reason).to.equal('removed');
    expect(stop.message).to.be.a('string').and.not.equal('');
  });

  it('an inadequate next view keeps the group wedged, with a clear error, until a member joins', async () => {
    const ports = await freeLoopbackPorts(4);
    // The shard needs 3 members: losing one of three leaves too few.
    const subgroups = [{ name: 's', layout: customShards([{ minNodes: 3, maxNodes: 3 }]) }];
    const [a, b, c] = await Promise.all([0, 1, 2].map((id) => Group.join({ argv: [], config: cfg(id, ports), subgroups, minMembers: 3 })));
    groups.push(a, b, c);
    c.close();
    // The survivors cannot install a view of two: they stay wedged and say why.
    await new Promise((r) => setTimeout(r, 600));
    expect(() => a.rawSubgroup('s')).to.throw(InadequateViewError, /wedged until more members join/);
    // A new member makes the next view adequate.
    const installed = nextView(a, (v) => v.members.length === 3 && v.members.some((m) => m.id === 3), 10_000);
    const d = await Group.join({ argv: [], config: cfg(3, ports), subgroups, joinTimeoutMs: 10_000 });
    groups.push(d);
    const v = await installed;
    expect(v.departed).to.deep.equal([2]);
    expect(v.joined).to.deep.equal([3]);
    const got: string[] = [];
    d.rawSubgroup('s').on('deliver', (m) => got.push(new TextDecoder().decode(m.payload)));
    a.rawSubgroup('s').send(new TextEncoder().encode('back in business'));
    await new Promise((r) => setTimeout(r, 200));
    expect(got).to.deep.equal(['back in business']);
  });

  it('an exception from a delivery handler does not kill the process: the node fails itself, the others go on', async () => {
    const ports = await freeLoopbackPorts(3);
    const subgroups = [{ name: 's', layout: customShards([{ minNodes: 1, maxNodes: 3 }]) }];
    const [a, b, c] = await Promise.all([0, 1, 2].map((id) => Group.join({ config: cfg(id, ports), subgroups, minMembers: 3 })));
    groups.push(a, b, c);
    const stopped = new Promise<{ reason: string; message: string }>((resolve) => c.on('shutdown', resolve));
    c.rawSubgroup('s').on('deliver', () => {
      throw new RangeError('the application tripped over a message');
    });
    const views = [nextView(a, (v) => v.departed.includes(2), 10_000), nextView(b, (v) => v.departed.includes(2), 10_000)];
    a.rawSubgroup('s').send(new TextEncoder().encode('boom'));
    const stop = await stopped;
    expect(stop.reason).to.equal('failed');
    expect(stop.message).to.match(/cannot carry out .*"kind":"deliver".* in view 0 at rank \d+: the application tripped over a message/);
    for (const v of await Promise.all(views)) expect(v.members.map((m) => m.id)).to.deep.equal([0, 1]);
  });

  it('a joiner the group cannot admit yet: Group.join fails naming why', async () => {
    const ports = await freeLoopbackPorts(7);
    // The shard needs 5 members. Two of five close: three remain (no partition), wedged.
    const subgroups = [{ name: 's', layout: customShards([{ minNodes: 5, maxNodes: 7 }]) }];
    const five = await Promise.all([0, 1, 2, 3, 4].map((id) => Group.join({ config: cfg(id, ports), subgroups, minMembers: 5 })));
    groups.push(...five);
    five[3].close();
    five[4].close();
    await new Promise((r) => setTimeout(r, 1500));
    // One joiner makes four: still too few. Its join fails with the reason, not just a timeout.
    let error: Error | undefined;
    try {
      groups.push(await Group.join({ config: cfg(5, ports), subgroups, joinTimeoutMs: 3000 }));
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(/did not join within 3000 ms.*: the group cannot install view 1 yet: .*needs at least 5 nodes/);
  });
});
