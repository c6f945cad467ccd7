/**
 * Model-based test: random sequences of versions (valid and refused), reads, trims, truncates,
 * persists and reopenings run against a Persistent/Volatile and against a plain array model; every
 * read of the real store is compared with the model after every step.
 */
import * as path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { compareHlc, HLC_ZERO, type Hlc } from '../../src/core/hlc.js';
import { INVALID_VERSION, type Version } from '../../src/core/version.js';
import { NotStableError, NoVersionAtTimeError, VersionNotFoundError, VersionOrderError } from '../../src/persistent/errors.js';
import { Persistent, Volatile, type VersionedField } from '../../src/persistent/versioned.js';
import { makeTempDir, NumberList, numberListCodec, removeDir } from './helpers.js';

type Op =
  | { op: 'version'; gap: bigint; timeStep: number; logicalStep: number; add: number[] }
  | { op: 'persist' }
  | { op: 'trimVersion'; fraction: number }
  | { op: 'trimTime'; fraction: number }
  | { op: 'truncate'; back: number }
  | { op: 'reopen' };

interface Entry {
  v: Version;
  t: Hlc;
  items: number[];
}

class Model {
  entries: Entry[] = [];
  items: number[] = [];
  trimmedThrough: Version = INVALID_VERSION;
  trimmedTime: Hlc = HLC_ZERO;
  persisted: Version = INVALID_VERSION;

  get latest(): Version {
    return this.entries.length === 0 ? INVALID_VERSION : this.entries[this.entries.length - 1].v;
  }
  get floorVersion(): Version {
    return this.latest > this.trimmedThrough ? this.latest : this.trimmedThrough;
  }
  get floorTime(): Hlc {
    return this.entries.length === 0 ? this.trimmedTime : this.entries[this.entries.length - 1].t;
  }
  asOf(v: Version): Entry | undefined {
    if (this.entries.length === 0 || v < this.entries[0].v || v > this.latest) return undefined;
    let found: Entry | undefined;
    for (const e of this.entries) if (e.v <= v) found = e;
    return found;
  }
  atTime(t: Hlc): Entry | undefined {
    let found: Entry | undefined;
    for (const e of this.entries) if (compareHlc(e.t, t) <= 0) found = e;
    return found;
  }
  trimPrefix(keep: (e: Entry) => boolean): void {
    let n = 0;
    while (n < this.entries.length && !keep(this.entries[n])) n++;
    if (n === 0) return;
    this.trimmedThrough = this.entries[n - 1].v;
    this.trimmedTime = this.entries[n - 1].t;
    this.entries = this.entries.slice(n);
  }
}

/** The field under test plus how to read its items. */
interface Subject {
  field: VersionedField<unknown>;
  items(value: unknown): number[];
  add(xs: number[]): void;
  reopen?(): void;
  close(): void;
}

function itemsOf(value: unknown): number[] {
  return value instanceof NumberList ? value.items : (value as number[]);
}

function makeSubject(kind: 'persistent' | 'persistent-delta' | 'volatile' | 'volatile-delta', dir: string, eagerCompaction: boolean): Subject {
  const file = path.join(dir, 'field.log');
  const delta = kind.endsWith('delta');
  const open = (): VersionedField<unknown> => {
    const options = { checkpointEvery: 3, compactMinBytes: 0, compactDeadFraction: eagerCompaction ? 0 : 0.5 };
    if (kind === 'persistent') return Persistent.open<number[]>(file, () => [], options) as VersionedField<unknown>;
    if (kind === 'persistent-delta') return Persistent.open<NumberList>(file, () => new NumberList(), { ...options, codec: numberListCodec }) as VersionedField<unknown>;
    if (kind === 'volatile') return new Volatile<number[]>(() => [], options) as VersionedField<unknown>;
    return new Volatile<NumberList>(() => new NumberList(), { ...options, codec: numberListCodec }) as VersionedField<unknown>;
  };
  const subject: Subject = {
    field: open(),
    items: itemsOf,
    add(xs) {
      const current = subject.field.current;
      if (delta) (current as NumberList).push(...xs);
      else (subject.field as VersionedField<number[]>).current = [...(current as number[]), ...xs];
    },
    close: () => subject.field.close(),
  };
  if (kind.startsWith('persistent')) {
    subject.reopen = () => {
      subject.field.close();
      subject.field = open();
    };
  }
  return subject;
}

function expectError(fn: () => unknown, type: new (...args: never[]) => Error): void {
  expect(fn).to.throw(type);
}

