import * as path from 'node:path';
import { Packr } from 'msgpackr';
import { compareHlc, HLC_ZERO, type Hlc } from '../core/hlc.js';
import { INVALID_VERSION, type Version } from '../core/version.js';
import { CorruptLogError } from './errors.js';
import type { FileLogOptions, RecoveryReport } from './file-log.js';
import { checkRetentionPolicy, type RetentionPolicy } from './record-log.js';
import { Persistent, Volatile, type VersionedFieldHandle, type VersionedOptions } from './versioned.js';

export interface RegistryOptions {
  /** Directory holding the log files (created if missing). */
  dir: string;
  subgroup: number;
  shard: number;
  /** Options for every field's log file. */
  log?: FileLogOptions;
  /** Retention of the fields that have no `retention` option of their own (the shard's default). */
  retention?: RetentionPolicy;
}

const FIELD_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const tailPackr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

/**
 * All versioned fields of one replicated object (one shard of one subgroup), persisted together:
 * `version()` stamps every field with the same version and time, `persist()` makes all of them
 * durable and reports the newest version durable in every field. Log files live in `dir` named
 * `sg<subgroup>-sh<shard>-<field>.log`.
 */
export class PersistentRegistry {
  private readonly fields = new Map<string, VersionedFieldHandle>();
  private needsReconcile = false;
  private reconciledVersion: Version | undefined;

