import { expect } from 'chai';
import fc from 'fast-check';
import { compareHlc, hlc, mergeHlc, nextHlc, type Hlc } from '../../src/core/hlc.js';

const hlcArb: fc.Arbitrary<Hlc> = fc.record({ wallUs: fc.nat(1_000_000), logical: fc.nat(50) });

describe('persistent: HLC comparison and merge rules', function () {
  it('compares by wall time, then by logical counter', function () {
    expect(compareHlc(hlc(5, 9), hlc(6, 0))).to.be.lessThan(0);
    expect(compareHlc(hlc(6, 1), hlc(6, 0))).to.be.greaterThan(0);
    expect(compareHlc(hlc(6, 1), hlc(6, 1))).to.equal(0);
    expect(() => hlc(-1)).to.throw(RangeError, /non-negative/);
    expect(() => hlc(1, 0.5)).to.throw(RangeError, /logical/);
  });

  it('nextHlc is strictly after the last stamp whatever the wall clock says', function () {
    fc.assert(
      fc.property(hlcArb, fc.nat(2_000_000), (last, wall) => {
        const next = nextHlc(last, wall);
        expect(compareHlc(next, last)).to.be.greaterThan(0);
        expect(next.wallUs).to.equal(Math.max(last.wallUs, wall));
      }),
    );
  });

  it('mergeHlc is after both clocks and not before the local wall time', function () {
    fc.assert(
      fc.property(hlcArb, hlcArb, fc.nat(2_000_000), (local, remote, now) => {
        const merged = mergeHlc(local, remote, now);
        expect(compareHlc(merged, local)).to.be.greaterThan(0);
        expect(compareHlc(merged, remote)).to.be.greaterThan(0);
        expect(merged.wallUs).to.equal(Math.max(local.wallUs, remote.wallUs, now));
        if (now > Math.max(local.wallUs, remote.wallUs)) expect(merged.logical).to.equal(0);
      }),
    );
  });
});
