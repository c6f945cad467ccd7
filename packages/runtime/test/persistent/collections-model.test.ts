/**
 * Model-based test of PersistentMap, PersistentSet and PersistentLog: random changes, versions,
 * persists, trims, truncates and reopenings run against the collection (on a file, and in memory)
 * and against a plain Map / Set / array copied at every version; after every step every read of
 * the collection (current, get by version / index / time, neighbours, timeOf, the per-key and
 * per-length reads) is compared with the model replayed version by version.
 */
import * as path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { compareHlc, HLC_ZERO, type Hlc } from '../../src/core/hlc.js';
import { INVALID_VERSION, type Version } from '../../src/core/version.js';
import { PersistentLog, PersistentMap, PersistentSet } from '../../src/persistent/collections.js';
import { NoVersionAtTimeError, VersionNotFoundError } from '../../src/persistent/errors.js';
import type { FileLogOptions } from '../../src/persistent/file-log.js';
import type { Persistent } from '../../src/persistent/versioned.js';
import { makeTempDir, removeDir } from './helpers.js';

type Change = { op: 'set'; key: number; value: number } | { op: 'delete'; key: number } | { op: 'clear' } | { op: 'bulk'; from: number; count: number };

type Op =
  | { op: 'change'; change: Change }
  | { op: 'version'; gap: bigint; timeStep: number }
  | { op: 'persist' }
  | { op: 'trim'; fraction: number; byTime: boolean }
  | { op: 'truncate'; back: number }
  | { op: 'reopen' };

/** A collection kind: how to make it, change it, and see it and the model as comparable arrays. */
interface Kind<M> {
  name: string;
  make(checkpointEvery: number | undefined): Persistent<unknown>;
  empty(): M;
  copy(model: M): M;
  apply(target: { model: M; real: unknown }, change: Change): void;
  /** The collection's contents in iteration order (a model and a real value alike). */
  view(value: unknown): unknown[];
  /** Extra reads at version v (value of a key, length). */
  extraReads(field: Persistent<unknown>, v: Version, expected: M | undefined): void;
}

const mapKind: Kind<Map<number, number>> = {
  name: 'PersistentMap',
  make: (checkpointEvery) => new PersistentMap<number, number>(checkpointEvery === undefined ? {} : { checkpointEvery }) as unknown as Persistent<unknown>,
  empty: () => new Map(),
  copy: (m) => new Map(m),
  apply({ model, real }, change) {
    const map = real as Map<number, number>;
    for (const target of [model, map]) {
      if (change.op === 'set') target.set(change.key, change.value);
      else if (change.op === 'delete') target.delete(change.key);
      else if (change.op === 'clear') target.clear();
      else for (let i = 0; i < change.count; i++) target.set(change.from + i, i);
    }
  },
  view: (value) => [...(value as Map<number, number>)],
  extraReads(field, v, expected) {
    const map = field as unknown as PersistentMap<number, number>;
    for (const key of [0, 1, 5, 100]) {
      if (expected === undefined) expect(() => map.getAt(key, v)).to.throw(VersionNotFoundError);
      else expect(map.getAt(key, v), `getAt(${key}, ${v})`).to.equal(expected.get(key));
    }
  },
};

const setKind: Kind<Set<number>> = {
  name: 'PersistentSet',
  make: (checkpointEvery) => new PersistentSet<number>(checkpointEvery === undefined ? {} : { checkpointEvery }) as unknown as Persistent<unknown>,
  empty: () => new Set(),
  copy: (s) => new Set(s),
  apply({ model, real }, change) {
    const set = real as Set<number>;
    for (const target of [model, set]) {
      if (change.op === 'set') target.add(change.key);
      else if (change.op === 'delete') target.delete(change.key);
      else if (change.op === 'clear') target.clear();
      else for (let i = 0; i < change.count; i++) target.add(change.from + i);
    }
  },
  view: (value) => [...(value as Set<number>)],
  extraReads() {},
};

