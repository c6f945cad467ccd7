import type { KeyObject } from 'node:crypto';
import { compareHlc, type Hlc } from '../core/hlc.js';
import { invariant } from '../core/invariant.js';
import { INVALID_VERSION, type Version } from '../core/version.js';
import { msgpackCodec, type Codec } from './codec.js';
import { hasDeltaSupport, methodDeltaForm, type DeltaForm, type DeltaSupport } from './delta.js';
import { NotStableError, NoVersionAtTimeError, TimeTrimmedError, VersionNotFoundError, VersionTrimmedError } from './errors.js';
import { FileLog, type FileLogOptions, type RecoveryReport } from './file-log.js';
import { decodeLogTail, encodeLogTail } from './log-tail.js';
import { MemoryLog } from './memory-log.js';
import { RecordKind } from './record-format.js';
import { checkRetentionPolicy, type RecordLog, type RetentionPolicy } from './record-log.js';
import { LogSigningConfigError, type VerifyReport } from './signed-log.js';

export interface VersionedOptions<T> {
  /** How values (and full checkpoints of delta types) become bytes. Default: msgpackr (see codec.ts). */
  codec?: Codec<T>;
  /**
   * Log changes instead of whole values. Taken from the value's own `takeDelta`/`applyDelta` when
   * it has them; a class value then needs a `codec` that rebuilds the class.
   */
  delta?: DeltaForm<T>;
  /** Delta types: write a full value every this many versions (bounds the replay of `get`). Default 32. */
  checkpointEvery?: number;
  /**
   * Delta types: also write a full value once the deltas since the last one add up to its size.
   * A version then costs about its change (a full value is written once per value's worth of
   * deltas), and `get` replays at most about one value's worth of deltas, whatever the value's
   * size. The collections (collections.ts) use this; default false.
   */
  checkpointBySize?: boolean;
  /** The stability frontier temporal reads are refused at or beyond, unless a call passes its own. */
  stabilityFrontier?: () => Hlc | undefined;
  /**
   * How many versions to keep (the last N, the last T seconds, at most B bytes). Applied by the
   * runtime after group commits, only below the shard's global persistence frontier; without it
   * (and without a shard or config default) every version is kept.
   */
  retention?: RetentionPolicy;
}

function isHlc(x: Version | Hlc): x is Hlc {
  return typeof x === 'object' && x !== null && typeof x.wallUs === 'number';
}

/** The part of a versioned field that does not depend on its value type (what a registry drives). */
export interface VersionedFieldHandle {
  readonly count: number;
  readonly latestVersion: Version;
  readonly lastPersistedVersion: Version;
  checkVersion(v: Version, time: Hlc): void;
  version(v: Version, time: Hlc): void;
  persist(): Version;
  persistAsync(): Promise<Version>;
  trim(upTo: Version | Hlc): void;
  truncate(v: Version): void;
  serializeTail(afterVersion: Version): Uint8Array;
  applyTail(bytes: Uint8Array): void;
  /** The field's own retention policy, or undefined (the registry's default then applies). */
  readonly retention: RetentionPolicy | undefined;
  applyRetention(policy: RetentionPolicy, stableThrough: Version, nowUs: number): Version;
  /** Runs a compaction a trim made due, off the event loop (file logs with deferred compaction). */
  compactAsync(): Promise<unknown>;
  close(): void;
}

/**
 * A value plus the log of its versions: the API shared by Persistent<T> (on disk) and Volatile<T>
 * (in memory). The replicated-object layer mutates `current` inside an ordered update and then
 * calls `version(v, hlc)`; readers use the rest.
 */
export abstract class VersionedField<T> implements VersionedFieldHandle {
  private value: T;
  protected store: RecordLog | undefined;
  protected readonly codec: Codec<T>;
  protected readonly delta: DeltaForm<T> | undefined;
  private readonly checkpointEvery: number;
  private readonly checkpointBySize: boolean;
  /** The delta chain the next version would extend; undefined until measured from the log. */
  private chain: { length: number; deltaBytes: number; baseBytes: number } | undefined;
  private readonly stabilityFrontier: (() => Hlc | undefined) | undefined;
  readonly retention: RetentionPolicy | undefined;
  /** Versions held by pinned reads, with how many pins each. */
  private readonly pins = new Map<Version, number>();

