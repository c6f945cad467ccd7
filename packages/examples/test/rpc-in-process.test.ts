/**
 * The RPC layer on a real in-process group (4 members, each its own endpoint over loopback):
 * RpcProbe's shard is nodes 0..2, Foo's is node 3. Ordered calls, reply maps, versions and HLCs,
 * remote exceptions, p2p FIFO at the target, calls from non-members, and the errors of misuse.
 */
import { expect } from 'chai';
import { InvalidNodeError, NotAMemberError, RemoteError, customShards, type Group } from '@derecho-ts/runtime';
import { Foo } from '../src/foo-bar/objects.js';
import { RpcProbe, type Stamp } from '../src/testing/rpc-probe.js';
import { sorted, startGroup } from './helpers.js';

describe('typed subgroups and RPC (in-process group of 4)', function () {
  this.timeout(30_000);
  let groups: Group[] = [];

  before(async () => {
    ({ groups } = await startGroup(4, (id) => ({
      subgroups: [
        // Pinned with reserved ids: members join concurrently, and an unpinned shard would take
        // whichever three joined first.
        { type: RpcProbe, layout: customShards([{ minNodes: 3, reservedNodeIds: [0, 1, 2] }]), factory: () => new RpcProbe(id) },
        { type: Foo, layout: customShards([{ minNodes: 1, reservedNodeIds: [3] }]) },
      ],
    })));
  });
  after(() => {
    for (const g of groups) g.close();
  });

  it('an ordered call is applied by every shard member, with one version and HLC everywhere', async () => {
    const results = groups[0].subgroup(RpcProbe).ordered.stamp();
    const replies = await results.all();
    expect(sorted(replies.keys())).to.deep.equal([0, 1, 2]);
    const version = await results.version;
    const hlc = await results.hlc;
    for (const [node, s] of replies) {
      expect(s.node).to.equal(node);
      expect(s.version).to.equal(version);
      expect({ wallUs: s.wallUs, logical: s.logical }).to.deep.equal(hlc);
    }
    expect(new Set([...replies.values()].map((s) => s.applied)).size, 'every replica applied the same prefix').to.equal(1);
    expect(sorted((await results.replies).keys())).to.deep.equal([0, 1, 2]);
  });

  it('concurrent ordered calls from every member are applied in one order by every replica', async () => {
    const perMember = 40;
    const calls = [0, 1, 2].flatMap((id) => Array.from({ length: perMember }, () => groups[id].subgroup(RpcProbe).ordered.stamp()));
    const all = await Promise.all(calls.map((c) => c.all()));
    const byVersion = new Map<bigint, Stamp[]>();
    for (const replies of all) {
      expect(sorted(replies.keys())).to.deep.equal([0, 1, 2]);
      const stamps = [...replies.values()];
      expect(new Set(stamps.map((s) => s.applied)).size, 'same position at every replica').to.equal(1);
      expect(new Set(stamps.map((s) => `${s.version}/${s.wallUs}/${s.logical}`)).size, 'same version and HLC at every replica').to.equal(1);
      byVersion.set(stamps[0].version, stamps);
    }
    expect(byVersion.size, 'each call has its own version').to.equal(3 * perMember);
    const ordered = [...byVersion.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    for (let i = 1; i < ordered.length; i++) expect(ordered[i][1][0].applied).to.equal(ordered[i - 1][1][0].applied + 1);
  });

  it('first() gives one reply; a void call lists the members it was delivered to', async () => {
    const probe = groups[1].subgroup(RpcProbe);
    const s = await probe.ordered.stamp().first();
    expect([0, 1, 2]).to.include(s.node);
    const sink = probe.ordered.sink(new Uint8Array(100));
    const delivered = await sink.all();
    expect(sorted(delivered.keys())).to.deep.equal([0, 1, 2]);
    expect([...delivered.values()]).to.deep.equal([undefined, undefined, undefined]);
    expect(() => probe.ordered.sink(new Uint8Array(64 << 20))).to.throw(/payload/i);
  });

  it('a handler that throws rejects every entry with RemoteError (name and message)', async () => {
    const results = groups[2].subgroup(RpcProbe).ordered.fail('no such thing');
    const replies = await results.replies;
    expect(sorted(replies.keys())).to.deep.equal([0, 1, 2]);
    for (const [node, p] of replies) {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(RemoteError);
      expect((err as RemoteError).nodeId).to.equal(node);
      expect((err as RemoteError).remoteName).to.equal('TypeError');
      expect((err as RemoteError).remoteMessage).to.equal('no such thing');
    }
    const all = await results.all().then(() => undefined, (e: unknown) => e);
    expect(all).to.be.instanceOf(RemoteError);
    const p2p = await groups[3].peer(RpcProbe, { shard: 0 }).p2p(1).fail('p2p too').then(() => undefined, (e: unknown) => e);
    expect(p2p).to.be.instanceOf(RemoteError);
    expect((p2p as RemoteError).message).to.equal('node 1: TypeError: p2p too');
  });

  it('p2p calls run in FIFO order at the target, async handlers included', async () => {
    const peer = groups[3].peer(RpcProbe, { shard: 0 }).p2p(1);
    const slow = peer.slowSequence(-1, 100);
    const quick = Array.from({ length: 200 }, (_, i) => peer.sequence(i));
    const [slowPos] = await slow;
    const positions = await Promise.all(quick);
    expect(positions.map(([, tag]) => tag)).to.deep.equal(Array.from({ length: 200 }, (_, i) => i));
    for (let i = 0; i < positions.length; i++) expect(positions[i][0]).to.equal(slowPos + 1 + i);
  });

  it('p2p calls between members, to any replica, see that replica state', async () => {
    const probe = groups[0].subgroup(RpcProbe);
    await probe.ordered.stamp().all();
    const counts = await Promise.all([0, 1, 2].map((n) => probe.p2p(n).appliedCount()));
    expect(new Set(counts).size).to.equal(1);
    const foo = groups[0].peer(Foo, { shard: 0 });
    expect(foo.members).to.deep.equal([3]);
    expect(await foo.p2p().readState()).to.equal(0);
  });

  it('a non-member gets NotAMemberError for subgroup(), and InvalidNodeError for a node outside the shard', () => {
    expect(() => groups[3].subgroup(RpcProbe)).to.throw(NotAMemberError, /node 3 is not in any shard of RpcProbe\[0\]/);
    expect(() => groups[0].subgroup(Foo)).to.throw(NotAMemberError);
    expect(() => groups[0].peer(RpcProbe, { shard: 0 }).p2p(3)).to.throw(InvalidNodeError, /node 3 is not a member of RpcProbe\[0\] shard 0/);
    expect(() => groups[0].peer(RpcProbe, { shard: 1 })).to.throw(RangeError, /shard must be an integer from 0 to 0, got 1/);
  });

  it('method names outside the stub throw a TypeError at runtime too', () => {
    const probe = groups[0].subgroup(RpcProbe);
    expect(() => (probe.p2p(1) as unknown as Record<string, unknown>).stamp).to.throw(TypeError, /has no method 'stamp' \(it has: appliedCount, fail, ping, sequence, slowSequence, at, asOf, history\)/);
    expect(() => (probe.ordered as unknown as Record<string, unknown>).ping).to.throw(TypeError, /RpcProbe\.ordered/);
  });

  it('arguments of the wrong type (bypassing the types) are refused by the replicas, which stay unchanged', async () => {
    const foo = groups[3].subgroup(Foo);
    const err = await (foo.ordered.changeState as unknown as (x: unknown) => ReturnType<typeof foo.ordered.changeState>)('7').first().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RemoteError);
    expect((err as RemoteError).remoteName).to.equal('WireTypeError');
    expect((err as RemoteError).remoteMessage).to.match(/Foo\.changeState argument 'next': expected number, got the string "7"/);
    expect(await foo.ordered.readState().first()).to.equal(0);
  });

  it('every reply equals what a fresh replica returns applying the same calls in version order (§2.15 item 3)', async () => {
    const foo = groups[3].subgroup(Foo);
    const initial = await foo.ordered.readState().first();
    const values = [5, 5, 7, 5, 7, 7, 9, 5];
    const calls = values.map((v) => ({ v, r: foo.ordered.changeState(v) }));
    const outcomes = await Promise.all(calls.map(async ({ v, r }) => ({ v, version: await r.version, replies: await r.all() })));
    outcomes.sort((a, b) => (a.version < b.version ? -1 : 1));
    const replay = new Foo();
    replay.changeState(initial);
    for (const o of outcomes) expect([...o.replies.values()], `changeState(${o.v}) at version ${o.version}`).to.deep.equal([replay.changeState(o.v)]);
    expect(await foo.p2p(3).readState()).to.equal(replay.readState());
  });
});
