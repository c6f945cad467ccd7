/**
 * RPC across membership changes: a caller that the group removes gets SenderRemovedError for
 * what it still waits on and for new calls; the reply map of a call lists exactly the members of
 * the view that delivered it.
 */
import { expect } from 'chai';
import { customShards, SenderRemovedError, type Group } from '@derecho-ts/runtime';
import { RpcProbe } from '../src/testing/rpc-probe.js';
import { sorted, startGroup } from './helpers.js';

describe('RPC across membership changes (in-process group of 3)', function () {
  this.timeout(30_000);
  let groups: Group[] = [];
  after(() => {
    for (const g of groups) g.close();
  });

  it('a removed caller gets SenderRemovedError; later calls list only the remaining members', async () => {
    ({ groups } = await startGroup(3, (id) => ({
      subgroups: [{ type: RpcProbe, layout: customShards([{ minNodes: 2, maxNodes: 3, reservedNodeIds: [0, 1, 2] }]), factory: () => new RpcProbe(id) }],
    })));
    const removedHandle = groups[2].subgroup(RpcProbe);
    // A p2p call to a replica that never answers in time (it sleeps), from the member about to go.
    const pending = removedHandle.p2p(0).slowSequence(1, 2000);
    const stopped = new Promise((resolve) => groups[2].on('shutdown', resolve));
    const view1 = new Promise((resolve) => groups[0].on('view', (v) => v.vid === 1 && resolve(v)));
    groups[0].reportFailure(2);
    await stopped;
    const err = await pending.then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(SenderRemovedError);
    expect(() => removedHandle.ordered.stamp()).to.throw(SenderRemovedError);
    await view1;
    const replies = await groups[0].subgroup(RpcProbe).ordered.stamp().all();
    expect(sorted(replies.keys())).to.deep.equal([0, 1]);
  });
});
