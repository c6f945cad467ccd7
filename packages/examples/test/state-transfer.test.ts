/**
 * State transfer at a join (reference §2.12, §2.15 item 8): a member that joins a running group
 * starts its replica from the old shard leader's state at the view boundary, then applies the same
 * calls as everyone else.
 */
import { expect } from 'chai';
import { Group, customShards, type ViewChange } from '@derecho-ts/runtime';
import { freeLoopbackPorts } from '@derecho-ts/runtime/internals';
import { wireSchema } from '../src/derecho.generated.js';
import { Bar, Foo } from '../src/foo-bar/objects.js';
import { memberConfig, sorted, startGroup } from './helpers.js';

describe('state transfer to a joiner (in-process members)', function () {
  this.timeout(30_000);
  const groups: Group[] = [];
  after(() => {
    for (const g of groups) g.close();
  });

  it("the joiner's replicas start from the shard's state, and then follow the same calls", async () => {
    const ports = await freeLoopbackPorts(4);
    const subgroups = [
      { type: Foo, layout: customShards([{ minNodes: 2, maxNodes: 4 }]) },
      { type: Bar, layout: customShards([{ minNodes: 1, maxNodes: 4 }]) },
    ];
    // Foo takes members first: with 3 members Foo has 2 and Bar 1; the joiner goes to Foo.
    const started = await startGroup(3, () => ({ subgroups }), ports);
    groups.push(...started.groups);
    const fooMember = started.groups.find((g) => g.view.subgroups[0].shards[0].members.includes(g.nodeId))!;
    await fooMember.subgroup(Foo).ordered.changeState(42).all();

    const changes: ViewChange[] = [];
    started.groups[0].on('view', (v) => changes.push(v));
    const joiner = await Group.join({ argv: [], schema: wireSchema, subgroups, joinTimeoutMs: 10_000, config: memberConfig(3, ports) });
    groups.push(joiner);
    expect(joiner.view.vid).to.equal(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(changes.map((c) => ({ vid: c.vid, joined: c.joined, departed: c.departed }))).to.deep.equal([{ vid: 1, joined: [3], departed: [] }]);
    const mine = changes[0].myShards.map((p) => p.type);
    expect(mine).to.have.length(1);
    const fooShard = joiner.view.subgroups[0].shards[0].members;
    expect(fooShard).to.include(3);

    // The transferred state, read from the joiner's own replica and by p2p from another member.
    expect(await joiner.subgroup(Foo).p2p(3).readState()).to.equal(42);
    const peer = started.groups[0];
    const reader = fooShard.includes(peer.nodeId) ? peer.subgroup(Foo) : peer.peer(Foo, { shard: 0 });
    expect(await reader.p2p(3).readState()).to.equal(42);

    // And it follows the total order from there.
    const replies = await joiner.subgroup(Foo).ordered.changeState(7).all();
    expect(sorted(replies.keys())).to.deep.equal(sorted(fooShard));
    for (const id of fooShard) expect(await joiner.subgroup(Foo).p2p(id).readState()).to.equal(7);
  });
});
