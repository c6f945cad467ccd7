import { expect } from 'chai';
import fc from 'fast-check';
import { Endpoint, loadAddon } from '../src/index.js';
import type { NativeEndpoint } from '../src/addon.js';

/** Builds a well-formed frame of a random type. */
function validFrame(rand: () => number): Buffer {
  const type = 1 + Math.floor(rand() * 9);
  let sub = Buffer.alloc(0);
  let payload = Buffer.alloc(0);
  switch (type) {
    case 1:
      sub = Buffer.alloc(72); // HelloSub: version, id, nonce, secret tags
      payload = Buffer.from('build-hash');
      break;
    case 2:
      sub = Buffer.alloc(72);
      payload = Buffer.from('hash');
      break;
    case 3:
      payload = Buffer.from('because');
      break;
    case 4:
      sub = Buffer.alloc(32);
      break;
    case 5: {
      const ranges = 1 + Math.floor(rand() * 3);
      sub = Buffer.alloc(16);
      sub.writeUInt32LE(3, 0);
      sub.writeUInt32LE(ranges, 4);
      const table = Buffer.alloc(ranges * 8);
      let data = 0;
      for (let i = 0; i < ranges; i++) {
        const len = 1 + Math.floor(rand() * 20);
        table.writeUInt32LE(i * 32, i * 8);
        table.writeUInt32LE(len, i * 8 + 4);
        data += len;
      }
      payload = Buffer.concat([table, Buffer.alloc(data, 7)]);
      break;
    }
    case 6:
      sub = Buffer.alloc(8);
      break;
    case 7:
      payload = Buffer.alloc(Math.floor(rand() * 50), 1);
      break;
    case 8: {
      const blockBytes = 16;
      const total = Math.floor(rand() * 100);
      const blocks = total === 0 ? 1 : Math.ceil(total / blockBytes);
      const blockNo = Math.floor(rand() * blocks);
      sub = Buffer.alloc(32);
      sub.writeUInt32LE(1, 0);
      sub.writeUInt32LE(blockNo, 4);
      sub.writeBigUInt64LE(BigInt(total), 16);
      sub.writeUInt32LE(blockBytes, 24);
      payload = Buffer.alloc(Math.max(0, Math.min(blockBytes, total - blockNo * blockBytes)), 2);
      break;
    }
    case 9:
      sub = Buffer.alloc(16);
      break;
  }
  const h = Buffer.alloc(16);
  h.writeUInt16LE(0xde7c, 0);
  h.writeUInt8(type, 2);
  h.writeUInt32LE(sub.length, 4);
  h.writeBigUInt64LE(BigInt(payload.length), 8);
  return Buffer.concat([h, sub, payload]);
}

describe('frame decoder fuzzing', function () {
  this.timeout(60_000);
  const addon = loadAddon();

  it('decodes well-formed frames, whole and split into 1..7-byte slices', () => {
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const frames = Array.from({ length: 2000 }, () => validFrame(rand));
    const all = Buffer.concat(frames);
    for (const chunk of [undefined, 1, 3, 7]) {
      const r = addon._decodeFramesForTest(all, chunk);
      expect(r.error).to.equal(null);
      expect(r.frames).to.equal(2000);
      expect(r.complete).to.equal(true);
    }
  });

  it('survives ≥100,000 random and mutated frames without crashing, always ending in a count or an error', () => {
    let total = 0;
    let errors = 0;
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    // Mutated valid frames: flipped bytes, truncation, splicing, absurd lengths.
    for (let i = 0; i < 70_000; i++) {
      const f = Buffer.from(validFrame(rand));
      const kind = i % 5;
      if (kind === 0) f[Math.floor(rand() * f.length)] ^= 1 << Math.floor(rand() * 8);
      else if (kind === 1) f.writeBigUInt64LE(BigInt(Math.floor(rand() * 2 ** 52)), 8);
      else if (kind === 2) f.writeUInt32LE(Math.floor(rand() * 2 ** 32), 4);
      else if (kind === 3 && f.length > 16) f[16 + Math.floor(rand() * (f.length - 16))] = Math.floor(rand() * 256);
      const cut = kind === 4 ? f.subarray(0, Math.floor(rand() * f.length)) : f;
      const r = addon._decodeFramesForTest(cut, 1 + (i % 13));
      expect(r.frames).to.be.at.most(1);
      if (r.error !== null) errors++;
      total++;
    }
    // Pure random bytes.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (bytes) => {
        const r = addon._decodeFramesForTest(bytes);
        expect(r.frames).to.be.at.least(0);
        // A full header with the wrong magic must be refused, never half-accepted.
        if (bytes.length >= 16 && (bytes[0] !== 0x7c || bytes[1] !== 0xde)) expect(r.error).to.match(/bad frame magic/);
        total++;
        if (r.error !== null) errors++;
      }),
      { numRuns: 30_000, seed: 7 },
    );
    console.log(`      ${total} inputs, ${errors} rejected with an error`);
    expect(total).to.be.at.least(100_000);
    expect(errors).to.be.greaterThan(30_000);
  });
});