const logKind: Kind<number[]> = {
  name: 'PersistentLog',
  make: (checkpointEvery) => new PersistentLog<number>(checkpointEvery === undefined ? {} : { checkpointEvery }) as unknown as Persistent<unknown>,
  empty: () => [],
  copy: (a) => [...a],
  apply({ model, real }, change) {
    const log = real as { append(...xs: number[]): number };
    const added = change.op === 'set' ? [change.value] : change.op === 'bulk' ? Array.from({ length: change.count }, (_, i) => change.from + i) : [];
    model.push(...added);
    log.append(...added);
  },
  view: (value) => [...(value as Iterable<number>)],
  extraReads(field, v, expected) {
    const log = field as unknown as PersistentLog<number>;
    if (expected === undefined) expect(() => log.lengthAt(v)).to.throw(VersionNotFoundError);
    else expect(log.lengthAt(v), `lengthAt(${v})`).to.equal(expected.length);
  },
};

interface Entry<M> {
  v: Version;
  t: Hlc;
  state: M;
}

function run<M>(kind: Kind<M>, ops: Op[], onFile: boolean, checkpointEvery: number | undefined, eagerCompaction: boolean): void {
  const dir = makeTempDir('collections');
  const file = path.join(dir, 'c.log');
  const logOptions: FileLogOptions = { compactMinBytes: 0, compactDeadFraction: eagerCompaction ? 0 : 0.5 };
  const open = (): Persistent<unknown> => {
    const field = kind.make(checkpointEvery);
    if (onFile) field.attach(file, logOptions);
    else field.attachInMemory('model collection');
    return field;
  };
  let field = open();
  let entries: Entry<M>[] = [];
  let current = kind.empty();
  let trimmedThrough: Version = INVALID_VERSION;
  let trimmedTime: Hlc = HLC_ZERO;
  let persisted: Version = INVALID_VERSION;
  const latest = (): Version => (entries.length === 0 ? INVALID_VERSION : entries[entries.length - 1].v);
  const floor = (): Version => (latest() > trimmedThrough ? latest() : trimmedThrough);
  const floorTime = (): Hlc => (entries.length === 0 ? trimmedTime : entries[entries.length - 1].t);
  const latestState = (): M => (entries.length === 0 ? kind.empty() : kind.copy(entries[entries.length - 1].state));
  const trimPrefix = (keep: (e: Entry<M>) => boolean): void => {
    let n = 0;
    while (n < entries.length && !keep(entries[n])) n++;
    if (n === 0) return;
    trimmedThrough = entries[n - 1].v;
    trimmedTime = entries[n - 1].t;
    entries = entries.slice(n);
  };

  const check = (): void => {
    expect(field.count, 'count').to.equal(entries.length);
    expect(field.latestVersion, 'latestVersion').to.equal(latest());
    expect(field.earliestVersion, 'earliestVersion').to.equal(entries.length === 0 ? INVALID_VERSION : entries[0].v);
    expect(field.lastPersistedVersion, 'lastPersistedVersion').to.equal(persisted);
    expect(kind.view(field.current), 'current').to.deep.equal(kind.view(current));
    entries.forEach((e, i) => {
      expect(kind.view(field.getByIndex(i)), `getByIndex(${i})`).to.deep.equal(kind.view(e.state));
      expect(field.timeOf(e.v)).to.deep.equal(e.t);
    });
    expect(() => field.getByIndex(entries.length)).to.throw(VersionNotFoundError);
    const probes = new Set<Version>([0n, floor() + 1n, trimmedThrough]);
    for (const e of entries) for (const d of [-1n, 0n, 1n]) probes.add(e.v + d);
    for (const v of probes) {
      if (v < 0n) continue;
      const inRange = entries.length > 0 && v >= entries[0].v && v <= latest();
      const expected = inRange ? [...entries].reverse().find((e) => e.v <= v)?.state : undefined;
      if (expected === undefined) expect(() => field.get(v), `get(${v})`).to.throw(VersionNotFoundError);
      else expect(kind.view(field.get(v)), `get(${v})`).to.deep.equal(kind.view(expected));
      kind.extraReads(field, v, expected);
      expect(field.previousVersion(v), `previousVersion(${v})`).to.equal([...entries].reverse().find((e) => e.v < v)?.v ?? INVALID_VERSION);
      expect(field.nextVersion(v), `nextVersion(${v})`).to.equal(entries.find((e) => e.v > v)?.v ?? INVALID_VERSION);
    }
    const times: Hlc[] = [HLC_ZERO];
    for (const e of entries) times.push(e.t, { wallUs: e.t.wallUs + 1, logical: 0 });
    for (const t of times) {
      const expected = [...entries].reverse().find((e) => compareHlc(e.t, t) <= 0);
      if (expected === undefined) expect(() => field.getByTime(t)).to.throw(NoVersionAtTimeError);
      else {
        expect(kind.view(field.getByTime(t)), `getByTime(${t.wallUs})`).to.deep.equal(kind.view(expected.state));
        expect(field.versionAtTime(t)).to.equal(expected.v);
      }
    }
  };

  try {
    for (const op of [...ops, { op: 'reopen' as const }]) {
      switch (op.op) {
        case 'change':
          kind.apply({ model: current, real: field.current }, op.change);
          break;
        case 'version': {
          const v = floor() + op.gap;
          const base = floorTime();
          const t = { wallUs: base.wallUs + op.timeStep, logical: op.timeStep === 0 ? base.logical + 1 : 0 };
          field.version(v, t);
          entries.push({ v, t, state: kind.copy(current) });
          break;
        }
        case 'persist':
          field.persist();
          persisted = floor();
          break;
        case 'trim': {
          if (entries.length === 0) break;
          const target = entries[Math.floor(op.fraction * entries.length)];
          if (op.byTime) {
            field.trim(target.t);
            trimPrefix((e) => compareHlc(e.t, target.t) > 0);
          } else {
            field.trim(target.v);
            trimPrefix((e) => e.v > target.v);
          }
          break;
        }
        case 'truncate': {
          const target = entries.length === 0 ? trimmedThrough : entries[Math.max(0, entries.length - 1 - op.back)].v;
          field.truncate(target);
          entries = entries.filter((e) => e.v <= target);
          current = latestState();
          if (persisted > floor()) persisted = floor();
          break;
        }
        case 'reopen':
          if (!onFile) break;
          field.close();
          field = open();
          persisted = floor();
          current = latestState();
          break;
      }
      check();
    }
  } finally {
    field.close();
    removeDir(dir);
  }
}