  constructor(
    protected readonly initial: () => T,
    options: VersionedOptions<T> = {},
  ) {
    if (typeof initial !== 'function') throw new TypeError(`a versioned field needs a function creating its initial value, got ${typeof initial}`);
    this.value = initial();
    this.codec = options.codec ?? msgpackCodec<T>();
    if (options.delta !== undefined) this.delta = options.delta;
    else if (hasDeltaSupport(this.value)) {
      if (options.codec === undefined) {
        throw new TypeError(
          `the initial value is a delta type (it has takeDelta/applyDelta) but no codec was given: pass options.codec whose decode rebuilds the class, so full checkpoints can be read back`,
        );
      }
      this.delta = methodDeltaForm<T & DeltaSupport>() as unknown as DeltaForm<T>;
    }
    const checkpointEvery = options.checkpointEvery ?? 32;
    if (!Number.isSafeInteger(checkpointEvery) || checkpointEvery < 1) throw new RangeError(`checkpointEvery must be a positive integer, got ${checkpointEvery}`);
    this.checkpointEvery = checkpointEvery;
    this.checkpointBySize = options.checkpointBySize === true;
    this.stabilityFrontier = options.stabilityFrontier;
    if (options.retention !== undefined) {
      checkRetentionPolicy(options.retention, 'versioned field option "retention"');
      this.retention = { ...options.retention };
    }
  }

  protected get log(): RecordLog {
    if (this.store === undefined) throw new Error('this Persistent field is not attached to storage yet: add it to a PersistentRegistry (or use Persistent.open)');
    return this.store;
  }

  /** Whether versions are logged as deltas. */
  get isDelta(): boolean {
    return this.delta !== undefined;
  }

  /** The live value: mutate it (or assign it) inside an update, then `version()` records it. */
  get current(): T {
    return this.value;
  }

  set current(value: T) {
    if (this.delta !== undefined) throw new TypeError('a delta-logged field cannot be replaced wholesale (its delta would not describe the change); mutate it instead');
    this.value = value;
  }

  /** Throws VersionOrderError unless `version(v, time)` would be accepted; changes nothing. */
  checkVersion(v: Version, time: Hlc): void {
    this.log.checkNext(v, time);
  }

  /** Records the current value as version `v` at time `time`; versions must strictly increase. */
  version(v: Version, time: Hlc): void {
    const log = this.log;
    log.checkNext(v, time);
    let kind: RecordKind = RecordKind.Full;
    let payload: Uint8Array;
    if (this.delta === undefined) payload = this.codec.encode(this.value);
    else {
      const change = this.delta.take(this.value);
      const chain = this.currentChain();
      const due = chain === undefined || chain.length >= this.checkpointEvery || (this.checkpointBySize && chain.deltaBytes + change.byteLength > chain.baseBytes);
      if (due) payload = this.codec.encode(this.value);
      else {
        kind = RecordKind.Delta;
        payload = change;
      }
    }
    log.append(v, time, kind, payload);
    if (this.delta !== undefined) {
      if (kind === RecordKind.Full) this.chain = { length: 1, deltaBytes: 0, baseBytes: payload.byteLength };
      else if (this.chain !== undefined) {
        this.chain.length++;
        this.chain.deltaBytes += payload.byteLength;
      }
    }
  }

  /** The chain ending at the newest visible version (undefined when none is visible: the next record is full). */
  private currentChain(): { length: number; deltaBytes: number; baseBytes: number } | undefined {
    const log = this.log;
    const last = log.entryByIndex(log.count - 1);
    if (last < 0) return (this.chain = undefined);
    if (this.chain === undefined) {
      const base = log.baseOf(last);
      let deltaBytes = 0;
      for (let j = base + 1; j <= last; j++) deltaBytes += log.payloadBytesAt(j);
      this.chain = { length: last - base + 1, deltaBytes, baseBytes: log.payloadBytesAt(base) };
    }
    return this.chain;
  }

