/**
 * A group whose members run on separate hosts: each in its own network namespace with its own
 * address, joined by a bridge. The same ordered multicast as on loopback, across real interfaces.
 */
import { expect } from 'chai';
import { runLocalMulticast } from '@derecho-ts/runtime/internals';
import { NetnsLab } from './netns-lab.js';

describe('a group across network namespaces (multi-host)', function () {
  this.timeout(120_000);
  let lab: NetnsLab | undefined;

  before(function () {
    const why = NetnsLab.unavailableReason();
    if (why !== undefined) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    lab = NetnsLab.create(3);
  });

  after(() => lab?.destroy());

  it('forms across 3 hosts and delivers identical logs, SMC and RDMC', async () => {
    const results = await runLocalMulticast({
      numNodes: 3,
      senderSelector: 0,
      messagesPerSender: 2000,
      mode: 'ordered',
      payloadBytes: 200,
      everyFourthBytes: 100_000,
      maxSmcPayloadBytes: 1024,
      blockBytes: 32_768,
      verifyPayloads: true,
      logLevel: 'error',
      hosts: lab!.hosts,
      timeoutMs: 100_000,
    });
    for (const r of results) {
      expect(r.errors, `node ${r.nodeId}`).to.deep.equal([]);
      expect(r.delivered).to.equal(6000);
    }
    expect(new Set(results.map((r) => r.orderDigest)).size).to.equal(1);
  });
});