const changeArb: fc.Arbitrary<Change> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.nat(6), value: fc.integer({ min: -50, max: 50 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bulk' as const), from: fc.nat(200), count: fc.integer({ min: 1, max: 40 }) }) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('change' as const), change: changeArb }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('version' as const), gap: fc.constantFrom(1n, 1n, 1n, 3n, 1n << 32n), timeStep: fc.constantFrom(0, 1, 1, 7) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'persist' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('trim' as const), fraction: fc.integer({ min: 0, max: 99 }).map((n) => n / 100), byTime: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), back: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
);

describe('persistent collections: model-based reads over random histories', function () {
  this.timeout(120_000);
  for (const kind of [mapKind, setKind, logKind] as Kind<unknown>[]) {
    for (const onFile of [true, false]) {
      it(`${kind.name} ${onFile ? 'on a file' : 'in memory'}: every read matches a plain collection replayed version by version`, () => {
        fc.assert(
          fc.property(fc.array(opArb, { minLength: 1, maxLength: 70 }), fc.constantFrom(undefined, 2, 5), fc.boolean(), (ops, checkpointEvery, eager) => run(kind, ops, onFile, checkpointEvery, eager)),
          { numRuns: Number(process.env.DERECHO_MODEL_RUNS ?? 80) },
        );
      });
    }
  }
});
