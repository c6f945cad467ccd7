import { expect } from 'chai';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { loadAddon, providers } from '../src/index.js';

describe('rdma-native addon', () => {
  it('loads and names its providers', () => {
    console.log(`      providers: ${providers.join(', ')}`);
    expect(providers).to.include('tcp');
    expect(loadAddon().providers).to.deep.equal([...providers]);
  });

  it('computes SHA-256 like node:crypto for lengths around the block boundaries', () => {
    const addon = loadAddon();
    for (const len of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 100_000]) {
      const data = randomBytes(len);
      expect(Buffer.from(addon._sha256ForTest(data)).toString('hex'), `length ${len}`).to.equal(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('computes HMAC-SHA256 like node:crypto (short, block-sized and long keys)', () => {
    const addon = loadAddon();
    for (const keyLen of [0, 1, 20, 63, 64, 65, 200]) {
      for (const len of [0, 17, 64, 300]) {
        const key = randomBytes(keyLen);
        const data = randomBytes(len);
        expect(Buffer.from(addon._hmacSha256ForTest(key, data)).toString('hex'), `key ${keyLen} data ${len}`).to.equal(
          createHmac('sha256', key).update(data).digest('hex'),
        );
      }
    }
    // RFC 4231 test case 2.
    const mac = addon._hmacSha256ForTest(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'));
    expect(Buffer.from(mac).toString('hex')).to.equal('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('has a sound RDMC schedule for 1..9 members (binomial pipeline step count on powers of two)', () => {
    const addon = loadAddon();
    for (let n = 1; n <= 9; n++) {
      for (const blocks of [1, 2, 3, 5, 8, 31, 100, 1000]) {
        const r = addon._rdmcScheduleForTest(n, blocks);
        expect(r.error, `n=${n} blocks=${blocks}`).to.equal(null);
        const m = 2 ** Math.floor(Math.log2(n));
        const k = Math.log2(m);
        if (n > 1) expect(r.steps, `steps n=${n} blocks=${blocks}`).to.equal(blocks + Math.max(k, 1) - 1);
      }
    }
  });
});