  /** Makes every recorded version durable; returns the newest durable version. */
  persist(): Version {
    return this.log.persist();
  }

  /**
   * persist() with the fdatasync on the libuv thread pool instead of the event loop. Versions
   * recorded meanwhile are not covered. Do not truncate, replace or close the field until it settles.
   */
  persistAsync(): Promise<Version> {
    return this.log.persistAsync();
  }

  // ---- reads ---------------------------------------------------------------------------------
  get count(): number {
    return this.log.count;
  }

  get earliestVersion(): Version {
    return this.log.earliestVersion;
  }

  get latestVersion(): Version {
    return this.log.latestVersion;
  }

  get lastPersistedVersion(): Version {
    return this.log.lastPersistedVersion;
  }

  /** The version the next `version()` must exceed: the newest held or trimmed away. */
  get floorVersion(): Version {
    return this.log.floorVersion;
  }

  /** The state as of version v: the newest version at or before v. Throws outside earliest..latest. */
  get(v: Version): T {
    const entry = this.log.entryAsOf(v);
    if (entry < 0) throw this.notFound('version', v);
    return this.reconstruct(entry);
  }

  /**
   * Holds the state as of version v against retention until `release()` is called: for a read
   * that spans awaits (reads that return at once need no pin). Throws if v is not readable now.
   */
  pin(v: Version): { readonly version: Version; release(): void } {
    const entry = this.log.entryAsOf(v);
    if (entry < 0) throw this.notFound('version', v);
    const held = this.log.versionAt(entry);
    this.pins.set(held, (this.pins.get(held) ?? 0) + 1);
    let released = false;
    return {
      version: held,
      release: () => {
        if (released) return;
        released = true;
        const n = this.pins.get(held)! - 1;
        if (n === 0) this.pins.delete(held);
        else this.pins.set(held, n);
      },
    };
  }

  /** Pins the version at time t (see pin); throws like getByTime. */
  pinAtTime(t: Hlc, frontier?: Hlc): { readonly version: Version; release(): void } {
    const entry = this.entryAtStableTime(t, frontier);
    if (entry < 0) throw this.noVersionAtTime(t);
    return this.pin(this.log.versionAt(entry));
  }

  /**
   * Trims what `policy` (default: this field's own) no longer keeps, never at or above the newest
   * full record at or below `stableThrough` and never a pinned version. Returns the version
   * trimmed through, or INVALID_VERSION when nothing was.
   */
  applyRetention(policy: RetentionPolicy | undefined, stableThrough: Version, nowUs: number): Version {
    const use = policy ?? this.retention;
    if (use === undefined) return INVALID_VERSION;
    let pinnedFrom: Version | undefined;
    for (const v of this.pins.keys()) if (pinnedFrom === undefined || v < pinnedFrom) pinnedFrom = v;
    return this.log.applyRetention(use, { stableThrough, pinnedFrom, nowUs });
  }

  compactAsync(): Promise<unknown> {
    const log = this.log;
    return log instanceof FileLog ? log.compactAsync() : Promise.resolve(undefined);
  }

  /** The i-th retained version (0 = earliest). */
  getByIndex(i: number): T {
    const entry = this.log.entryByIndex(i);
    if (entry < 0) throw new VersionNotFoundError(`${this.log.description}: index ${i} is outside 0..${this.log.count - 1}`);
    return this.reconstruct(entry);
  }

  /** The state at time t: the newest version stamped at or before t. */
  getByTime(t: Hlc, frontier?: Hlc): T {
    const entry = this.entryAtStableTime(t, frontier);
    if (entry < 0) throw this.noVersionAtTime(t);
    return this.reconstruct(entry);
  }

