import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { Endpoint } from '../src/index.js';

const fdCount = () => readdirSync('/proc/self/fd').length;
const threadCount = () => readdirSync('/proc/self/task').length;

describe('endpoint lifecycle', function () {
  this.timeout(60_000);

  for (const receiveOnJsThread of [false, true]) it(`opens and closes 100 endpoints (connected in pairs, with regions and groups) without leaking fds or threads${receiveOnJsThread ? ' (receiving on the JS thread)' : ''}`, async () => {
    // Warm up once so lazily created runtime threads and fds are not counted as leaks.
    Endpoint.open({ nodeId: 0, buildHash: 'b', secret: 's' }).close();
    await new Promise((r) => setTimeout(r, 50));
    const fds0 = fdCount();
    const threads0 = threadCount();
    let maxThreads = threads0;
    for (let i = 0; i < 50; i++) {
      const a = Endpoint.open({ nodeId: 1, buildHash: 'b', secret: 's', receiveOnJsThread });
      const b = Endpoint.open({ nodeId: 2, buildHash: 'b', secret: 's', receiveOnJsThread });
      a.connect(2, '127.0.0.1', b.port);
      await Promise.all([a.waitConnected([2], 5_000), b.waitConnected([1], 5_000)]);
      const r = a.createRegion({ regionId: 1, rowBytes: 64, members: [1, 2] });
      b.createRegion({ regionId: 1, rowBytes: 64, members: [1, 2] });
      r.put([[0, 8]], [2], { completion: true });
      a.createRdmcGroup({ groupId: 1, members: [1, 2], blockBytes: 1024 }).send(new Uint8Array(5000));
      b.createRdmcGroup({ groupId: 1, members: [1, 2], blockBytes: 1024 });
      maxThreads = Math.max(maxThreads, threadCount());
      a.close();
      b.close();
    }
    await new Promise((r) => setTimeout(r, 50));
    console.log(`      fds ${fds0} -> ${fdCount()}, threads ${threads0} -> ${threadCount()} (peak ${maxThreads})`);
    expect(fdCount()).to.equal(fds0);
    expect(threadCount()).to.equal(threads0);
    expect(maxThreads).to.equal(threads0 + 2); // one I/O thread per open endpoint, nothing more
  });

  for (const receiveOnJsThread of [false, true]) it(`releases an endpoint left open in a worker thread when the thread is terminated (env cleanup hook${receiveOnJsThread ? ', receiving on the JS thread' : ''})`, async () => {
    const { Worker } = await import('node:worker_threads');
    const before = fdCount();
    const threadsBefore = threadCount();
    const code = `
      const { parentPort } = require('node:worker_threads');
      const addon = require(${JSON.stringify(new URL('../build/Release/derecho_native.node', import.meta.url).pathname)});
      const ep = new addon.Endpoint({ nodeId: 1, buildHash: 'b', secret: 's', receiveOnJsThread: ${receiveOnJsThread}, onWake() {} });
      parentPort.postMessage(ep.port());
      setInterval(() => {}, 1000);`;
    const w = new Worker(code, { eval: true });
    const port = await new Promise<number>((resolve) => w.once('message', resolve));
    expect(port).to.be.greaterThan(0);
    expect(fdCount()).to.be.greaterThan(before);
    await w.terminate();
    await new Promise((r) => setTimeout(r, 100));
    expect(fdCount()).to.equal(before);
    expect(threadCount()).to.equal(threadsBefore);
  });

  it('rejects use after close with a clear error, and close is idempotent', () => {
    const a = Endpoint.open({ nodeId: 1, buildHash: 'b', secret: 's' });
    a.close();
    a.close();
    expect(() => a.connect(2, '127.0.0.1', 1)).to.throw(/connect: the endpoint is closed/);
    expect(a.poll().writes).to.equal(0);
  });

  it('validates options and arguments with errors that name them', () => {
    expect(() => Endpoint.open({ nodeId: -1, buildHash: 'b', secret: 's' })).to.throw(/nodeId/);
    expect(() => Endpoint.open({ nodeId: 1, host: 'localhost', buildHash: 'b', secret: 's' })).to.throw(/IPv4/);
    expect(() => Endpoint.open({ nodeId: 1, provider: 'verbs', buildHash: 'b', secret: 's' })).to.throw(/provider "verbs" is not compiled into this build \(available: tcp\)/);
    const a = Endpoint.open({ nodeId: 1, buildHash: 'b', secret: 's' });
    try {
      expect(() => a.createRegion({ regionId: 1, rowBytes: 8, members: [2, 3] })).to.throw(/must include this node/);
      const r = a.createRegion({ regionId: 1, rowBytes: 8, members: [1, 2] });
      expect(() => r.put([[4, 8]], [2])).to.throw(/outside the 8-byte row/);
      expect(() => a.sendP2P(9, new Uint8Array(1))).to.throw(/no connection to node 9/);
      expect(() => a.createRdmcGroup({ groupId: 1, members: [1, 2], blockBytes: 0 })).to.throw(/blockBytes/);
      const g = a.createRdmcGroup({ groupId: 2, members: [2, 1], blockBytes: 64 });
      expect(() => g.send(new Uint8Array(1))).to.throw(/only node 2 sends/);
    } finally {
      a.close();
    }
  });
});
