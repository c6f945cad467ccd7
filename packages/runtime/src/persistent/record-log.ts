import { compareHlc, formatHlc, HLC_ZERO, type Hlc } from '../core/hlc.js';
import { invariant } from '../core/invariant.js';
import { formatVersion, INVALID_VERSION, type Version } from '../core/version.js';
import { VersionNotFoundError, VersionOrderError } from './errors.js';
import { RecordKind } from './record-format.js';
import { VersionIndex } from './version-index.js';

/** One version record handed across a log boundary (state transfer, compaction). */
export interface LogRecord {
  version: Version;
  time: Hlc;
  kind: RecordKind;
  payload: Uint8Array;
}

/** What a log tail carries for the receiving side (see log-tail.ts for its bytes). */
export interface LogTailContent {
  /** The sender's idea of the receiver's newest version; ignored when `rebase`. */
  afterVersion: Version;
  /** The receiver must replace its whole log with these records (it lacks the sender's base). */
  rebase: boolean;
  /** Everything at or below this was trimmed at the sender (INVALID_VERSION when nothing was). */
  trimmedThrough: Version;
  trimmedTime: Hlc;
  records: LogRecord[];
}

/**
 * How many versions a field keeps. Every limit given applies (the field keeps only what all of
 * them allow); none given keeps everything.
 */
export interface RetentionPolicy {
  /** Keep the newest this many versions. */
  versions?: number;
  /** Keep the versions stamped in the last this many seconds (HLC wall time against the clock). */
  seconds?: number;
  /** Keep at most this many bytes of version records (48-byte header + payload each). */
  bytes?: number;
}

/** Throws unless `policy` is a valid RetentionPolicy (`where` names it in the message). */
export function checkRetentionPolicy(policy: RetentionPolicy, where: string): void {
  if (typeof policy !== 'object' || policy === null) throw new TypeError(`${where}: a retention policy is an object { versions?, seconds?, bytes? }, got ${String(policy)}`);
  for (const key of Object.keys(policy)) {
    if (key !== 'versions' && key !== 'seconds' && key !== 'bytes') throw new TypeError(`${where}: unknown retention key "${key}" (expected versions, seconds or bytes)`);
    const n = policy[key];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !(n > 0) || (key !== 'seconds' && !Number.isSafeInteger(n))) {
      throw new RangeError(`${where}: retention ${key} must be a positive ${key === 'seconds' ? 'number' : 'integer'}, got ${String(n)}`);
    }
  }
}

/** What bounds a retention trim from below (see RecordLog.applyRetention). */
export interface RetentionLimits {
  /** The newest version every replica holds durably (the shard's global persistence frontier). */
  stableThrough: Version;
  /** The oldest version a running read holds, or undefined. */
  pinnedFrom: Version | undefined;
  /** The clock, in microseconds (for `seconds`). */
  nowUs: number;
}

/**
 * A log of opaque version records: the ordering rules, the index, trim/truncate bookkeeping and
 * log-tail extraction shared by the file-backed and memory-backed stores. Subclasses decide where
 * the bytes live.
 *
 * Floors: a new version must exceed every version still held or trimmed away (`floorVersion`),
 * and its time must not go below the newest held or trimmed time (`floorTime`). Both are derived
 * from what the log holds, so a reopened log enforces exactly what the live one did.
 */
export abstract class RecordLog {
  protected readonly index = new VersionIndex();
  /** The version of the newest entry removed by trim, or INVALID_VERSION. */
  protected trimmedThrough: Version = INVALID_VERSION;
  protected trimmedTime: Hlc = HLC_ZERO;
  protected persistedVersion: Version = INVALID_VERSION;

  constructor(readonly description: string) {}