  constructor(readonly options: RegistryOptions) {
    if (typeof options.dir !== 'string' || options.dir === '') throw new TypeError(`registry option "dir" must be a directory path, got ${JSON.stringify(options.dir)}`);
    for (const key of ['subgroup', 'shard'] as const) {
      const n = options[key];
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`registry option "${key}" must be a non-negative integer, got ${String(n)}`);
    }
    if (options.retention !== undefined) checkRetentionPolicy(options.retention, 'registry option "retention"');
  }

  /**
   * Applies every field's retention (its own, else the registry's): trims only below the newest
   * full record at or below `stableThrough` (the shard's global persistence frontier) and never a
   * pinned version. Returns whether anything was trimmed.
   */
  applyRetention(stableThrough: Version, nowUs: number = Date.now() * 1000): boolean {
    let trimmed = false;
    for (const field of this.fields.values()) {
      const policy = field.retention ?? this.options.retention;
      if (policy !== undefined && field.applyRetention(policy, stableThrough, nowUs) !== INVALID_VERSION) trimmed = true;
    }
    return trimmed;
  }

  /** Runs, one field after another, the compactions trims made due (file logs with deferred compaction). */
  async compactAsync(): Promise<void> {
    for (const field of [...this.fields.values()]) await field.compactAsync();
  }

  /** The log file of field `name`. */
  fileFor(name: string): string {
    return path.join(this.options.dir, `sg${this.options.subgroup}-sh${this.options.shard}-${name}.log`);
  }

  /** Creates a Persistent field and opens (recovering) its log. */
  persistent<T>(name: string, initial: () => T, options: VersionedOptions<T> = {}): Persistent<T> {
    return this.add(name, new Persistent<T>(initial, options));
  }

  /** Creates a Volatile field (in memory) versioned along with the others. */
  volatile<T>(name: string, initial: () => T, options: VersionedOptions<T> = {}): Volatile<T> {
    return this.add(name, new Volatile<T>(initial, { ...options, name: `${this.describe(name)} (volatile)` }));
  }

  /** Adds a field; a Persistent one is attached to its log file here. */
  add<F extends VersionedFieldHandle>(name: string, field: F): F {
    if (!FIELD_NAME.test(name)) throw new TypeError(`field name ${JSON.stringify(name)} must be 1-128 characters of letters, digits, "_", "." or "-" (it names a file)`);
    if (this.fields.has(name)) throw new Error(`${this.describe(name)}: a field of this name is already registered`);
    if (field instanceof Persistent && !field.attached) field.attach(this.fileFor(name), this.options.log);
    this.fields.set(name, field);
    this.needsReconcile = true;
    return field;
  }

  get fieldNames(): string[] {
    return [...this.fields.keys()];
  }

  field(name: string): VersionedFieldHandle {
    const field = this.fields.get(name);
    if (field === undefined) throw new Error(`${this.describe(name)}: no such field (registered: ${this.fieldNames.join(', ') || 'none'})`);
    return field;
  }

  /** Recovery reports of the Persistent fields. */
  get recoveryReports(): RecoveryReport[] {
    const reports: RecoveryReport[] = [];
    for (const field of this.fields.values()) if (field instanceof Persistent) reports.push(field.recovery);
    return reports;
  }

  /**
   * Brings every Persistent field to the same newest version: a crash between the fields' syncs
   * can leave one field a version or a batch ahead of another, and the object's state is only
   * defined where all agree. Returns the common version (INVALID_VERSION for empty logs).
   * Runs by itself before the first version(), persist(), latestVersion read or tail after fields
   * were added.
   */
  reconcile(): Version {
    // A field whose file was only just created is new to the object (or the object is new) and
    // has nothing to agree on; every other Persistent field counts, even an empty one, because its
    // first versions may be exactly what a crash lost.
    const durable = [...this.fields.values()].filter((field): field is Persistent<unknown> => field instanceof Persistent && !field.recovery.created);
    let common: Version | undefined;
    for (const field of durable) if (common === undefined || field.floorVersion < common) common = field.floorVersion;
    if (common !== undefined) {
      for (const field of durable) if (field.latestVersion > common) field.truncate(common);
    }
    this.needsReconcile = false;
    this.reconciledVersion = common ?? INVALID_VERSION;
    return this.reconciledVersion;
  }

  private ensureReconciled(): void {
    if (this.needsReconcile) this.reconcile();
  }

  /** Records every field's current value as version v at time `time` (all fields or none). */
  version(v: Version, time: Hlc): void {
    this.ensureReconciled();
    for (const field of this.fields.values()) field.checkVersion(v, time);
    for (const field of this.fields.values()) field.version(v, time);
  }

  /** persist() with every field's sync running in parallel off the event loop. */
  async persistAsync(): Promise<Version> {
    this.ensureReconciled();
    await Promise.all([...this.fields.values()].map((field) => field.persistAsync()));
    return this.lastPersistedVersion;
  }

  /** Makes everything recorded in every field durable; returns the newest version durable in all of them. */
  persist(): Version {
    this.ensureReconciled();
    for (const field of this.fields.values()) field.persist();
    return this.lastPersistedVersion;
  }

  /**
   * The newest version durable in every Persistent field (every field, when none is Persistent:
   * an object without durable state counts what it holds as persisted). INVALID_VERSION when empty.
   */
  get lastPersistedVersion(): Version {
    return this.minOver((field) => field.lastPersistedVersion);
  }

  /** The newest version every Persistent field holds (every field, when none is Persistent). */
  get latestVersion(): Version {
    this.ensureReconciled();
    return this.minOver((field) => field.latestVersion);
  }

  /**
   * The newest HLC any Persistent field holds (HLC_ZERO when they are empty). A total restart
   * continues the shard's deliveries after it (core/member/restart-state.ts, `newestHlc`).
   */
  get latestTime(): Hlc {
    this.ensureReconciled();
    let newest = HLC_ZERO;
    for (const field of this.fields.values()) {
      if (!(field instanceof Persistent) || field.latestVersion === INVALID_VERSION) continue;
      const t = field.timeOf(field.latestVersion);
      if (compareHlc(t, newest) > 0) newest = t;
    }
    return newest;
  }

  private minOver(read: (field: VersionedFieldHandle) => Version): Version {
    const all = [...this.fields.values()];
    const durable = all.filter((field) => field instanceof Persistent);
    let min: Version | undefined;
    for (const field of durable.length > 0 ? durable : all) {
      const v = read(field);
      if (min === undefined || v < min) min = v;
    }
    return min ?? INVALID_VERSION;
  }

  trim(upTo: Version | Hlc): void {
    for (const field of this.fields.values()) field.trim(upTo);
  }

  /** Drops every version newer than v in every field (total restart truncates to the ragged trim). */
  truncate(v: Version): void {
    for (const field of this.fields.values()) field.truncate(v);
    this.needsReconcile = false;
  }

  /** The log tails of every field after `afterVersion`, as one byte array for `applyTail`. */
  serializeTail(afterVersion: Version): Uint8Array {
    this.ensureReconciled();
    const tails: Record<string, Uint8Array> = {};
    // Volatile fields restart empty, so a receiver never holds their prefix: send them whole.
    for (const [name, field] of this.fields) tails[name] = field.serializeTail(field instanceof Volatile ? INVALID_VERSION : afterVersion);
    return tailPackr.pack({ format: 1, tails });
  }

  /** Applies `serializeTail` bytes from a replica of the same object. */
  applyTail(bytes: Uint8Array): void {
    this.ensureReconciled();
    let decoded: unknown;
    try {
      decoded = tailPackr.unpack(bytes);
    } catch (err) {
      throw new CorruptLogError(`object log tail does not decode: ${(err as Error).message}`, this.describe('*'), 0);
    }
    const tails = (decoded as { format?: unknown; tails?: unknown } | null)?.tails;
    if ((decoded as { format?: unknown }).format !== 1 || typeof tails !== 'object' || tails === null) {
      throw new CorruptLogError('object log tail has no format-1 field table', this.describe('*'), 0);
    }
    const table = tails as Record<string, unknown>;
    const sent = Object.keys(table).sort();
    const mine = this.fieldNames.sort();
    if (sent.join('\0') !== mine.join('\0')) throw new Error(`object log tail carries fields [${sent.join(', ')}] but this object has [${mine.join(', ')}]`);
    for (const name of mine) {
      const tail = table[name];
      if (!(tail instanceof Uint8Array)) throw new CorruptLogError(`tail of field ${name} is not bytes`, this.describe(name), 0);
    }
    for (const name of mine) this.field(name).applyTail(table[name] as Uint8Array);
  }

  /** Persists and closes every field. */
  close(): void {
    for (const field of this.fields.values()) field.close();
  }

  private describe(name: string): string {
    return `subgroup ${this.options.subgroup} shard ${this.options.shard} field ${name}`;
  }
}
