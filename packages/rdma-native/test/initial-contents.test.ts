/**
 * A region created with initial contents after a peer already wrote to it: the peer's early
 * writes (held because the region did not exist yet) land on top of the initial contents.
 * This is what a view change needs: the next view's table is initialized by each member when it
 * gets there, and faster members may already have pushed their rows.
 */
import { expect } from 'chai';
import { Endpoint } from '../src/index.js';

describe('regions created with initial contents', function () {
  this.timeout(20_000);
  const endpoints: Endpoint[] = [];
  after(() => {
    for (const e of endpoints) e.close();
  });

  it('applies writes that arrived before creation on top of the initial contents', async () => {
    const opts = { secret: 'a-test-cluster-secret', buildHash: 'initial-contents-test' };
    const a = Endpoint.open({ nodeId: 1, ...opts });
    const b = Endpoint.open({ nodeId: 2, ...opts });
    endpoints.push(a, b);
    a.connect(2, '127.0.0.1', b.port);
    await Promise.all([a.waitConnected([2]), b.waitConnected([1])]);

    const rowBytes = 16;
    const ra = a.createRegion({ regionId: 7, rowBytes, members: [1, 2] });
    ra.ownRow().fill(0xaa, 0, 8);
    ra.put([[0, 8]]);
    // b has no region 7 yet: poll until the write has been received and held.
    await b.waitFor(() => b.stats().putsReceivedByIoThread + b.stats().putsReceivedInline >= 1, 5000, 'the early write');
    b.poll();

    const init = new Uint8Array(2 * rowBytes).fill(0x11);
    const rb = b.createRegion({ regionId: 7, rowBytes, members: [1, 2], initialContents: init });
    const rowOfA = rb.rowOf(1);
    expect([...rowOfA.subarray(0, 8)], "a's early write survives").to.deep.equal(new Array(8).fill(0xaa));
    expect([...rowOfA.subarray(8)], "the rest of a's row keeps the initial contents").to.deep.equal(new Array(8).fill(0x11));
    expect([...rb.ownRow()], 'my own row is the initial contents').to.deep.equal(new Array(16).fill(0x11));
  });

  it('refuses initial contents of the wrong size, naming the size', () => {
    const e = Endpoint.open({ nodeId: 3, secret: 'a-test-cluster-secret', buildHash: 'x' });
    endpoints.push(e);
    expect(() => e.createRegion({ regionId: 1, rowBytes: 8, members: [3], initialContents: new Uint8Array(5) })).to.throw(/exactly rowBytes x members \(8 bytes\), got 5/);
  });
});
