import { expect } from 'chai';
import { InvariantViolation } from '../../src/core/invariant.js';
import { PredicateEngine } from '../../src/core/predicates.js';

describe('core/predicates', () => {
  it('runs recurrent predicates to quiescence, in insertion order within a pass', () => {
    const e = new PredicateEngine();
    let x = 0;
    let y = 0;
    const log: string[] = [];
    e.insert('x', 'recurrent', () => x < 3, () => { x++; log.push(`x${x}`); });
    e.insert('y', 'recurrent', () => y < x, () => { y++; log.push(`y${y}`); });
    expect(e.evaluate()).to.equal(6);
    expect(log).to.deep.equal(['x1', 'y1', 'x2', 'y2', 'x3', 'y3']);
    expect(e.evaluate()).to.equal(0);
  });

  it('removes one-time predicates after they fire; transition predicates fire on false -> true only', () => {
    const e = new PredicateEngine();
    let flag = false;
    let once = 0;
    let edges = 0;
    e.insert('once', 'oneTime', () => flag, () => once++);
    e.insert('edge', 'transition', () => flag, () => edges++);
    e.evaluate();
    expect([once, edges]).to.deep.equal([0, 0]);
    flag = true;
    e.evaluate();
    e.evaluate();
    expect([once, edges]).to.deep.equal([1, 1]);
    expect(e.size).to.equal(1);
    flag = false;
    e.evaluate();
    flag = true;
    e.evaluate();
    expect([once, edges]).to.deep.equal([1, 2]);
  });

  it('can remove a predicate by handle', () => {
    const e = new PredicateEngine();
    let n = 0;
    const h = e.insert('n', 'recurrent', () => n < 1, () => n++);
    e.remove(h);
    e.evaluate();
    expect(n).to.equal(0);
  });

  it('reports a livelock (a predicate that never becomes false) as an invariant violation', () => {
    const e = new PredicateEngine();
    e.insert('forever', 'recurrent', () => true, () => undefined);
    expect(() => e.evaluate()).to.throw(InvariantViolation, /quiescence/);
  });
});