/**
 * Structure-aware fuzzing through the real frame handlers (native/frame_fuzzer.cc generates, the
 * endpoint's I/O thread decodes and handles): every frame kind, on connections still in the
 * handshake and on authenticated ones, against an endpoint with regions and RDMC groups (receiver
 * and sender) so that the handlers' state checks run, not only the decoder's.
 * DERECHO_FUZZ_FRAMES sets the frames per kind and mode (default 100,000; 10,000,000 by hand).
 */
describe('structure-aware fuzzing of every frame kind through the endpoint', function () {
  const perKind = Number(process.env.DERECHO_FUZZ_FRAMES ?? 100_000);
  this.timeout(Math.max(300_000, perKind / 20));
  const kinds = ['hello', 'hello-ack', 'reject', 'proof', 'put', 'put-ack', 'p2p', 'rdmc-block', 'rdmc-done'];
  const endpoints: Endpoint[] = [];
  after(() => endpoints.forEach((e) => e.close()));

  for (const authenticated of [false, true]) {
    it(`survives ${perKind.toLocaleString('en-US')} mutated frames of each kind ${authenticated ? 'after' : 'before'} authentication, and still serves a real peer`, async () => {
      const ep = Endpoint.open({ nodeId: 1, buildHash: 'test-build', secret: 'test-secret' });
      endpoints.push(ep);
      const native = (ep as unknown as { native: NativeEndpoint }).native;
      ep.createRegion({ regionId: 7, rowBytes: 64, members: [1, 2, 3, 4] });
      ep.createRegion({ regionId: 8, rowBytes: 16, members: [2, 1] });
      ep.createRdmcGroup({ groupId: 5, members: [2, 1, 3], blockBytes: 16 });
      ep.createRdmcGroup({ groupId: 6, members: [1, 2, 3], blockBytes: 16 });
      ep.createRdmcGroup({ groupId: 9, members: [3, 1], blockBytes: 4096 });
      const targets = { nodeIds: [2, 3, 4, 5, 99], groupIds: [5, 6, 9, 11], regionIds: [7, 8, 12] };
      let logs = 0;
      ep.onPoll((r) => void (logs += r.logs.length));
      const chunk = 20_000;
      for (let type = 1; type <= 9; type++) {
        const t0 = Date.now();
        let frames = 0;
        let dropped = 0;
        for (let done = 0; done < perKind; done += chunk) {
          const n = Math.min(chunk, perKind - done);
          const st = native._fuzzForTest(type, n, type * 1_000_003 + done + (authenticated ? 7 : 0), authenticated, targets);
          frames += st.frames;
          dropped += st.dropped;
          await new Promise((r) => setImmediate(r)); // let the endpoint's poll apply writes and take the logs
        }
        console.log(`      ${kinds[type - 1]}: ${frames} frames, ${dropped} connections dropped, ${Date.now() - t0} ms`);
        expect(frames).to.equal(perKind);
        // Most mutations are violations: each must have ended its connection, not the process.
        expect(dropped).to.be.greaterThan(perKind / 10);
      }
      expect(logs).to.be.greaterThan(0);
      // Still a working member: a real peer connects and its row arrives.
      const peer = Endpoint.open({ nodeId: 2, buildHash: 'test-build', secret: 'test-secret' });
      endpoints.push(peer);
      peer.connect(1, '127.0.0.1', ep.port);
      await peer.waitConnected([1], 10_000);
      const region = peer.createRegion({ regionId: 20, rowBytes: 8, members: [1, 2] });
      const mine = ep.createRegion({ regionId: 20, rowBytes: 8, members: [1, 2] });
      region.ownRow()[0] = 42;
      region.put([[0, 8]]);
      await ep.waitFor(() => mine.rowOf(2)[0] === 42, 10_000, 'the real peer\'s row');
    });
  }
});
