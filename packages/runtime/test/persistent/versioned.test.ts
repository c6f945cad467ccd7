/**
 * Persistent<T>/Volatile<T> API: time queries, ordering errors, delta types against full
 * snapshots, codecs.
 */
import * as path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { hlc, type Hlc } from '../../src/core/hlc.js';
import { INVALID_VERSION, makeVersion } from '../../src/core/version.js';
import { msgpackCodec } from '../../src/persistent/codec.js';
import type { DeltaForm } from '../../src/persistent/delta.js';
import { NotStableError, NoVersionAtTimeError, VersionNotFoundError, VersionOrderError } from '../../src/persistent/errors.js';
import { Persistent, Volatile, type VersionedField } from '../../src/persistent/versioned.js';
import { makeTempDir, NumberList, numberListCodec, removeDir } from './helpers.js';

describe('persistent: Persistent<T> and Volatile<T>', function () {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('field');
  });
  afterEach(() => removeDir(dir));

  const makers: Array<[string, () => VersionedField<string>]> = [
    ['Persistent', () => Persistent.open<string>(path.join(dir, 'f.log'), () => '')],
    ['Volatile', () => new Volatile<string>(() => '')],
  ];

  for (const [name, make] of makers) {
    describe(name, function () {
      /** Versions 10, 20, 30 (gaps between) at times 100+0, 100+3, 250+0. */
      function threeVersions(): VersionedField<string> {
        const f = make();
        const times: Hlc[] = [hlc(100, 0), hlc(100, 3), hlc(250, 0)];
        [10n, 20n, 30n].forEach((v, i) => {
          f.current = `value ${v}`;
          f.version(v, times[i]);
        });
        return f;
      }

      it('time queries at exact, between, before-first and after-last times', function () {
        const f = threeVersions();
        // exact
        expect(f.getByTime(hlc(100, 0))).to.equal('value 10');
        expect(f.getByTime(hlc(100, 3))).to.equal('value 20');
        expect(f.getByTime(hlc(250, 0))).to.equal('value 30');
        // between (logical and wall)
        expect(f.getByTime(hlc(100, 2))).to.equal('value 10');
        expect(f.getByTime(hlc(249, 99))).to.equal('value 20');
        // before the first
        expect(() => f.getByTime(hlc(99, 7))).to.throw(NoVersionAtTimeError, /no version at or before time 99\+7/);
        expect(f.versionAtTime(hlc(99, 7))).to.equal(INVALID_VERSION);
        // after the last
        expect(f.getByTime(hlc(1_000_000, 0))).to.equal('value 30');
        expect(f.versionAtTime(hlc(251, 0))).to.equal(30n);
        f.close();
      });

      it('the stability frontier refuses times at or beyond it, per call or configured', function () {
        const f = threeVersions();
        expect(() => f.getByTime(hlc(250, 0), hlc(250, 0))).to.throw(NotStableError, /not stable yet.*250\+0/);
        expect(() => f.getByTime(hlc(300, 0), hlc(250, 0))).to.throw(NotStableError);
        expect(f.getByTime(hlc(249, 0), hlc(250, 0))).to.equal('value 20');
        let frontier: Hlc | undefined = hlc(200, 0);
        const g = new Volatile<string>(() => '', { stabilityFrontier: () => frontier });
        g.current = 'a';
        g.version(1n, hlc(100));
        expect(() => g.getByTime(hlc(200, 0))).to.throw(NotStableError);
        expect(g.getByTime(hlc(199, 0))).to.equal('a');
        frontier = undefined;
        expect(g.getByTime(hlc(200, 0))).to.equal('a');
        f.close();
      });

      it('get(v) answers for holes between versions and refuses outside the log', function () {
        const f = threeVersions();
        expect(f.get(10n)).to.equal('value 10');
        expect(f.get(15n)).to.equal('value 10');
        expect(f.get(29n)).to.equal('value 20');
        expect(() => f.get(9n)).to.throw(VersionNotFoundError, /version 9 is not in the log \(the log holds versions 10\.\.30\)/);
        expect(() => f.get(31n)).to.throw(VersionNotFoundError);
        expect(f.previousVersion(20n)).to.equal(10n);
        expect(f.previousVersion(10n)).to.equal(INVALID_VERSION);
        expect(f.nextVersion(20n)).to.equal(30n);
        expect(f.nextVersion(25n)).to.equal(30n);
        expect(f.nextVersion(30n)).to.equal(INVALID_VERSION);
        f.trim(hlc(100, 3));
        expect(f.earliestVersion).to.equal(30n);
        expect(() => f.get(20n)).to.throw(VersionNotFoundError);
        f.close();
      });

      it('refuses versions that do not strictly increase, and times that go back, with clear errors', function () {
        const f = threeVersions();
        expect(() => f.version(30n, hlc(300))).to.throw(VersionOrderError, /strictly increasing: got 0\.30 \(30\) after 0\.30 \(30\)/);
        expect(() => f.version(5n, hlc(300))).to.throw(VersionOrderError);
        expect(() => f.version(31n, hlc(249, 5))).to.throw(VersionOrderError, /times must not go backwards/);
        expect(() => f.version(-3n, hlc(300))).to.throw(VersionOrderError, /non-negative/);
        f.version(makeVersion(1, 0), hlc(250, 0)); // a new view; same time is allowed
        expect(f.latestVersion).to.equal(makeVersion(1, 0));
        expect(f.count).to.equal(4);
        f.close();
      });
    });
  }

  it('a delta type reconstructs the same value as full snapshots, on disk, across reopen and trims', function () {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer(), { maxLength: 4 }), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 10 }),
        fc.nat(60),
        (steps, checkpointEvery, trimAt) => {
          const sub = makeTempDir('delta');
          const full = Persistent.open<number[]>(path.join(sub, 'full.log'), () => []);
          const opts = { codec: numberListCodec, checkpointEvery };
          let delta = Persistent.open<NumberList>(path.join(sub, 'delta.log'), () => new NumberList(), opts);
          try {
            steps.forEach((xs, i) => {
              full.current = [...full.current, ...xs];
              delta.current.push(...xs);
              full.version(BigInt(i + 1), hlc(i + 1));
              delta.version(BigInt(i + 1), hlc(i + 1));
            });
            const compare = (): void => {
              expect(delta.count).to.equal(full.count);
              for (let v = full.earliestVersion; v <= full.latestVersion; v++) expect(delta.get(v).items).to.deep.equal(full.get(v));
              expect(delta.current.items).to.deep.equal(full.current);
            };
            compare();
            delta.close();
            delta = Persistent.open<NumberList>(path.join(sub, 'delta.log'), () => new NumberList(), opts);
            compare();
            if (trimAt < steps.length) {
              full.trim(BigInt(trimAt));
              delta.trim(BigInt(trimAt));
              compare();
              delta.close();
              delta = Persistent.open<NumberList>(path.join(sub, 'delta.log'), () => new NumberList(), opts);
              compare();
            }
          } finally {
            full.close();
            delta.close();
            removeDir(sub);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('delta logs write full checkpoints every checkpointEvery versions, so a read replays few deltas', function () {
    let applied = 0;
    // Keys are only ever added; the delta is the entries added since the last take.
    let taken = 0;
    const form: DeltaForm<Map<string, number>> = {
      take: (m) => {
        const added = [...m.entries()].slice(taken);
        taken = m.size;
        return msgpackCodec<Array<[string, number]>>().encode(added);
      },
      apply: (m, d) => {
        applied++;
        for (const [k, v] of msgpackCodec<Array<[string, number]>>().decode(d)) m.set(k, v);
      },
    };
    // A Map value with its delta form given as functions (the default codec keeps the Map).
    const f = new Volatile<Map<string, number>>(() => new Map(), { delta: form, checkpointEvery: 8 });
    for (let v = 1; v <= 100; v++) {
      f.current.set(`k${v}`, v);
      f.version(BigInt(v), hlc(v));
    }
    applied = 0;
    const at = f.get(45n);
    expect(applied, 'deltas replayed for one read').to.be.lessThan(8);
    expect(at.size).to.equal(45);
    expect(at.get('k45')).to.equal(45);
    expect(at.get('k1')).to.equal(1);
    expect(at instanceof Map).to.equal(true);
  });

  it('a class delta type needs a codec, and cannot be replaced wholesale', function () {
    expect(() => new Volatile<NumberList>(() => new NumberList())).to.throw(TypeError, /no codec was given/);
    const f = new Volatile<NumberList>(() => new NumberList(), { codec: numberListCodec });
    expect(f.isDelta).to.equal(true);
    expect(() => {
      f.current = new NumberList([1]);
    }).to.throw(TypeError, /cannot be replaced wholesale/);
  });

  it('the default codec round-trips objects, Maps, Sets, bigints and bytes across codec instances', function () {
    const value = { a: { b: 1 }, m: new Map<unknown, unknown>([['k', { x: 2n ** 70n }], [3, 'three']]), s: new Set([1, 2]), bytes: new Uint8Array([1, 2, 3]), big: -5n };
    const bytes = msgpackCodec<typeof value>().encode(value);
    const back = msgpackCodec<typeof value>().decode(bytes);
    expect(back).to.deep.equal(value);
    expect(back.m instanceof Map).to.equal(true);
  });

  it('a Persistent that is not attached says so', function () {
    const f = new Persistent<number>(() => 0);
    expect(() => f.version(1n, hlc(1))).to.throw(/not attached/);
    expect(f.current).to.equal(0);
  });

  it('a value mutated after version() is not what get() returns for that version', function () {
    const f = new Volatile<{ n: number }>(() => ({ n: 0 }));
    f.current.n = 1;
    f.version(1n, hlc(1));
    f.current.n = 2;
    expect(f.get(1n)).to.deep.equal({ n: 1 });
    const copy = f.get(1n);
    copy.n = 99;
    expect(f.get(1n)).to.deep.equal({ n: 1 });
  });
});