function checkAgainstModel(subject: Subject, model: Model): void {
  const f = subject.field;
  expect(f.count, 'count').to.equal(model.entries.length);
  expect(f.latestVersion, 'latestVersion').to.equal(model.latest);
  expect(f.earliestVersion, 'earliestVersion').to.equal(model.entries.length === 0 ? INVALID_VERSION : model.entries[0].v);
  expect(f.lastPersistedVersion, 'lastPersistedVersion').to.equal(model.persisted);
  expect(subject.items(f.current), 'current').to.deep.equal(model.items);

  model.entries.forEach((e, i) => {
    expect(subject.items(f.getByIndex(i)), `getByIndex(${i})`).to.deep.equal(e.items);
    expect(f.timeOf(e.v), `timeOf(${e.v})`).to.deep.equal(e.t);
  });
  expectError(() => f.getByIndex(model.entries.length), VersionNotFoundError);
  expectError(() => f.getByIndex(-1), VersionNotFoundError);

  const probes = new Set<Version>([0n, model.floorVersion + 1n, model.trimmedThrough]);
  for (const e of model.entries) for (const d of [-1n, 0n, 1n]) probes.add(e.v + d);
  for (const v of probes) {
    if (v < 0n) continue;
    const expected = model.asOf(v);
    if (expected === undefined) expectError(() => f.get(v), VersionNotFoundError);
    else expect(subject.items(f.get(v)), `get(${v})`).to.deep.equal(expected.items);
    const prev = [...model.entries].reverse().find((e) => e.v < v);
    const next = model.entries.find((e) => e.v > v);
    expect(f.previousVersion(v), `previousVersion(${v})`).to.equal(prev?.v ?? INVALID_VERSION);
    expect(f.nextVersion(v), `nextVersion(${v})`).to.equal(next?.v ?? INVALID_VERSION);
  }

  const times: Hlc[] = [HLC_ZERO];
  for (const e of model.entries) {
    times.push(e.t, { wallUs: e.t.wallUs, logical: e.t.logical + 1 }, { wallUs: e.t.wallUs + 1, logical: 0 });
    if (e.t.wallUs > 0) times.push({ wallUs: e.t.wallUs - 1, logical: 5 });
  }
  for (const t of times) {
    const expected = model.atTime(t);
    if (expected === undefined) {
      expectError(() => f.getByTime(t), NoVersionAtTimeError);
      expect(f.versionAtTime(t)).to.equal(INVALID_VERSION);
    } else {
      expect(subject.items(f.getByTime(t)), `getByTime(${t.wallUs}+${t.logical})`).to.deep.equal(expected.items);
      expect(f.versionAtTime(t)).to.equal(expected.v);
    }
    // A frontier at exactly t refuses; one just after t answers.
    expectError(() => f.getByTime(t, t), NotStableError);
    expectError(() => f.versionAtTime(t, t), NotStableError);
    if (expected !== undefined) expect(f.versionAtTime(t, { wallUs: t.wallUs, logical: t.logical + 1 })).to.equal(expected.v);
  }
}

function step(subject: Subject, model: Model, op: Op): void {
  const f = subject.field;
  switch (op.op) {
    case 'version': {
      const v = model.floorVersion + op.gap;
      const floorTime = model.floorTime;
      const t: Hlc = {
        wallUs: Math.max(0, floorTime.wallUs + op.timeStep),
        logical: op.timeStep === 0 ? Math.max(0, floorTime.logical + op.logicalStep) : Math.max(0, op.logicalStep),
      };
      const valid = v >= 0n && v > model.floorVersion && compareHlc(t, floorTime) >= 0;
      subject.add(op.add);
      model.items = [...model.items, ...op.add];
      if (valid) {
        f.version(v, t);
        model.entries.push({ v, t, items: model.items });
      } else {
        expectError(() => f.version(v, t), VersionOrderError);
        // A refused version leaves the value as mutated; the next accepted version records it.
      }
      break;
    }
    case 'persist':
      expect(f.persist()).to.equal(model.floorVersion);
      model.persisted = model.floorVersion;
      break;
    case 'trimVersion': {
      const target = model.entries.length === 0 ? 0n : model.entries[Math.floor(op.fraction * model.entries.length)].v;
      f.trim(target);
      model.trimPrefix((e) => e.v > target);
      break;
    }
    case 'trimTime': {
      const target = model.entries.length === 0 ? HLC_ZERO : model.entries[Math.floor(op.fraction * model.entries.length)].t;
      f.trim(target);
      model.trimPrefix((e) => compareHlc(e.t, target) > 0);
      break;
    }
    case 'truncate': {
      const target = model.entries.length === 0 ? model.trimmedThrough : model.entries[Math.max(0, model.entries.length - 1 - op.back)].v - BigInt(op.back % 2);
      f.truncate(target);
      model.entries = model.entries.filter((e) => e.v <= target);
      model.items = model.entries.length === 0 ? [] : model.entries[model.entries.length - 1].items;
      if (model.persisted > model.floorVersion) model.persisted = model.floorVersion;
      break;
    }
    case 'reopen':
      if (subject.reopen === undefined) break;
      subject.reopen();
      // close() persists; the reopened log holds exactly what the model holds.
      model.persisted = model.floorVersion;
      model.items = model.entries.length === 0 ? [] : model.entries[model.entries.length - 1].items;
      break;
  }
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('version' as const),
      gap: fc.constantFrom(0n, 1n, 1n, 1n, 1n, 2n, 7n, 1n << 32n),
      timeStep: fc.constantFrom(-1, 0, 0, 1, 1, 1, 5),
      logicalStep: fc.integer({ min: -1, max: 2 }),
      add: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'persist' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('trimVersion' as const), fraction: fc.integer({ min: 0, max: 99 }).map((n) => n / 100) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('trimTime' as const), fraction: fc.integer({ min: 0, max: 99 }).map((n) => n / 100) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), back: fc.nat(4) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'reopen' as const }) },
);

describe('persistent: model-based reads over random histories', function () {
  for (const kind of ['persistent', 'persistent-delta', 'volatile', 'volatile-delta'] as const) {
    it(`${kind}: every read matches the model after every step`, function () {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.boolean(), (ops, eagerCompaction) => {
          const dir = makeTempDir('model');
          const subject = makeSubject(kind, dir, eagerCompaction);
          const model = new Model();
          try {
            // Every history ends with a reopen, so whatever the operations left in the file is read back.
            for (const op of [...ops, { op: 'reopen' as const }]) {
              step(subject, model, op);
              checkAgainstModel(subject, model);
            }
          } finally {
            subject.close();
            removeDir(dir);
          }
        }),
        { numRuns: Number(process.env.DERECHO_MODEL_RUNS ?? 120) },
      );
    });
  }
});
