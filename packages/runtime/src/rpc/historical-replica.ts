/**
 * A replica as it was: the stand-in a historical p2p read runs against. Its versioned fields
 * (`Persistent`, `Volatile`, the collections) answer `current` with their value as of one version
 * of the object, reconstructed from the nearest checkpoint; everything else (methods, plain
 * fields) is the live replica's. The version is pinned against retention until the read ends.
 *
 * An object's versions are the union of its fields' (a delta field whose delta was empty leaves a
 * hole: its value at that version is its value at the version before). What a replica may answer:
 * only states that can no longer change, i.e. at or before the newest version it delivered (every
 * later version has a greater HLC, so the state at an instant at or before the newest delivered
 * HLC is final). Earlier than its retained range, it refuses with the trimmed-range error.
 */
import { compareHlc, type Hlc } from '../core/hlc.js';
import { INVALID_VERSION, type Version } from '../core/version.js';
import { NotStableError, VersionNotFoundError, VersionNotStableError } from '../persistent/errors.js';
import type { VersionedField } from '../persistent/versioned.js';
import { describePoint, type HistoryPoint } from './historical-read.js';
import { versionedFieldsOf } from './replica-versions.js';

type Field = VersionedField<unknown>;

/** The state of a replica as of one of its versions, for one read. */
export interface PastState {
  /** Stands in for the replica: `this` of the method the read runs. */
  readonly instance: Record<string, unknown>;
  readonly version: Version;
  readonly hlc: Hlc;
  /** Ends the read: retention may trim the version again. */
  release(): void;
}

/** The versioned fields of one replica and its history, as historical reads see them. */
export class ReplicaHistory {
  private readonly fields: readonly (readonly [string, Field])[];

  constructor(
    private readonly instance: Record<string, unknown>,
    /** "KVStore on node 3", for messages. */
    private readonly where: string,
  ) {
    this.fields = versionedFieldsOf(instance);
  }

  /** The newest version delivered here, and its HLC; throws when there is no history at all. */
  latest(): { version: Version; hlc: Hlc } {
    this.requireFields();
    let best: { version: Version; field: Field } | undefined;
    for (const [, field] of this.fields) {
      if (field.count === 0) continue;
      const v = field.latestVersion;
      if (best === undefined || v > best.version) best = { version: v, field };
    }
    if (best === undefined) throw new VersionNotFoundError(`${this.where}: no version has been written yet, so there is no history to read`);
    return { version: best.version, hlc: best.field.timeOf(best.version) };
  }

  /**
   * The object's version that holds its state as of `point`; throws the typed refusals. An
   * instant after the newest version is final once the shard's stability frontier
   * (`stableBeforeUs`, wall-clock µs) has passed it: no version that early can still come.
   */
  resolve(point: HistoryPoint, stableBeforeUs?: number): Version {
    const latest = this.latest();
    if ('version' in point) {
      if (point.version > latest.version) {
        throw new VersionNotStableError(`${this.where} has not delivered version ${point.version} yet (its newest is ${latest.version}): the state there may still change; read an earlier version or retry later`, point.version, latest.version);
      }
      let found = INVALID_VERSION;
      for (const [, field] of this.fields) {
        const v = field.count === 0 || point.version < field.earliestVersion ? INVALID_VERSION : field.previousVersion(point.version + 1n);
        if (v > found) found = v;
      }
      if (found === INVALID_VERSION) this.throwNotHeld(point);
      return found;
    }
    if (compareHlc(point.time, latest.hlc) > 0 && !(stableBeforeUs !== undefined && point.time.wallUs < stableBeforeUs)) {
      // Every later delivery has a greater HLC than the newest one here, so a time at or before it
      // is final; after it, a version still in flight may land before the time asked for, unless
      // the shard's frontier says none can.
      const frontier = stableBeforeUs !== undefined && stableBeforeUs > latest.hlc.wallUs ? { wallUs: stableBeforeUs, logical: 0 } : { wallUs: latest.hlc.wallUs, logical: latest.hlc.logical + 1 };
      throw new NotStableError(point.time, frontier);
    }
    let found = INVALID_VERSION;
    for (const [, field] of this.fields) {
      if (field.count === 0) continue;
      const v = field.versionAtTime(point.time);
      if (v > found) found = v;
    }
    if (found === INVALID_VERSION) this.throwNotHeld(point);
    return found;
  }

