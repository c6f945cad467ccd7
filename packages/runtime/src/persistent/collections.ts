/**
 * Versioned collections whose versions cost what changed: `PersistentMap`, `PersistentSet` and
 * the append-only `PersistentLog`. Each is a `Persistent` field (registered, versioned, logged,
 * state-transferred like any other) whose value records its own changes: a version logs the
 * operations since the previous one, and a full checkpoint is written once the deltas since the
 * last one add up to its size (`checkpointBySize`). A put into a map of a million keys therefore
 * logs one entry, like a put into a map of ten, and reading a past version decodes one checkpoint
 * and replays at most about a checkpoint's worth of operations.
 *
 * Values are stored as they are when the version is made (encoded at `version()`), so treat what
 * you put in as immutable afterwards: a value changed in place after its version is not logged
 * again; set it again to record the change.
 */
import { msgpackCodec, type Codec } from './codec.js';
import type { DeltaForm } from './delta.js';
import { Persistent, type VersionedOptions } from './versioned.js';

/** Options of a collection: those of a Persistent field, minus how values become bytes (fixed). */
export type CollectionOptions = Omit<VersionedOptions<never>, 'codec' | 'delta' | 'checkpointBySize'>;

/** One msgpackr (structured clone) codec for the collections' checkpoints and operation lists. */
const packing = msgpackCodec<unknown>();

const OP_SET = 1;
const OP_DELETE = 2;
const OP_CLEAR = 3;

/** What every change-recording collection gives its delta form. */
export interface RecordsChanges {
  /** The operations since the last call, encoded (an empty array when none), and start afresh. */
  takeOps(): Uint8Array;
  applyOps(bytes: Uint8Array): void;
}

function opsOf(bytes: Uint8Array): unknown[] {
  return bytes.byteLength === 0 ? [] : (packing.decode(bytes) as unknown[]);
}

function encodeOps(ops: unknown[]): Uint8Array {
  return ops.length === 0 ? new Uint8Array(0) : packing.encode(ops);
}

function changesForm<T extends RecordsChanges>(): DeltaForm<T> {
  return { take: (value) => value.takeOps(), apply: (value, delta) => value.applyOps(delta) };
}

const mapSet = Map.prototype.set;
const mapDelete = Map.prototype.delete;
const mapClear = Map.prototype.clear;

/**
 * The value of a PersistentMap: a Map that records set/delete/clear for the next version. Reads
 * (get, has, size, iteration) are the Map's own.
 */
export class VersionedMap<K, V> extends Map<K, V> implements RecordsChanges {
  // Flat [op, key, value, op, key, ...] so a put allocates no tuple.
  private ops: unknown[] = [];

  constructor() {
    super();
  }

  override set(key: K, value: V): this {
    this.ops.push(OP_SET, key, value);
    return mapSet.call(this, key, value) as this;
  }

  override delete(key: K): boolean {
    if (!mapDelete.call(this, key)) return false;
    this.ops.push(OP_DELETE, key);
    return true;
  }

  override clear(): void {
    if (this.size === 0) return;
    mapClear.call(this);
    // Earlier operations of this version no longer matter.
    this.ops = [OP_CLEAR];
  }

  takeOps(): Uint8Array {
    const bytes = encodeOps(this.ops);
    this.ops = [];
    return bytes;
  }

  applyOps(bytes: Uint8Array): void {
    const ops = opsOf(bytes);
    for (let i = 0; i < ops.length; ) {
      const op = ops[i++];
      if (op === OP_SET) {
        mapSet.call(this, ops[i] as K, ops[i + 1] as V);
        i += 2;
      } else if (op === OP_DELETE) mapDelete.call(this, ops[i++] as K);
      else if (op === OP_CLEAR) mapClear.call(this);
      else throw new TypeError(`a map delta holds an unknown operation ${String(op)}`);
    }
  }

  /** Fills from [key, value, key, value, ...] without recording (a checkpoint being decoded). */
  static fromFlat<K, V>(flat: readonly unknown[]): VersionedMap<K, V> {
    if (flat.length % 2 !== 0) throw new TypeError(`a map checkpoint holds an odd number (${flat.length}) of keys and values`);
    const map = new VersionedMap<K, V>();
    for (let i = 0; i < flat.length; i += 2) mapSet.call(map, flat[i] as K, flat[i + 1] as V);
    return map;
  }
}

const setAdd = Set.prototype.add;
const setDelete = Set.prototype.delete;
const setClear = Set.prototype.clear;

/** The value of a PersistentSet: a Set that records add/delete/clear for the next version. */
export class VersionedSet<T> extends Set<T> implements RecordsChanges {
  private ops: unknown[] = [];

  constructor() {
    super();
  }

  override add(value: T): this {
    if (this.has(value)) return this;
    this.ops.push(OP_SET, value);
    return setAdd.call(this, value) as this;
  }

  override delete(value: T): boolean {
    if (!setDelete.call(this, value)) return false;
    this.ops.push(OP_DELETE, value);
    return true;
  }

  override clear(): void {
    if (this.size === 0) return;
    setClear.call(this);
    this.ops = [OP_CLEAR];
  }

