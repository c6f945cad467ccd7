/**
 * Real groups of processes on loopback: each member is its own Node process with its own native
 * endpoint; they form the group through the contact and multicast over SST (SMC) and RDMC. Every
 * member's delivery log is compared: in ordered mode the whole sequence, byte for byte (a digest
 * over sender, index and payload of each delivery in order); in unordered mode each sender's
 * stream (FIFO per sender).
 */
import { expect } from 'chai';
import { devPkiUnavailableReason } from '@derecho-ts/rdma-native';
import { runLocalMulticast, type MulticastRunOptions } from '@derecho-ts/runtime/internals';

async function run(options: MulticastRunOptions) {
  const results = await runLocalMulticast({ verifyPayloads: true, timeoutMs: 150_000, logLevel: 'error', ...options });
  for (const r of results) expect(r.errors, `node ${r.nodeId} saw problems`).to.deep.equal([]);
  return results;
}

function expectIdenticalOrder(results: Awaited<ReturnType<typeof run>>, expected: number): void {
  for (const r of results) expect(r.delivered, `deliveries at node ${r.nodeId}`).to.equal(expected);
  const digests = new Set(results.map((r) => r.orderDigest));
  expect(digests.size, 'every member delivered the same sequence').to.equal(1);
  const last = new Set(results.map((r) => r.lastVersion));
  expect(last.size, 'every member ended at the same version').to.equal(1);
}

function expectIdenticalPerSender(results: Awaited<ReturnType<typeof run>>, expected: number, senders: number): void {
  for (const r of results) {
    expect(r.delivered, `deliveries at node ${r.nodeId}`).to.equal(expected);
    expect(Object.keys(r.senderDigests)).to.have.length(senders);
    expect(r.senderDigests, `per-sender streams at node ${r.nodeId}`).to.deep.equal(results[0].senderDigests);
  }
}

describe('multicast between real processes', function () {
  this.timeout(180_000);

  it('3 members, all senders, ordered: 10,000 messages each, identical delivery logs', async () => {
    const results = await run({ numNodes: 3, senderSelector: 0, messagesPerSender: 10_000, mode: 'ordered', payloadBytes: 100 });
    expectIdenticalOrder(results, 30_000);
    expect(results[0].firstVersion).to.equal('0');
  });

  it('3 members, all senders, unordered: 10,000 messages each, identical per-sender streams', async () => {
    const results = await run({ numNodes: 3, senderSelector: 0, messagesPerSender: 10_000, mode: 'unordered', payloadBytes: 100 });
    expectIdenticalPerSender(results, 30_000, 3);
    expect(results[0].lastVersion, 'unordered deliveries carry no version').to.equal('-1');
  });

  it('5 members, all senders, ordered: 10,000 messages each, identical delivery logs', async () => {
    const results = await run({ numNodes: 5, senderSelector: 0, messagesPerSender: 10_000, mode: 'ordered', payloadBytes: 64 });
    expectIdenticalOrder(results, 50_000);
  });

  it('5 members, all senders, unordered: 10,000 messages each, identical per-sender streams', async () => {
    const results = await run({ numNodes: 5, senderSelector: 0, messagesPerSender: 10_000, mode: 'unordered', payloadBytes: 64 });
    expectIdenticalPerSender(results, 50_000, 5);
  });

  it('one sender alternating SMC and RDMC keeps FIFO and total order', async () => {
    // Every fourth message is 64 KiB, above the 1 KiB SMC limit, so it travels by RDMC.
    const results = await run({ numNodes: 3, senderSelector: 0, messagesPerSender: 400, mode: 'ordered', payloadBytes: 200, maxSmcPayloadBytes: 1024, everyFourthBytes: 65536, blockBytes: 16384 });
    expectIdenticalOrder(results, 1200);
  });

  it('3 members over TLS (security.tls): SMC and RDMC messages, identical delivery logs', async function () {
    const why = devPkiUnavailableReason();
    if (why !== undefined) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    const results = await run({ numNodes: 3, senderSelector: 0, messagesPerSender: 1000, mode: 'ordered', payloadBytes: 200, maxSmcPayloadBytes: 1024, everyFourthBytes: 65536, blockBytes: 16384, tls: true });
    expectIdenticalOrder(results, 3000);
  });

  it('half the members send, RDMC-sized messages only', async () => {
    const results = await run({ numNodes: 4, senderSelector: 1, messagesPerSender: 50, mode: 'ordered', payloadBytes: 300_000, maxSmcPayloadBytes: 1024, blockBytes: 65536 });
    expectIdenticalOrder(results, 100);
  });
});
