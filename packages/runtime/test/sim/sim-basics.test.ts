import { expect } from 'chai';
import { EventQueue } from '../../src/sim/event-queue.js';
import { SimNetwork } from '../../src/sim/network.js';
import { Prng } from '../../src/sim/prng.js';

describe('sim/basics', () => {
  it('Prng: same seed, same stream; different seeds differ; ranges respected', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xs = Array.from({ length: 100 }, () => a.nextU32());
    expect(Array.from({ length: 100 }, () => b.nextU32())).to.deep.equal(xs);
    expect(Array.from({ length: 100 }, () => c.nextU32())).to.not.deep.equal(xs);
    const p = new Prng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = p.int(3, 9);
      expect(v).to.be.within(3, 9);
      seen.add(v);
    }
    expect(seen.size).to.equal(7);
    expect(() => new Prng(1.5)).to.throw(/safe integer/);
  });

  it('EventQueue: time order, FIFO among equal times, no scheduling in the past', () => {
    const q = new EventQueue<string>();
    q.schedule(5, 'c');
    q.schedule(1, 'a');
    q.schedule(5, 'd');
    q.schedule(3, 'b');
    const order: string[] = [];
    for (let e = q.pop(); e; e = q.pop()) order.push(`${e.atUs}${e.event}`);
    expect(order).to.deep.equal(['1a', '3b', '5c', '5d']);
    expect(q.nowUs).to.equal(5);
    expect(() => q.schedule(4, 'x')).to.throw(/past/);
  });

  it('SimNetwork: per-connection FIFO even with jitter; bandwidth costs time', () => {
    const net = new SimNetwork({ baseDelayUs: 10, jitterUs: 500, bandwidthBytesPerUs: 1 }, new Prng(1));
    let last = 0;
    for (let i = 0; i < 200; i++) {
      const at = net.arrivalUs(i, 'sst', 0, 1, 1);
      expect(at).to.be.at.least(last);
      last = at;
    }
    const slow = new SimNetwork({ baseDelayUs: 10, jitterUs: 0, bandwidthBytesPerUs: 1 }, new Prng(1));
    expect(slow.arrivalUs(0, 'rdmc', 0, 1, 1000)).to.equal(1010);
    // The writer's link is busy with the first transfer: the second to another reader queues behind it.
    expect(slow.arrivalUs(0, 'rdmc', 0, 2, 1000)).to.equal(2010);
  });
});