  // ---- storage hooks -------------------------------------------------------------------------
  /** Stores a version record's bytes; returns where (a location the index keeps for `readPayload`). */
  protected abstract storeRecord(version: Version, time: Hlc, kind: RecordKind, payload: Uint8Array): number;
  /** Records that everything at or below `version` is trimmed (durably, from the next persist on). */
  protected abstract storeTrimMarker(version: Version, time: Hlc): void;
  /** The payload of physical index entry i, verified. */
  protected abstract readPayload(i: number): Uint8Array;
  /** Makes everything stored so far durable. */
  protected abstract storePersist(): void;
  /**
   * Removes physical entries [i, end) from storage and makes that durable (called before the index
   * forgets them). Trim markers stored after entry i must survive.
   */
  protected abstract storeTruncate(i: number): void;
  /** Empties storage entirely, trim markers included, durably (a rebasing state transfer). */
  protected abstract storeReset(): void;
  /** Called after `index.start` advanced; may reclaim entries below the delta base of `index.start`. */
  protected abstract storeTrimmed(): void;
  abstract close(): void;

  // ---- extent --------------------------------------------------------------------------------
  get count(): number {
    return this.index.count;
  }

  get earliestVersion(): Version {
    return this.index.count === 0 ? INVALID_VERSION : this.index.version(this.index.start);
  }

  get latestVersion(): Version {
    return this.index.count === 0 ? INVALID_VERSION : this.index.version(this.index.physicalLength - 1);
  }

  get lastPersistedVersion(): Version {
    return this.persistedVersion;
  }

  get floorVersion(): Version {
    const latest = this.latestVersion;
    return latest > this.trimmedThrough ? latest : this.trimmedThrough;
  }

  get floorTime(): Hlc {
    const n = this.index.physicalLength;
    return n > 0 ? this.index.time(n - 1) : this.trimmedTime;
  }

  get latestTime(): Hlc | undefined {
    return this.index.count === 0 ? undefined : this.index.time(this.index.physicalLength - 1);
  }

  // ---- writing -------------------------------------------------------------------------------
  /** Throws VersionOrderError unless (version, time) may follow what the log holds. */
  checkNext(version: Version, time: Hlc): void {
    if (typeof version !== 'bigint' || version < 0n) throw new VersionOrderError(`${this.description}: version must be a non-negative bigint, got ${String(version)}`);
    const floor = this.floorVersion;
    if (version <= floor) {
      throw new VersionOrderError(`${this.description}: versions must be strictly increasing: got ${formatVersion(version)} (${version}) after ${formatVersion(floor)} (${floor})`);
    }
    const floorTime = this.floorTime;
    if (compareHlc(time, floorTime) < 0) {
      throw new VersionOrderError(`${this.description}: version times must not go backwards: got ${formatHlc(time)} for version ${version} after ${formatHlc(floorTime)}`);
    }
  }

  append(version: Version, time: Hlc, kind: RecordKind, payload: Uint8Array): void {
    this.checkNext(version, time);
    invariant(kind !== RecordKind.Delta || this.index.physicalLength > 0, 'a delta follows a base', () => `first record of ${this.description} is a delta`);
    const location = this.storeRecord(version, time, kind, payload);
    this.index.push(version, time.wallUs, time.logical, location, payload.byteLength, kind);
  }

  persist(): Version {
    this.storePersist();
    this.persistedVersion = this.floorVersion;
    return this.persistedVersion;
  }

  /**
   * Like persist(), with the sync off the event loop. Versions recorded while it is in flight are
   * not covered; the result is the newest version it made durable.
   */
  persistAsync(): Promise<Version> {
    return Promise.resolve(this.persist());
  }

  /** Moves the persisted mark up to `version` (after an asynchronous sync covering it). */
  protected markPersisted(version: Version): void {
    if (version > this.persistedVersion) this.persistedVersion = version;
  }

  // ---- reading -------------------------------------------------------------------------------
  /** Index of the visible entry holding the state as of v (the newest at or before v), or -1. */
  entryAsOf(v: Version): number {
    if (this.index.count === 0 || v < this.earliestVersion || v > this.latestVersion) return -1;
    return this.index.lastAtOrBefore(v);
  }

  entryAtTime(t: Hlc): number {
    return this.index.lastAtOrBeforeTime(t);
  }

  /** Physical index of the visible entry number `i` (0 = earliest), or -1. */
  entryByIndex(i: number): number {
    return Number.isSafeInteger(i) && i >= 0 && i < this.index.count ? this.index.start + i : -1;
  }

