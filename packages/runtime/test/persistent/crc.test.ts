import { crc32 as zlibCrc32 } from 'node:zlib';
import { expect } from 'chai';
import fc from 'fast-check';
import { crc32 } from '../../src/persistent/crc.js';

describe('persistent: CRC-32', function () {
  it('equals zlib.crc32 on any bytes and any sub-range, short or long', function () {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % bytes.length;
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        expect(crc32(bytes, start, end)).to.equal(zlibCrc32(bytes.subarray(start, end)));
        expect(crc32(bytes)).to.equal(zlibCrc32(bytes));
      }),
      { numRuns: 300 },
    );
    expect(crc32(Buffer.from('123456789'))).to.equal(0xcbf43926);
  });
});
