/**
 * Model test of historical reads on a whole replica (`at`, `asOf`, `history`): random ordered
 * updates of an object with a Volatile counter and a delta-logged map, stamped with increasing
 * versions (gaps between them, as across views) and HLCs (several per microsecond), some versions
 * trimmed; every read through `ReplicaHistory` — the object's state as of a version or an
 * instant, the versions of a range, the refusals — is compared with a plain copy of the object
 * taken at every version.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { compareHlc, type Hlc } from '../../src/core/hlc.js';
import type { Version } from '../../src/core/version.js';
import { PersistentMap } from '../../src/persistent/collections.js';
import { NotStableError, VersionNotFoundError, VersionNotStableError, VersionTrimmedError } from '../../src/persistent/errors.js';
import { Volatile } from '../../src/persistent/versioned.js';
import { ReplicaHistory } from '../../src/rpc/historical-replica.js';
import { decodeSelector, encodeSelector, historySelector, SelectorFlags, toPoint, type HistoryPoint } from '../../src/rpc/historical-read.js';

class Inventory {
  readonly count = new Volatile<number>(() => 0);
  readonly stock = new PersistentMap<string, number>({ checkpointEvery: 8 });
  /** Not versioned: historical reads see it as it is now. */
  label = 'live';

  summary(): string {
    return `${this.count.current}:${[...this.stock.current].map(([k, v]) => `${k}=${v}`).join(',')}:${this.label}`;
  }
}

interface Snapshot {
  readonly version: Version;
  readonly hlc: Hlc;
  readonly summary: string;
}

type Update = { key: string; value: number | undefined; versionGap: number; wallStep: number };

const keys = ['a', 'b', 'c', 'd'];
const updateArb: fc.Arbitrary<Update> = fc.record({
  key: fc.constantFrom(...keys),
  value: fc.option(fc.integer({ min: 0, max: 99 }), { nil: undefined }),
  versionGap: fc.constantFrom(1, 1, 1, 3, 1 << 20),
  wallStep: fc.constantFrom(0, 0, 1, 7),
});

function build(updates: readonly Update[]): { obj: Inventory; snapshots: Snapshot[] } {
  const obj = new Inventory();
  obj.stock.attachInMemory('stock');
  const snapshots: Snapshot[] = [];
  let version = 0n;
  let hlc: Hlc = { wallUs: 1_000_000, logical: 0 };
  for (const u of updates) {
    version += BigInt(u.versionGap);
    hlc = u.wallStep === 0 ? { wallUs: hlc.wallUs, logical: hlc.logical + 1 } : { wallUs: hlc.wallUs + u.wallStep, logical: 0 };
    obj.count.current += 1;
    if (u.value === undefined) obj.stock.current.delete(u.key);
    else obj.stock.current.set(u.key, u.value);
    obj.count.version(version, hlc);
    obj.stock.version(version, hlc);
    snapshots.push({ version, hlc, summary: obj.summary().replace(/:live$/, '') });
  }
  return { obj, snapshots };
}

function summaryAt(history: ReplicaHistory, version: Version): string {
  const past = history.stateAt(version);
  try {
    return (past.instance as unknown as Inventory).summary();
  } finally {
    past.release();
  }
}

/** The newest snapshot at or before `point`, as the model says. */
function expectedAt(snapshots: readonly Snapshot[], point: HistoryPoint): Snapshot | undefined {
  let found: Snapshot | undefined;
  for (const s of snapshots) if ('version' in point ? s.version <= point.version : compareHlc(s.hlc, point.time) <= 0) found = s;
  return found;
}

