import type { Hlc } from '../core/hlc.js';
import { invariant } from '../core/invariant.js';
import type { Version } from '../core/version.js';
import { RECORD_HEADER_BYTES, RecordKind } from './record-format.js';

/**
 * The in-memory index over a log's records, one entry per version record, in columns of typed
 * arrays (a million entries cost about 45 MB and no per-entry objects). Entries [0, start) are
 * physically kept only as the base checkpoint of a delta chain; [start, size) are the versions a
 * reader sees. Versions and times are non-decreasing along the entries, so every lookup is a binary
 * search.
 */
export class VersionIndex {
  private versions = new BigInt64Array(1024);
  private wallUs = new Float64Array(1024);
  private logicals = new Uint32Array(1024);
  private locations = new Float64Array(1024);
  private payloadSizes = new Uint32Array(1024);
  private kinds = new Uint8Array(1024);
  /** Record bytes (header + payload) of entries [0, i] added up, across drops: differences are sizes of ranges. */
  private bytesThrough = new Float64Array(1024);
  /** The newest Full entry at or before each entry (its delta chain's base), or -1. */
  private bases = new Int32Array(1024);
  private size = 0;
  /** First entry visible to readers; entries before it survive only as delta bases. */
  start = 0;

  get physicalLength(): number {
    return this.size;
  }

  /** Visible entries. */
  get count(): number {
    return this.size - this.start;
  }

  push(version: Version, wallUs: number, logical: number, location: number, payloadBytes: number, kind: RecordKind): void {
    invariant(kind === RecordKind.Full || kind === RecordKind.Delta, 'index holds only version records', () => `kind ${kind}`);
    if (this.size === this.versions.length) this.grow(this.size * 2);
    const i = this.size++;
    this.versions[i] = version;
    this.wallUs[i] = wallUs;
    this.logicals[i] = logical;
    this.locations[i] = location;
    this.payloadSizes[i] = payloadBytes;
    this.kinds[i] = kind;
    this.bytesThrough[i] = (i > 0 ? this.bytesThrough[i - 1] : 0) + RECORD_HEADER_BYTES + payloadBytes;
    this.bases[i] = kind === RecordKind.Full ? i : i > 0 ? this.bases[i - 1] : -1;
  }

  /** Record bytes of entries [from, size). */
  bytesFrom(from: number): number {
    if (from >= this.size) return 0;
    return this.bytesThrough[this.size - 1] - this.bytesThrough[from] + RECORD_HEADER_BYTES + this.payloadSizes[from];
  }

  /** The first visible entry i such that entries [i, size) hold at most `bytes` record bytes, or size. */
  firstWithinBytes(bytes: number): number {
    let lo = this.start;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bytesFrom(mid) <= bytes) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  version(i: number): Version {
    return this.versions[i];
  }

  time(i: number): Hlc {
    return { wallUs: this.wallUs[i], logical: this.logicals[i] };
  }

  location(i: number): number {
    return this.locations[i];
  }

  payloadBytes(i: number): number {
    return this.payloadSizes[i];
  }

  kind(i: number): RecordKind {
    return this.kinds[i] as RecordKind;
  }

  /** Index of the newest entry with version <= v among the visible ones, or -1. */
  lastAtOrBefore(v: Version): number {
    let lo = this.start;
    let hi = this.size - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.versions[mid] <= v) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Index of the oldest visible entry with version > v, or -1. */
  firstAfter(v: Version): number {
    const i = this.lastAtOrBefore(v);
    const next = i < 0 ? this.start : i + 1;
    return next < this.size ? next : -1;
  }

  /** Index of the newest visible entry whose time is <= t, or -1. */
  lastAtOrBeforeTime(t: Hlc): number {
    let lo = this.start;
    let hi = this.size - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const w = this.wallUs[mid];
      if (w < t.wallUs || (w === t.wallUs && this.logicals[mid] <= t.logical)) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The newest Full entry at or before i (physically, so below `start` too); -1 if the chain has no base. */
  baseOf(i: number): number {
    return i >= 0 && i < this.size ? this.bases[i] : -1;
  }

  /** Drops entries [i, size). */
  dropFrom(i: number): void {
    invariant(i >= 0 && i <= this.size, 'dropFrom within the index', () => `${i} of ${this.size}`);
    this.size = i;
    if (this.start > i) this.start = i;
  }

  /** Physically forgets entries [0, n) and moves the rest down; `relocate` maps each kept location. */
  dropBefore(n: number, relocate: (location: number) => number): void {
    invariant(n >= 0 && n <= this.start, 'only hidden entries are physically dropped', () => `${n} > start ${this.start}`);
    this.versions.copyWithin(0, n, this.size);
    this.wallUs.copyWithin(0, n, this.size);
    this.logicals.copyWithin(0, n, this.size);
    this.locations.copyWithin(0, n, this.size);
    this.payloadSizes.copyWithin(0, n, this.size);
    this.kinds.copyWithin(0, n, this.size);
    this.bytesThrough.copyWithin(0, n, this.size);
    this.bases.copyWithin(0, n, this.size);
    this.size -= n;
    this.start -= n;
    for (let i = 0; i < this.size; i++) {
      this.locations[i] = relocate(this.locations[i]);
      // Kept entries' bases are kept too (the first kept entry is a base or nothing is delta).
      this.bases[i] = this.bases[i] < n ? -1 : this.bases[i] - n;
    }
  }

  private grow(capacity: number): void {
    const grow = <A extends BigInt64Array | Float64Array | Uint32Array | Int32Array | Uint8Array>(old: A, make: (n: number) => A): A => {
      const next = make(capacity);
      next.set(old as never);
      return next;
    };
    this.versions = grow(this.versions, (n) => new BigInt64Array(n));
    this.wallUs = grow(this.wallUs, (n) => new Float64Array(n));
    this.logicals = grow(this.logicals, (n) => new Uint32Array(n));
    this.locations = grow(this.locations, (n) => new Float64Array(n));
    this.payloadSizes = grow(this.payloadSizes, (n) => new Uint32Array(n));
    this.kinds = grow(this.kinds, (n) => new Uint8Array(n));
    this.bytesThrough = grow(this.bytesThrough, (n) => new Float64Array(n));
    this.bases = grow(this.bases, (n) => new Int32Array(n));
  }
}
