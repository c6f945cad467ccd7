/**
 * Joining a group through the real fabric, with the members in this process (each its own
 * endpoint, over loopback sockets): the happy path through the Group API, and the ways a join
 * fails, each with an error that says why.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Group, type GroupJoinOptions } from '../../src/replicated/group.js';
import { JoinError } from '../../src/driver/group-node.js';
import { UnknownSubgroupError } from '../../src/replicated/errors.js';
import { shards } from '../../src/layout/constructors.js';
import { freeLoopbackPorts } from '../../src/bench/local-ports.js';
import type { RawDelivery } from '../../src/replicated/raw-subgroup.js';

function config(id: number, ports: number[], secret = 'a-test-cluster-secret') {
  return {
    cluster: { secret, contact: `127.0.0.1:${ports[0]}` },
    node: { id, host: '127.0.0.1', port: ports[id] },
    failure: { heartbeatMs: 50, failureTimeoutMs: 2000 },
    logging: { level: 'silent' },
  };
}

describe('joining a group (in-process members over loopback)', function () {
  this.timeout(20_000);
  const groups: Group[] = [];
  const join = async (options: GroupJoinOptions) => {
    const g = await Group.join({ argv: [], ...options });
    groups.push(g);
    return g;
  };
  afterEach(() => {
    for (const g of groups.splice(0)) g.close();
  });

  it('forms a 2-member group, multicasts, and replays deliveries that came before a listener', async () => {
    const ports = await freeLoopbackPorts(2);
    const subgroups = [{ name: 'stream', layout: shards({ minNodes: 2 }) }];
    const [a, b] = await Promise.all([join({ config: config(0, ports), subgroups }), join({ config: config(1, ports), subgroups })]);
    expect(a.view.members.map((m) => m.id)).to.deep.equal([0, 1]);
    expect(b.view.vid).to.equal(0);
    const sa = a.rawSubgroup('stream');
    const sb = b.rawSubgroup('stream');
    sa.send(new TextEncoder().encode('hello'));
    sb.send(new TextEncoder().encode('world'));
    // Give the messages time to be delivered before anyone listens at b: they must be held.
    const atA: RawDelivery[] = [];
    sa.on('deliver', (d) => atA.push(d));
    await new Promise((r) => setTimeout(r, 300));
    const atB: RawDelivery[] = [];
    sb.on('deliver', (d) => atB.push(d));
    await new Promise((r) => setTimeout(r, 50));
    const show = (ds: RawDelivery[]) => ds.map((d) => `${d.sender}:${new TextDecoder().decode(d.payload)}@${d.version}`);
    expect(show(atB)).to.deep.equal(show(atA));
    expect(show(atA).sort()).to.deep.equal(['0:hello@0', '1:world@1']);
  });

  it('copies the payload at send(): a buffer reused right after send() does not change what was sent', async () => {
    const ports = await freeLoopbackPorts(1);
    const g = await join({ config: config(0, ports), subgroups: [{ name: 'only', layout: shards({ minNodes: 1 }) }] });
    const s = g.rawSubgroup('only');
    const got: number[] = [];
    s.on('deliver', (d) => got.push(d.payload[0]));
    const buffer = new Uint8Array(8);
    for (let i = 0; i < 5; i++) {
      buffer[0] = i;
      s.send(buffer);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(got).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('names unknown subgroups and refuses payloads that are not bytes', async () => {
    const ports = await freeLoopbackPorts(1);
    const g = await join({ config: config(0, ports), subgroups: [{ name: 'only', layout: shards({ minNodes: 1 }) }] });
    expect(() => g.rawSubgroup('other')).to.throw(UnknownSubgroupError, /no raw subgroup "other" with index 0 in view 0 \(subgroups: only\)/);
    expect(() => g.rawSubgroup('only').send('text' as unknown as Uint8Array)).to.throw(TypeError, /send\(\) takes a Uint8Array, got string/);
  });

  it('refuses a joiner with the wrong cluster secret', async () => {
    const ports = await freeLoopbackPorts(2);
    const subgroups = [{ name: 's', layout: shards({ minNodes: 1 }) }];
    await join({ config: config(0, ports), subgroups });
    const err = await Group.join({ argv: [], config: config(1, ports, 'not-the-cluster-secret'), subgroups, joinTimeoutMs: 5000 }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(JoinError);
    expect((err as Error).message).to.match(/cannot join through the contact at 127\.0\.0\.1:\d+: .*secret/);
  });

  it('refuses a second member with an id in use', async () => {
    const ports = await freeLoopbackPorts(3);
    const subgroups = [{ name: 's', layout: shards({ minNodes: 3 }) }];
    const first = join({ config: config(0, ports), subgroups });
    const second = join({ config: config(1, ports), subgroups });
    await new Promise((r) => setTimeout(r, 200));
    // Same id 1, its own port: the leader refuses it while the group is still forming.
    const dupConfig = { ...config(1, ports), node: { id: 1, host: '127.0.0.1', port: ports[2] } };
    const err = await Group.join({ argv: [], config: dupConfig, subgroups, joinTimeoutMs: 5000 }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(JoinError);
    expect((err as Error).message).to.match(/already has a connection from a node with id 1: is that id in use by another process\?/);
    void first.catch(() => undefined);
    void second.catch(() => undefined);
  });

  it('gives up on an unreachable contact at the join deadline, naming it', async () => {
    const ports = await freeLoopbackPorts(2);
    const started = Date.now();
    const err = await Group.join({ argv: [], config: config(1, ports), subgroups: [{ name: 's', layout: shards({ minNodes: 1 }) }], joinTimeoutMs: 600 }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(JoinError);
    expect((err as Error).message).to.match(new RegExp(`127\\.0\\.0\\.1:${ports[0]}`));
    expect(Date.now() - started).to.be.lessThan(3000);
  });

  it('reads --node-id from the command line by default (the program keeps its own arguments)', async () => {
    const [port] = await freeLoopbackPorts(1);
    const script = fileURLToPath(new URL('./fixtures/argv-member.ts', import.meta.url));
    const env = { ...process.env, DERECHO_PORT: String(port), DERECHO_SECRET: 'a-test-cluster-secret', DERECHO_CONTACT: `127.0.0.1:${port}` };
    const run = (args: string[]) => spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', script, ...args], { encoding: 'utf8', env, timeout: 30_000 });
    const joined = run(['--app-flag', '--node-id', '5']);
    expect(joined.stderr).to.equal('');
    expect(joined.stdout).to.equal('JOINED 5\n');
    const missing = run(['--app-flag']);
    expect(missing.status).to.not.equal(0);
    expect(missing.stderr).to.match(/node\.id: required: give each node its id with --node-id or DERECHO_NODE_ID/);
  });

  it('await leave() resolves after this node stopped with reason "left"; the others go on without it', async () => {
    const ports = await freeLoopbackPorts(3);
    const subgroups = [{ name: 's', layout: shards({ minNodes: 1 }) }];
    const [a, b, c] = await Promise.all([0, 1, 2].map((id) => join({ config: config(id, ports), subgroups, minMembers: 3 })));
    const events: string[] = [];
    c.on('shutdown', (e) => events.push(`shutdown ${e.reason}`));
    const views = Promise.all([a, b].map((g) => new Promise<number[]>((resolve) => g.on('view', (v) => v.departed.includes(2) && resolve(v.members.map((m) => m.id))))));
    const leaving = c.leave();
    const again = c.leave();
    await leaving.then(() => events.push('left'));
    await again;
    expect(events).to.deep.equal(['shutdown left', 'left']);
    expect(await views).to.deep.equal([
      [0, 1],
      [0, 1],
    ]);
    // Leaving again (or closing) after the node stopped is a no-op that resolves.
    await c.leave();
    await c.close();
  });
});
