/**
 * The persistence-frontier wiring alone: the core's persist requests answered (at once when
 * nothing is on disk), frontiers advanced by the core's outputs and by a new view, and failures
 * passed both to the waiting callers and to the core.
 */
import { expect } from 'chai';
import pino from 'pino';
import type { GroupView } from '../../src/core/membership/group-view.js';
import { makeVersion, type Version } from '../../src/core/version.js';
import { PersistenceFrontiers } from '../../src/rpc/persistence-frontiers.js';
import type { RpcTransport } from '../../src/rpc/rpc-transport.js';

function harness() {
  const persisted: [number, Version][] = [];
  const failed: [number, string][] = [];
  const transport: RpcTransport = {
    nodeId: 0,
    channel: 2,
    log: pino({ level: 'silent' }),
    view: () => undefined,
    multicast: () => {},
    sendP2P: () => {},
    dropPeer: () => {},
    persisted: (subgroupId, version) => persisted.push([subgroupId, version]),
    persistenceFailed: (subgroupId, error) => failed.push([subgroupId, error.message]),
  };
  return { persisted, failed, frontiers: new PersistenceFrontiers(transport) };
}

const viewNumbered = (vid: number): GroupView => ({ vid, members: [], subgroups: [] });

describe('PersistenceFrontiers', () => {
  it('answers a persist request at once when the replica keeps nothing on disk, and advances the local frontier', async () => {
    const { persisted, frontiers } = harness();
    frontiers.open(3);
    const waiting = frontiers.get(3)!.waitLocal(makeVersion(0, 5));
    frontiers.onPersist(3, makeVersion(0, 5), undefined);
    expect(persisted).to.deep.equal([[3, makeVersion(0, 5)]]);
    await waiting;
    expect(frontiers.get(3)!.local).to.equal(makeVersion(0, 5));
  });

  it('answers for subgroups without a frontier too (ordered shards), tracking nothing', () => {
    const { persisted, frontiers } = harness();
    frontiers.onPersist(1, makeVersion(0, 2), undefined);
    expect(persisted).to.deep.equal([[1, makeVersion(0, 2)]]);
    expect(frontiers.get(1)).to.equal(undefined);
  });

  it('a new view makes the whole previous view globally persisted', () => {
    const { frontiers } = harness();
    frontiers.open(0);
    frontiers.onGlobalPersisted(0, makeVersion(1, 3));
    expect(frontiers.get(0)!.global).to.equal(makeVersion(1, 3));
    frontiers.viewStarted(viewNumbered(2));
    expect(frontiers.get(0)!.global).to.equal((2n << 32n) - 1n);
  });

  it('a failure rejects the waiting callers and tells the core', async () => {
    const { failed, frontiers } = harness();
    frontiers.open(0);
    const waiting = frontiers.get(0)!.waitGlobal(makeVersion(0, 9));
    frontiers.failed(0, new Error('disk full'));
    expect(failed).to.deep.equal([[0, 'disk full']]);
    const outcome = await waiting.then(() => 'resolved', (err: unknown) => err);
    expect(outcome).to.be.instanceOf(Error).with.property('message', 'disk full');
  });
});