  versionAt(entry: number): Version {
    return this.index.version(entry);
  }

  timeAt(entry: number): Hlc {
    return this.index.time(entry);
  }

  kindAt(entry: number): RecordKind {
    return this.index.kind(entry);
  }

  payloadBytesAt(entry: number): number {
    return this.index.payloadBytes(entry);
  }

  payloadAt(entry: number): Uint8Array {
    return this.readPayload(entry);
  }

  /** The payloads of entries `first..last` (a delta chain), in order. */
  payloadsBetween(first: number, last: number): Uint8Array[] {
    return this.readPayloads(first, last);
  }

  /** Stores may read a run of records at once (one disk read for a whole delta chain). */
  protected readPayloads(first: number, last: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = first; i <= last; i++) out.push(this.readPayload(i));
    return out;
  }

  /** The newest Full entry at or before `entry` (delta chains start there). */
  baseOf(entry: number): number {
    return this.index.baseOf(entry);
  }

  previousVersion(v: Version): Version {
    const i = this.index.lastAtOrBefore(v - 1n);
    return i < 0 ? INVALID_VERSION : this.index.version(i);
  }

  nextVersion(v: Version): Version {
    const i = this.index.firstAfter(v);
    return i < 0 ? INVALID_VERSION : this.index.version(i);
  }

  // ---- maintenance ---------------------------------------------------------------------------
  /** Hides every entry up to and including `lastDropped` (a physical index at or after start). */
  private trimThrough(lastDropped: number): void {
    if (lastDropped < this.index.start) return;
    this.trimmedThrough = this.index.version(lastDropped);
    this.trimmedTime = this.index.time(lastDropped);
    this.index.start = lastDropped + 1;
    this.storeTrimMarker(this.trimmedThrough, this.trimmedTime);
    this.storeTrimmed();
  }

  /**
   * Trims what `policy` no longer keeps, but never the newest full record at or below
   * `stableThrough` (restart rebuilds from it) or anything newer, nor the version a pinned read
   * holds. Returns the version now trimmed through, or INVALID_VERSION when nothing was trimmed.
   */
  applyRetention(policy: RetentionPolicy, limits: RetentionLimits): Version {
    const index = this.index;
    if (index.count === 0) return INVALID_VERSION;
    const last = index.physicalLength - 1;
    let drop = index.start - 1;
    if (policy.versions !== undefined) drop = Math.max(drop, last - policy.versions);
    if (policy.seconds !== undefined) {
      const cutoffUs = limits.nowUs - policy.seconds * 1e6;
      // Versions stamped strictly before the cutoff go.
      drop = Math.max(drop, index.lastAtOrBeforeTime({ wallUs: Math.ceil(cutoffUs) - 1, logical: 0xffffffff }));
    }
    if (policy.bytes !== undefined) drop = Math.max(drop, index.firstWithinBytes(policy.bytes) - 1);
    const stable = index.lastAtOrBefore(limits.stableThrough);
    const checkpoint = stable < 0 ? -1 : index.baseOf(stable);
    drop = Math.min(drop, checkpoint - 1);
    if (limits.pinnedFrom !== undefined) {
      const pinned = index.lastAtOrBefore(limits.pinnedFrom);
      drop = Math.min(drop, pinned < 0 ? -1 : pinned - 1);
    }
    if (drop < index.start) return INVALID_VERSION;
    this.trimThrough(drop);
    return this.trimmedThrough;
  }

  /** The newest version removed by trims (INVALID_VERSION when none was), and its time. */
  get trimmedThroughVersion(): Version {
    return this.trimmedThrough;
  }

  get trimmedThroughTime(): Hlc {
    return this.trimmedTime;
  }

  trimVersion(v: Version): void {
    this.trimThrough(this.index.lastAtOrBefore(v));
  }

  trimTime(t: Hlc): void {
    this.trimThrough(this.index.lastAtOrBeforeTime(t));
  }

  /** Drops every entry newer than v, durably. */
  truncate(v: Version): void {
    // Hidden delta-base entries below `start` stay: they are older than every visible entry that
    // survives, and a log left with no visible entries starts its next chain with a full record.
    const first = this.index.firstAfter(v);
    const cut = first < 0 ? this.index.physicalLength : first;
    if (cut === this.index.physicalLength) return;
    this.storeTruncate(cut);
    this.index.dropFrom(cut);
    if (this.persistedVersion > this.floorVersion) this.persistedVersion = this.floorVersion;
  }

  // ---- state transfer ------------------------------------------------------------------------
  /** The records a receiver whose newest version is `afterVersion` lacks. */
  tailAfter(afterVersion: Version): LogTailContent {
    const records: LogRecord[] = [];
    const rebase = this.index.count > 0 && afterVersion < this.earliestVersion;
    let from = this.index.firstAfter(afterVersion);
    if (rebase) from = this.index.baseOf(this.index.start) < 0 ? this.index.start : this.index.baseOf(this.index.start);
    if (from >= 0) {
      for (let i = from; i < this.index.physicalLength; i++) {
        records.push({ version: this.index.version(i), time: this.index.time(i), kind: this.index.kind(i), payload: this.readPayload(i) });
      }
    }
    return { afterVersion, rebase, trimmedThrough: this.trimmedThrough, trimmedTime: this.trimmedTime, records };
  }

  /** Appends (or, for a rebase, substitutes) a tail made by `tailAfter` on another replica. */
  applyTail(tail: LogTailContent): void {
    if (!tail.rebase && tail.records.length > 0 && this.floorVersion !== tail.afterVersion) {
      throw new VersionOrderError(
        `${this.description}: log tail starts after version ${tail.afterVersion} but this log ends at ${this.floorVersion}; ask for the tail after this log's newest version`,
      );
    }
    this.checkTail(tail);
    if (tail.rebase) {
      this.storeReset();
      this.index.dropFrom(0);
      this.trimmedThrough = INVALID_VERSION;
      this.trimmedTime = HLC_ZERO;
      this.persistedVersion = INVALID_VERSION;
    }
    for (const record of tail.records) {
      this.append(record.version, record.time, record.kind, record.payload);
    }
    if (tail.rebase && tail.trimmedThrough >= 0n) {
      const last = this.index.lastAtOrBefore(tail.trimmedThrough);
      if (last >= 0) this.trimThrough(last);
      else {
        this.trimmedThrough = tail.trimmedThrough;
        this.trimmedTime = tail.trimmedTime;
        this.storeTrimMarker(tail.trimmedThrough, tail.trimmedTime);
      }
    }
  }

  /** Refuses a tail that could not be applied whole, before anything is changed. */
  private checkTail(tail: LogTailContent): void {
    let floor = tail.rebase ? INVALID_VERSION : this.floorVersion;
    let floorTime = tail.rebase ? HLC_ZERO : this.floorTime;
    let haveBase = !tail.rebase && this.index.physicalLength > 0;
    for (const record of tail.records) {
      if (record.kind !== RecordKind.Full && record.kind !== RecordKind.Delta) {
        throw new VersionOrderError(`${this.description}: log tail holds a record of kind ${record.kind} at version ${record.version}`);
      }
      if (record.version <= floor) throw new VersionOrderError(`${this.description}: log tail version ${record.version} does not follow ${floor}`);
      if (compareHlc(record.time, floorTime) < 0) throw new VersionOrderError(`${this.description}: log tail time ${formatHlc(record.time)} at version ${record.version} goes backwards`);
      if (record.kind === RecordKind.Delta && !haveBase) {
        throw new VersionOrderError(`${this.description}: log tail begins with a delta (version ${record.version}) but there is no base to apply it to`);
      }
      floor = record.version;
      floorTime = record.time;
      haveBase = true;
    }
  }

  /** For error messages: the version at entry or a description of a miss. */
  protected missing(what: string, v: Version): VersionNotFoundError {
    const range = this.index.count === 0 ? 'the log is empty' : `the log holds ${this.earliestVersion}..${this.latestVersion}`;
    return new VersionNotFoundError(`${this.description}: ${what} ${v} is not in the log (${range})`, v);
  }
}
