import { expect } from 'chai';
import fc from 'fast-check';
import { loadAddon } from '../src/index.js';

/** Builds a well-formed frame of a random type. */
function validFrame(rand: () => number): Buffer {
  const type = 1 + Math.floor(rand() * 9);
  let sub = Buffer.alloc(0);
  let payload = Buffer.alloc(0);
  switch (type) {
    case 1:
      sub = Buffer.alloc(40);
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