  takeOps(): Uint8Array {
    const bytes = encodeOps(this.ops);
    this.ops = [];
    return bytes;
  }

  applyOps(bytes: Uint8Array): void {
    const ops = opsOf(bytes);
    for (let i = 0; i < ops.length; ) {
      const op = ops[i++];
      if (op === OP_SET) setAdd.call(this, ops[i++] as T);
      else if (op === OP_DELETE) setDelete.call(this, ops[i++] as T);
      else if (op === OP_CLEAR) setClear.call(this);
      else throw new TypeError(`a set delta holds an unknown operation ${String(op)}`);
    }
  }

  static fromValues<T>(values: readonly T[]): VersionedSet<T> {
    const set = new VersionedSet<T>();
    for (const v of values) setAdd.call(set, v);
    return set;
  }
}

/** The value of a PersistentLog: entries that can only be appended; a version logs the new ones. */
export class VersionedLog<T> implements RecordsChanges, Iterable<T> {
  private readonly entries: T[];
  /** Entries [appendedFrom, length) are not in any version yet. */
  private appendedFrom: number;

  constructor(entries: T[] = []) {
    this.entries = entries;
    this.appendedFrom = entries.length;
  }

  append(...values: T[]): number {
    for (const v of values) this.entries.push(v);
    return this.entries.length;
  }

  get length(): number {
    return this.entries.length;
  }

  /** Entry i (negative counts from the end), or undefined. */
  at(i: number): T | undefined {
    return this.entries.at(i);
  }

  slice(start?: number, end?: number): T[] {
    return this.entries.slice(start, end);
  }

  [Symbol.iterator](): Iterator<T> {
    return this.entries[Symbol.iterator]();
  }

  takeOps(): Uint8Array {
    const bytes = encodeOps(this.entries.slice(this.appendedFrom));
    this.appendedFrom = this.entries.length;
    return bytes;
  }

  applyOps(bytes: Uint8Array): void {
    for (const v of opsOf(bytes) as T[]) this.entries.push(v);
    this.appendedFrom = this.entries.length;
  }
}

function collectionOptions<C>(options: CollectionOptions, codec: Codec<C>, delta: DeltaForm<C>): VersionedOptions<C> {
  // No count limit on a chain by default: the size rule alone keeps a version's cost at its change.
  return { checkpointEvery: Number.MAX_SAFE_INTEGER, ...options, codec, delta, checkpointBySize: true };
}

// Flat [key, value, key, value, ...]: no array per entry (about twice as fast both ways for a
// million entries as an array of pairs).
const mapCodec: Codec<VersionedMap<unknown, unknown>> = {
  encode: (map) => {
    const flat: unknown[] = new Array(map.size * 2);
    let i = 0;
    for (const [k, v] of map) {
      flat[i++] = k;
      flat[i++] = v;
    }
    return packing.encode(flat);
  },
  decode: (bytes) => VersionedMap.fromFlat(packing.decode(bytes) as unknown[]),
};

const setCodec: Codec<VersionedSet<unknown>> = {
  encode: (set) => packing.encode([...set]),
  decode: (bytes) => VersionedSet.fromValues(packing.decode(bytes) as unknown[]),
};

const logCodec: Codec<VersionedLog<unknown>> = {
  encode: (log) => packing.encode(log.slice()),
  decode: (bytes) => new VersionedLog(packing.decode(bytes) as unknown[]),
};

/**
 * A versioned, logged Map whose versions are the keys set and deleted. Change it through
 * `current` (`map.current.set(k, v)`, `.delete(k)`, `.clear()`) inside an ordered handler; read
 * it as of any retained version with `get(v)`, `getByTime(t)`, or one key with `getAt(key, v)`.
 */
export class PersistentMap<K, V> extends Persistent<VersionedMap<K, V>> {
  constructor(options: CollectionOptions = {}) {
    super(() => new VersionedMap<K, V>(), collectionOptions(options, mapCodec as unknown as Codec<VersionedMap<K, V>>, changesForm<VersionedMap<K, V>>()));
  }

  /** The value of `key` as of version `v` (undefined when it had none then). */
  getAt(key: K, v: bigint): V | undefined {
    return this.get(v).get(key);
  }
}

/** A versioned, logged Set whose versions are the values added and deleted. */
export class PersistentSet<T> extends Persistent<VersionedSet<T>> {
  constructor(options: CollectionOptions = {}) {
    super(() => new VersionedSet<T>(), collectionOptions(options, setCodec as unknown as Codec<VersionedSet<T>>, changesForm<VersionedSet<T>>()));
  }
}

/** A versioned, logged append-only list whose versions are the entries appended. */
export class PersistentLog<T> extends Persistent<VersionedLog<T>> {
  constructor(options: CollectionOptions = {}) {
    super(() => new VersionedLog<T>(), collectionOptions(options, logCodec as unknown as Codec<VersionedLog<T>>, changesForm<VersionedLog<T>>()));
  }

  /** The number of entries as of version `v`. */
  lengthAt(v: bigint): number {
    return this.get(v).length;
  }
}