  /** The newest version stamped at or before t, or INVALID_VERSION when there is none. */
  versionAtTime(t: Hlc, frontier?: Hlc): Version {
    const entry = this.entryAtStableTime(t, frontier);
    return entry < 0 ? INVALID_VERSION : this.log.versionAt(entry);
  }

  /** The version just before v in the log (holes skipped), or INVALID_VERSION. */
  previousVersion(v: Version): Version {
    return this.log.previousVersion(v);
  }

  /** The version just after v in the log (holes skipped), or INVALID_VERSION. */
  nextVersion(v: Version): Version {
    return this.log.nextVersion(v);
  }

  /** The time stamped on version v exactly; throws if v is not a retained version. */
  timeOf(v: Version): Hlc {
    const entry = this.log.entryAsOf(v);
    if (entry < 0 || this.log.versionAt(entry) !== v) throw this.notFound('version', v);
    return this.log.timeAt(entry);
  }

  // ---- maintenance ---------------------------------------------------------------------------
  /** Drops every version at or before v (a version) or stamped at or before t (a time). */
  trim(upTo: Version | Hlc): void {
    if (isHlc(upTo)) this.log.trimTime(upTo);
    else if (typeof upTo === 'bigint') this.log.trimVersion(upTo);
    else throw new TypeError(`trim takes a version (bigint) or an HLC, got ${typeof upTo}`);
  }

  /** Drops every version newer than v, durably, and resets the current value to the state at v. */
  truncate(v: Version): void {
    if (typeof v !== 'bigint') throw new TypeError(`truncate takes a version (bigint), got ${typeof v}`);
    this.log.truncate(v);
    this.resetCurrentToLatest();
  }

  // ---- state transfer ------------------------------------------------------------------------
  /** The versions a replica whose newest version is `afterVersion` lacks, as bytes for `applyTail`. */
  serializeTail(afterVersion: Version): Uint8Array {
    return encodeLogTail(this.log.tailAfter(afterVersion));
  }

  /** Applies bytes from `serializeTail` on another replica; the current value becomes its newest state. */
  applyTail(bytes: Uint8Array): void {
    this.log.applyTail(decodeLogTail(bytes, `log tail for ${this.log.description}`));
    this.resetCurrentToLatest();
  }

  // ---- internals -----------------------------------------------------------------------------
  protected resetCurrentToLatest(): void {
    const log = this.log;
    this.chain = undefined;
    this.value = log.count === 0 ? this.initial() : this.reconstruct(log.entryByIndex(log.count - 1));
    // A rebuilt value starts with an empty delta, whatever its applyDelta did.
    if (this.delta !== undefined) this.delta.take(this.value);
  }

  private reconstruct(entry: number): T {
    const log = this.log;
    if (this.delta === undefined) return this.codec.decode(log.payloadAt(entry));
    const base = log.baseOf(entry);
    invariant(base >= 0, 'every delta chain starts at a full record', () => `no base for entry ${entry} of ${log.description}`);
    const payloads = log.payloadsBetween(base, entry);
    const value = this.codec.decode(payloads[0]);
    for (let j = 1; j < payloads.length; j++) this.delta.apply(value, payloads[j]);
    return value;
  }

  private entryAtStableTime(t: Hlc, frontier?: Hlc): number {
    if (!isHlc(t)) throw new TypeError(`a temporal read takes an HLC {wallUs, logical}, got ${typeof t}`);
    const limit = frontier ?? this.stabilityFrontier?.();
    if (limit !== undefined && compareHlc(t, limit) >= 0) throw new NotStableError(t, limit);
    return this.log.entryAtTime(t);
  }

  private noVersionAtTime(t: Hlc): NoVersionAtTimeError {
    const log = this.log;
    // No retained version at or before t, but versions were trimmed: t falls in the trimmed history.
    if (log.trimmedThroughVersion >= 0n) return new TimeTrimmedError(t, log.trimmedThroughTime);
    return new NoVersionAtTimeError(t);
  }