  /** The replica as of `version` (an object version from `resolve` or `versionsIn`). */
  stateAt(version: Version): PastState {
    const standIn = Object.create(this.instance) as Record<string, unknown>;
    const pins: { release(): void }[] = [];
    try {
      let hlc: Hlc | undefined;
      for (const [name, field] of this.fields) {
        // A field with no version yet is still its initial value; one whose newest version is
        // older (a delta field left unchanged) holds that value as of `version`.
        if (field.count === 0) continue;
        const own = version > field.latestVersion ? field.latestVersion : version;
        pins.push(field.pin(own));
        if (hlc === undefined && field.latestVersion >= version && field.previousVersion(version + 1n) === version) hlc = field.timeOf(version);
        Object.defineProperty(standIn, name, { value: pastField(field, own, `${this.where}.${name}`), enumerable: true });
      }
      if (hlc === undefined) throw new VersionNotFoundError(`${this.where}: ${version} is not a version of the object`, version);
      let released = false;
      return {
        instance: standIn,
        version,
        hlc,
        release: () => {
          if (released) return;
          released = true;
          for (const pin of pins) pin.release();
        },
      };
    } catch (err) {
      for (const pin of pins) pin.release();
      throw err;
    }
  }

  /**
   * The object's versions from `from` through `to` (both inclusive, undefined: the retained
   * range's ends), at most `limit`: a longer range is refused rather than cut.
   */
  versionsIn(from: HistoryPoint | undefined, to: HistoryPoint | undefined, limit: number, stableBeforeUs?: number): Version[] {
    const latest = this.latest();
    const last = to === undefined ? latest.version : this.resolve(to, stableBeforeUs);
    let cursor: Version;
    if (from === undefined) cursor = INVALID_VERSION;
    else if ('version' in from) {
      this.requireRetained(from.version, from);
      cursor = from.version - 1n;
    } else {
      // Versions stamped at or after the instant: start after the newest one strictly before it.
      const before = { wallUs: from.time.logical === 0 ? from.time.wallUs - 1 : from.time.wallUs, logical: from.time.logical === 0 ? 0xffffffff : from.time.logical - 1 };
      cursor = INVALID_VERSION;
      if (before.wallUs >= 0) for (const [, field] of this.fields) if (field.count > 0) cursor = maxVersion(cursor, field.versionAtTime(before));
      if (cursor === INVALID_VERSION) this.requireNothingTrimmedBefore(from);
    }
    const out: Version[] = [];
    for (;;) {
      let next = INVALID_VERSION;
      for (const [, field] of this.fields) {
        const v = field.nextVersion(cursor);
        if (v !== INVALID_VERSION && (next === INVALID_VERSION || v < next)) next = v;
      }
      if (next === INVALID_VERSION || next > last) return out;
      if (out.length === limit) throw new RangeError(`${this.where}: the range holds more than ${limit} versions; narrow it or raise its limit (at most 100000)`);
      out.push(next);
      cursor = next;
    }
  }

  private requireFields(): void {
    if (this.fields.length === 0) throw new VersionNotFoundError(`${this.where} keeps no history: it has no Persistent or Volatile fields (historical reads read those)`);
  }

  /** A version below what every field retains is refused the way the fields refuse it (trimmed or never held). */
  private requireRetained(version: Version, point: HistoryPoint): void {
    for (const [, field] of this.fields) if (field.count > 0 && version >= field.earliestVersion) return;
    this.throwNotHeld(point);
  }

  private requireNothingTrimmedBefore(point: HistoryPoint): void {
    for (const [, field] of this.fields) {
      if (field.count === 0) continue;
      if ('time' in point) field.getByTime(point.time); // throws TimeTrimmedError where history was trimmed
    }
  }

  private throwNotHeld(point: HistoryPoint): never {
    // Let a field say why (trimmed by retention, or before the first version), with its own error.
    for (const [, field] of this.fields) {
      if (field.count === 0) continue;
      if ('version' in point) field.get(point.version);
      else field.getByTime(point.time);
    }
    throw new VersionNotFoundError(`${this.where}: no version at or before ${describePoint(point)}`);
  }
}

function maxVersion(a: Version, b: Version): Version {
  return a > b ? a : b;
}

/**
 * A field as of `version`: `current` is its value then (rebuilt once, on first use), read-only;
 * `latestVersion` is `version`; its other reads are the live field's.
 */
function pastField(field: Field, version: Version, name: string): Field {
  let value: unknown;
  let built = false;
  return Object.create(field, {
    current: {
      get() {
        if (!built) {
          value = field.get(version);
          built = true;
        }
        return value;
      },
      set() {
        throw new TypeError(`${name} is read-only in a historical read (as of version ${version})`);
      },
    },
    latestVersion: { get: () => version },
  }) as Field;
}