describe('historical reads of a replica (model)', () => {
  it('every read as of a version or an instant equals the model, and refusals are typed', () => {
    fc.assert(
      fc.property(fc.array(updateArb, { minLength: 1, maxLength: 60 }), fc.array(fc.tuple(fc.nat(), fc.boolean(), fc.integer({ min: -2, max: 2 })), { maxLength: 30 }), (updates, queries) => {
        const { obj, snapshots } = build(updates);
        const history = new ReplicaHistory(obj as unknown as Record<string, unknown>, 'Inventory at node 1');
        const last = snapshots[snapshots.length - 1];
        expect(history.latest()).to.deep.equal({ version: last.version, hlc: last.hlc });
        for (const [pick, byTime, nudge] of queries) {
          const s = snapshots[pick % snapshots.length];
          const point: HistoryPoint = byTime ? { time: { wallUs: s.hlc.wallUs + nudge, logical: nudge < 0 ? 0 : s.hlc.logical } } : { version: s.version + BigInt(nudge) };
          const expected = expectedAt(snapshots, point);
          const beyond = 'version' in point ? point.version > last.version : compareHlc(point.time, last.hlc) > 0;
          if (beyond) {
            expect(() => history.resolve(point)).to.throw('version' in point ? VersionNotStableError : NotStableError);
            continue;
          }
          if (expected === undefined) {
            expect(() => history.resolve(point)).to.throw(/not in the log|no version at or before/);
            continue;
          }
          const v = history.resolve(point);
          expect(v).to.equal(expected.version);
          expect(summaryAt(history, v)).to.equal(`${expected.summary}:live`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('history() lists the versions of a range with the state at each, refusing a longer range than its limit', () => {
    fc.assert(
      fc.property(fc.array(updateArb, { minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 50 }), (updates, a, b, limit) => {
        const { obj, snapshots } = build(updates);
        const history = new ReplicaHistory(obj as unknown as Record<string, unknown>, 'Inventory at node 1');
        const [lo, hi] = [snapshots[a % snapshots.length], snapshots[b % snapshots.length]].sort((x, y) => (x.version < y.version ? -1 : x.version > y.version ? 1 : 0));
        const inRange = snapshots.filter((s) => s.version >= lo.version && s.version <= hi.version);
        const byVersion = (): bigint[] => history.versionsIn({ version: lo.version }, { version: hi.version }, limit);
        const byTime = (): bigint[] => history.versionsIn({ time: lo.hlc }, { time: hi.hlc }, limit);
        if (inRange.length > limit) {
          expect(byVersion).to.throw(RangeError, /more than/);
          return;
        }
        expect(byVersion()).to.deep.equal(inRange.map((s) => s.version));
        expect(byTime()).to.deep.equal(inRange.map((s) => s.version));
        for (const s of inRange) expect(summaryAt(history, s.version)).to.equal(`${s.summary}:live`);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses versions retention trimmed, with the trimmed range in the message', () => {
    const { obj, snapshots } = build(Array.from({ length: 20 }, (_, i) => ({ key: keys[i % 4], value: i, versionGap: 1, wallStep: 1 })));
    obj.count.trim(snapshots[9].version);
    obj.stock.trim(snapshots[9].version);
    const history = new ReplicaHistory(obj as unknown as Record<string, unknown>, 'Inventory at node 1');
    expect(() => history.resolve({ version: snapshots[5].version })).to.throw(VersionTrimmedError, /was trimmed/);
    expect(history.resolve({ version: snapshots[10].version })).to.equal(snapshots[10].version);
    expect(() => history.versionsIn({ version: snapshots[3].version }, undefined, 100)).to.throw(VersionTrimmedError);
    expect(history.versionsIn(undefined, undefined, 100)).to.deep.equal(snapshots.slice(10).map((s) => s.version));
  });

  it('a past state is read-only and holds its version against retention while the read runs', () => {
    const { obj, snapshots } = build(Array.from({ length: 10 }, (_, i) => ({ key: 'a', value: i, versionGap: 1, wallStep: 1 })));
    const history = new ReplicaHistory(obj as unknown as Record<string, unknown>, 'Inventory at node 1');
    const past = history.stateAt(snapshots[2].version);
    const standIn = past.instance as unknown as Inventory;
    expect(() => {
      standIn.count.current = 5;
    }).to.throw(TypeError, /read-only in a historical read/);
    expect(standIn.count.latestVersion).to.equal(snapshots[2].version);
    expect(past.hlc).to.deep.equal(snapshots[2].hlc);
    // A pinned version survives a retention pass while the read holds it.
    expect(obj.count.applyRetention({ versions: 1 }, snapshots[9].version, 0)).to.not.equal(snapshots[9].version);
    expect(standIn.count.current).to.equal(3);
    past.release();
    obj.count.applyRetention({ versions: 1 }, snapshots[9].version, 0);
    expect(() => history.stateAt(snapshots[2].version)).to.throw(VersionNotFoundError);
  });

  it('an instant after the newest version is final once the shard stability frontier has passed it', () => {
    const { obj, snapshots } = build(Array.from({ length: 5 }, (_, i) => ({ key: 'a', value: i, versionGap: 1, wallStep: 10 })));
    const history = new ReplicaHistory(obj as unknown as Record<string, unknown>, 'Inventory at node 1');
    const last = snapshots[4];
    const later = { time: { wallUs: last.hlc.wallUs + 500, logical: 0 } };
    expect(() => history.resolve(later)).to.throw(NotStableError, /not stable yet/);
    expect(() => history.resolve(later, last.hlc.wallUs + 500)).to.throw(NotStableError, /stability frontier is /);
    expect(history.resolve(later, last.hlc.wallUs + 501)).to.equal(last.version);
    // A version number is not an instant: a frontier does not make undelivered versions readable.
    expect(() => history.resolve({ version: last.version + 1n }, Number.MAX_SAFE_INTEGER)).to.throw(VersionNotStableError);
  });

  it('an object without versioned fields, or with no version yet, says it has no history', () => {
    expect(() => new ReplicaHistory({ plain: 1 }, 'Plain at node 2').latest()).to.throw(VersionNotFoundError, /keeps no history: it has no Persistent or Volatile fields/);
    const fresh = new Inventory();
    fresh.stock.attachInMemory('stock');
    expect(() => new ReplicaHistory(fresh as unknown as Record<string, unknown>, 'Inventory at node 2').resolve({ version: 1n })).to.throw(VersionNotFoundError, /no version has been written yet/);
  });
});

describe('historical read selectors on the wire', () => {
  it('round-trips at, asOf and history selectors and refuses malformed ones', () => {
    const cases = [
      { kind: 'asOf' as const, point: toPoint(123n << 32n, 'at') },
      { kind: 'asOf' as const, point: toPoint({ wallUs: 1_700_000_000_000_000, logical: 4 }, 'asOf') },
      historySelector({ from: 5n, to: new Date(1_700_000_000_000), limit: 10 }),
      historySelector({}),
    ];
    for (const selector of cases) {
      const bytes = encodeSelector(selector);
      const flags = selector.kind === 'asOf' ? SelectorFlags.AsOf : SelectorFlags.History;
      const withArgs = new Uint8Array([...bytes, 0x91, 0x01]);
      const decoded = decodeSelector(flags, withArgs);
      expect(decoded.selector).to.deep.equal(selector);
      expect([...withArgs.subarray(decoded.argsAt)]).to.deep.equal([0x91, 0x01]);
    }
    expect(() => decodeSelector(3, new Uint8Array(40))).to.throw(/flags 3/);
    expect(() => decodeSelector(SelectorFlags.AsOf, new Uint8Array(5))).to.throw(/needs 13 bytes/);
    expect(() => decodeSelector(SelectorFlags.AsOf, new Uint8Array(13))).to.throw(/names no version or time/);
    const badKind = new Uint8Array(13);
    badKind[0] = 9;
    expect(() => decodeSelector(SelectorFlags.AsOf, badKind)).to.throw(/kind 9/);
    expect(() => decodeSelector(SelectorFlags.History, new Uint8Array(30))).to.throw(/limit 0/);
  });

  it('checks what users pass: a wall-clock Date means the end of its microsecond, ranges in order', () => {
    expect(toPoint(new Date(1000), 'asOf')).to.deep.equal({ time: { wallUs: 1_000_000, logical: 0xffffffff } });
    expect(historySelector({ from: 2_000_000 }).kind).to.equal('history');
    expect(() => historySelector({ from: 9n, to: 3n })).to.throw(RangeError, /from 9 is after to 3/);
    expect(() => historySelector({ limit: 0 })).to.throw(RangeError, /limit must be an integer from 1/);
    expect(() => toPoint(-1 as never, 'asOf()')).to.throw(RangeError, /non-negative integer of microseconds/);
    expect(() => toPoint('yesterday' as never, 'asOf()')).to.throw(TypeError, /expected an HLC/);
  });
});