  private notFound(what: string, v: Version): VersionNotFoundError {
    const log = this.log;
    const trimmed = log.trimmedThroughVersion;
    if (trimmed >= 0n && (log.count === 0 ? v <= trimmed : v < log.earliestVersion)) {
      const kept = log.count === 0 ? 'none is kept' : `the log keeps ${log.earliestVersion}..${log.latestVersion}`;
      return new VersionTrimmedError(`${log.description}: ${what} ${v} was trimmed (everything through ${trimmed} is gone; ${kept}); see the field's retention policy`, v, trimmed);
    }
    const range = log.count === 0 ? 'the log is empty' : `the log holds versions ${log.earliestVersion}..${log.latestVersion}`;
    return new VersionNotFoundError(`${log.description}: ${what} ${v} is not in the log (${range})`, v);
  }

  abstract close(): void;
}

/** A versioned field kept in memory only (Derecho's Volatile<T>): the same API, nothing on disk. */
export class Volatile<T> extends VersionedField<T> {
  constructor(initial: () => T, options: VersionedOptions<T> & { name?: string } = {}) {
    super(initial, options);
    this.store = new MemoryLog(options.name ?? 'volatile field');
  }

  close(): void {}
}

/**
 * A versioned field whose log is a file (Derecho's Persistent<T>). Construct it, then attach it to
 * storage: `registry.add(name, field)`, or `Persistent.open(file, initial)` for a standalone log.
 */
export class Persistent<T> extends VersionedField<T> {
  private recoveryReport: RecoveryReport | undefined;

  constructor(initial: () => T, options: VersionedOptions<T> = {}) {
    super(initial, options);
  }

  static open<T>(file: string, initial: () => T, options: VersionedOptions<T> & FileLogOptions = {}): Persistent<T> {
    const field = new Persistent<T>(initial, options);
    field.attach(file, options);
    return field;
  }

  get attached(): boolean {
    return this.store !== undefined;
  }

  /** Opens (recovering) the log at `file`; the current value becomes the newest recovered state. */
  attach(file: string, options: FileLogOptions = {}): RecoveryReport {
    if (this.store !== undefined) throw new Error(`this Persistent field is already attached to ${this.store.description}`);
    const log = FileLog.open(file, { ...options, deltaField: this.isDelta });
    this.store = log;
    this.recoveryReport = log.recovery;
    if (log.count > 0) this.resetCurrentToLatest();
    return log.recovery;
  }

  /**
   * Keeps this field's versions in memory, as a Volatile's: for a replica whose node runs with
   * `persistence.enabled` off, or whose shard is not in persistent mode (nothing would ever ask
   * its log to be durable). The API stays the same; nothing is written.
   */
  attachInMemory(name: string): void {
    if (this.store !== undefined) throw new Error(`this Persistent field is already attached to ${this.store.description}`);
    this.store = new MemoryLog(`${name} (in memory)`);
    this.recoveryReport = { file: name, created: true, records: 0, latestVersion: INVALID_VERSION, droppedBytes: 0, scanMs: 0 };
  }

  /**
   * Checks the signatures of this field's versions in [from, to] (default: all) against the
   * writing node's Ed25519 public key (a signed log: config `persistence.signing`). Throws
   * LogSignatureError naming the first version that fails.
   */
  verify(publicKey: KeyObject, range: { from?: Version; to?: Version } = {}): VerifyReport {
    if (!(this.store instanceof FileLog)) throw new LogSigningConfigError(`this Persistent field is ${this.store === undefined ? 'not attached to storage' : 'kept in memory'}: only a signed log file can be verified`);
    return this.store.verify(publicKey, range);
  }

  /** What opening the log found (torn tail cut, records recovered). */
  get recovery(): RecoveryReport {
    if (this.recoveryReport === undefined) throw new Error('this Persistent field is not attached to storage yet');
    return this.recoveryReport;
  }

  /** Persists what was recorded and closes the file. */
  close(): void {
    this.store?.close();
  }
}
