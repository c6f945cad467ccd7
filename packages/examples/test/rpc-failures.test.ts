/**
 * RPC when things go wrong: a replica that fails before replying (NodeRemovedError), a caller that
 * leaves (SenderRemovedError), malformed RPC bytes from a connection (dropped, the member lives
 * on), a build with another schema (refused in the handshake), and a stale generated file.
 */
import { expect } from 'chai';
import { Endpoint, type PollResult } from '@derecho-ts/rdma-native';
import {
  Group,
  JoinError,
  NodeRemovedError,
  Ordered,
  P2P,
  Replicated,
  SenderRemovedError,
  StaleSchemaError,
  shards,
} from '@derecho-ts/runtime';
import { freeLoopbackPorts, buildHashWithSchema } from '@derecho-ts/runtime/internals';
import { wireSchema } from '../src/derecho.generated.js';
import { RpcProbe } from '../src/testing/rpc-probe.js';
import { SECRET, memberConfig, sorted, startGroup } from './helpers.js';

const probeGroup = (n: number) => (id: number) => ({ subgroups: [{ type: RpcProbe, layout: shards({ minNodes: n }), factory: () => new RpcProbe(id) }] });

describe('RPC failures', function () {
  this.timeout(30_000);
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('a replica that fails before replying rejects its entry (and its p2p calls) with NodeRemovedError', async () => {
    const { groups } = await startGroup(3, probeGroup(3));
    cleanup.push(() => groups.forEach((g) => g.close()));
    const results = groups[0].subgroup(RpcProbe).ordered.delayedStamp(1500);
    // Its outcome is taken at once: it rejects while the test is still waiting on other things.
    const pending = groups[0].peer(RpcProbe, { shard: 0 }).p2p(2).slowSequence(1, 5000).then(() => undefined, (e: unknown) => e);
    const replies = await results.replies;
    expect(sorted(replies.keys())).to.deep.equal([0, 1, 2]);
    groups[2].close();
    const outcomes = await Promise.all([0, 1, 2].map((n) => replies.get(n)!.then((s) => s.node, (e: unknown) => e)));
    expect(outcomes[0]).to.equal(0);
    expect(outcomes[1]).to.equal(1);
    expect(outcomes[2]).to.be.instanceOf(NodeRemovedError);
    expect((outcomes[2] as NodeRemovedError).nodeId).to.equal(2);
    expect(await pending).to.be.instanceOf(NodeRemovedError);
    const later = await groups[1].peer(RpcProbe, { shard: 0 }).p2p(2).ping().then(() => undefined, (e: unknown) => e);
    expect(later).to.be.instanceOf(NodeRemovedError);
  });

  it('a caller that leaves rejects what it still waits for with SenderRemovedError', async () => {
    const { groups } = await startGroup(2, probeGroup(2));
    cleanup.push(() => groups.forEach((g) => g.close()));
    const probe = groups[0].subgroup(RpcProbe);
    const results = probe.ordered.delayedStamp(2000);
    await results.replies;
    groups[0].close();
    expect(await results.all().then(() => undefined, (e: unknown) => e)).to.be.instanceOf(SenderRemovedError);
    expect(() => probe.ordered.stamp()).to.throw(SenderRemovedError);
  });

  it('malformed RPC bytes drop that connection; the member carries on', async () => {
    const { groups, ports } = await startGroup(2, probeGroup(2));
    cleanup.push(() => groups.forEach((g) => g.close()));
    const stranger = Endpoint.open({ nodeId: 77, host: '127.0.0.1', port: 0, secret: SECRET, buildHash: buildHashWithSchema(wireSchema.hash), heartbeatTimeoutMs: 3000 });
    cleanup.push(() => stranger.close());
    const seen: PollResult[] = [];
    stranger.onPoll((r) => seen.push(r));
    const connect = async () => {
      stranger.connect(1, '127.0.0.1', ports[1]);
      await stranger.waitConnected([1], 5000);
    };
    const failures = () => seen.flatMap((r) => r.failures).filter((f) => f.nodeId === 1).length;
    const replies = () => seen.flatMap((r) => r.p2p).filter((m) => m.from === 1);
    await connect();

    // A well-formed p2p request (RpcProbe.ping, subgroup 0, invocation 5) is answered.
    const header = new Uint8Array([2, 2, 0, wireSchema.classes.RpcProbe.methods.ping.id, 0, 0, 0, 0, 0, 5, 0, 0, 0]);
    stranger.sendP2P(1, [header, new Uint8Array([0x90])]); // msgpack []
    await stranger.waitFor(() => replies().length === 1, 5000, 'a reply');
    expect([...replies()[0].data.subarray(0, 3)]).to.deep.equal([2, 3, 0]);

    const garbage: Uint8Array[][] = [
      [new Uint8Array([2, 99, 1, 2, 3])], // unknown frame kind
      [new Uint8Array([2, 2, 0])], // truncated header
      [header, new Uint8Array([0xc1])], // args are not msgpack
      [header, new Uint8Array([0x91, 0xa1, 0x78])], // ping takes no arguments
      [new Uint8Array([2, 2, 0, 0xff, 0xff, 0, 0, 0, 0, 5, 0, 0, 0, 0x90])], // unknown method id
      [new Uint8Array([2, 2, 0, wireSchema.classes.RpcProbe.methods.stamp.id, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0x90])], // not a @P2P() method
    ];
    for (const [i, message] of garbage.entries()) {
      if (i > 0) await connect();
      stranger.sendP2P(1, message);
      await stranger.waitFor(() => failures() === i + 1, 5000, `the member to drop connection after garbage ${i}`);
    }
    // The member is alive and the group still works.
    const after = await groups[0].subgroup(RpcProbe).ordered.stamp().all();
    expect(sorted(after.keys())).to.deep.equal([0, 1]);
  });

  it('a member built with another schema is refused in the handshake', async () => {
    const ports = await freeLoopbackPorts(2);
    const first = await Group.join({ argv: [], config: memberConfig(0, ports), schema: wireSchema, subgroups: [{ type: RpcProbe, layout: shards({ minNodes: 1 }) }] });
    cleanup.push(() => first.close());
    const other = { ...wireSchema, hash: '0'.repeat(64) };
    const err = await Group.join({ argv: [], config: memberConfig(1, ports), schema: other, subgroups: [{ type: RpcProbe, layout: shards({ minNodes: 1 }) }], joinTimeoutMs: 5000 }).then(
      (g) => {
        g.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(JoinError);
    expect((err as Error).message).to.match(/build hash mismatch/);
  });

  it('a class that differs from the generated schema fails the join with StaleSchemaError', async () => {
    @Replicated({ name: 'Foo' })
    class FooWithReset {
      @Ordered() @P2P() readState(): number {
        return 0;
      }
      @Ordered() reset(): void {}
    }
    @Replicated()
    class NotGenerated {
      @Ordered() ping(): void {}
    }
    const ports = await freeLoopbackPorts(1);
    const join = (type: abstract new () => object, schema = wireSchema) => Group.join({ argv: [], config: memberConfig(0, ports), schema, subgroups: [{ type, layout: shards({ minNodes: 1 }) }] }).then((g) => g.close(), (e: unknown) => e);
    const stale = await join(FooWithReset);
    expect(stale).to.be.instanceOf(StaleSchemaError);
    expect((stale as Error).message).to.equal(
      "class FooWithReset (wire name 'Foo') does not match the wire schema: method 'reset' (@Ordered()) is not in the schema; the schema has method 'changeState', which the class does not decorate; the generated file (derecho.generated.ts) is stale: run derecho-codegen and rebuild",
    );
    const missing = await join(NotGenerated);
    expect(missing).to.be.instanceOf(StaleSchemaError);
    expect((missing as Error).message).to.match(/^the wire schema has no class 'NotGenerated' \(class NotGenerated; schema classes: Accounts, Bar, DurableKV, Foo, KVStore, Reducer, RpcProbe, SensorShard, SmartMemory\)/);
    const noSchema = await Group.join({ argv: [], config: memberConfig(0, ports), subgroups: [{ type: RpcProbe, layout: shards({ minNodes: 1 }) }] }).then((g) => g.close(), (e: unknown) => e);
    expect((noSchema as Error).message).to.match(/needs the generated schema: pass \{ schema: wireSchema \}/);
  });
});
