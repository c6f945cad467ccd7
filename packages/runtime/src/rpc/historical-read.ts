/**
 * Historical p2p reads (`kv.p2p(n).at(v).get(k)`, `.asOf(t)`, `.history({ from, to })`): what
 * the caller asks for and how it travels. A p2p request whose flags byte is not zero carries a
 * selector between its header and its arguments; a history reply carries one marshalled result
 * per version of the range.
 *
 * Selector bytes (little-endian): a point is 13 bytes, `kind` (0 none, 1 version, 2 HLC) then
 * either the version (u64) and 4 zero bytes, or the HLC's wall microseconds (f64) and logical
 * counter (u32). Flags 1: one point (at / asOf). Flags 2: history: from point, to point, limit (u32).
 */
import { compareHlc, hlc, type Hlc } from '../core/hlc.js';
import type { Version } from '../core/version.js';
import { RpcWireError } from './rpc-errors.js';

/** A moment of an object's history: one of its versions, or an HLC instant. */
export type HistoryPoint = { readonly version: Version } | { readonly time: Hlc };

export type HistoricalSelector =
  | { readonly kind: 'asOf'; readonly point: HistoryPoint }
  | { readonly kind: 'history'; readonly from: HistoryPoint | undefined; readonly to: HistoryPoint | undefined; readonly limit: number };

/** One version of a `history()` answer: the method's result run against the object as of `version`. */
export interface HistoryEntry<R> {
  readonly version: Version;
  /** When the version was made (the HLC every replica stamped on it). */
  readonly hlc: Hlc;
  readonly value: R;
}

/** How a user names an instant: an HLC, a `Date`, or wall-clock microseconds since the epoch. */
export type TimeLike = Hlc | Date | number;

/** A `history()` range: versions (bigint) or instants, both ends inclusive; at most `limit` versions. */
export interface HistoryRange {
  readonly from?: Version | TimeLike;
  readonly to?: Version | TimeLike;
  /** Default 1000, at most MAX_HISTORY_VERSIONS: a range with more versions is refused, not cut. */
  readonly limit?: number;
}

export const DEFAULT_HISTORY_LIMIT = 1000;
export const MAX_HISTORY_VERSIONS = 100_000;

export const enum SelectorFlags {
  None = 0,
  AsOf = 1,
  History = 2,
}

const POINT_BYTES = 13;
/** The largest logical counter: a wall-clock instant includes every version stamped in its microsecond. */
const LOGICAL_MAX = 0xffffffff;

/**
 * The HLC a user's instant stands for. Wall-clock times (a Date, microseconds) mean "as of the end
 * of that microsecond": every version stamped in it counts, whatever its logical counter.
 */
export function toHlc(time: TimeLike, what: string, edge: 'end' | 'start' = 'end'): Hlc {
  const logical = edge === 'end' ? LOGICAL_MAX : 0;
  if (time instanceof Date) {
    const ms = time.getTime();
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${what}: the Date is invalid or before 1970`);
    return { wallUs: ms * 1000, logical };
  }
  if (typeof time === 'number') {
    if (!Number.isSafeInteger(time) || time < 0) throw new RangeError(`${what}: wall-clock time must be a non-negative integer of microseconds since the epoch, got ${time}`);
    return { wallUs: time, logical };
  }
  if (typeof time === 'object' && time !== null && typeof time.wallUs === 'number' && typeof time.logical === 'number') return hlc(time.wallUs, time.logical);
  throw new TypeError(`${what}: expected an HLC { wallUs, logical }, a Date or microseconds since the epoch, got ${describe(time)}`);
}

/** A version or an instant; wall-clock instants stand for the end of their microsecond (`edge` 'start': its start). */
export function toPoint(at: Version | TimeLike, what: string, edge: 'end' | 'start' = 'end'): HistoryPoint {
  if (typeof at === 'bigint') {
    if (at < 0n || at >= 1n << 64n) throw new RangeError(`${what}: a version is a non-negative 64-bit integer, got ${at}`);
    return { version: at };
  }
  return { time: toHlc(at, what, edge) };
}

/** The selector of `history(range)`, checked at the call. */
export function historySelector(range: HistoryRange): HistoricalSelector {
  if (typeof range !== 'object' || range === null) throw new TypeError(`history() takes a range { from?, to?, limit? }, got ${describe(range)}`);
  const limit = range.limit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_HISTORY_VERSIONS) throw new RangeError(`history(): limit must be an integer from 1 to ${MAX_HISTORY_VERSIONS}, got ${String(limit)}`);
  const from = range.from === undefined ? undefined : toPoint(range.from, 'history(): from', 'start');
  const to = range.to === undefined ? undefined : toPoint(range.to, 'history(): to');
  if (from !== undefined && to !== undefined && 'version' in from && 'version' in to && from.version > to.version) throw new RangeError(`history(): from ${from.version} is after to ${to.version}`);
  if (from !== undefined && to !== undefined && 'time' in from && 'time' in to && compareHlc(from.time, to.time) > 0) throw new RangeError('history(): from is after to');
  return { kind: 'history', from, to, limit };
}

export function describePoint(point: HistoryPoint): string {
  return 'version' in point ? `version ${point.version}` : `time ${point.time.wallUs}.${point.time.logical}`;
}

// ---- wire -----------------------------------------------------------------------------------

export function selectorFlags(selector: HistoricalSelector | undefined): SelectorFlags {
  if (selector === undefined) return SelectorFlags.None;
  return selector.kind === 'asOf' ? SelectorFlags.AsOf : SelectorFlags.History;
}

export function encodeSelector(selector: HistoricalSelector): Uint8Array {
  if (selector.kind === 'asOf') {
    const out = new Uint8Array(POINT_BYTES);
    writePoint(new DataView(out.buffer), 0, selector.point);
    return out;
  }
  const out = new Uint8Array(2 * POINT_BYTES + 4);
  const v = new DataView(out.buffer);
  writePoint(v, 0, selector.from);
  writePoint(v, POINT_BYTES, selector.to);
  v.setUint32(2 * POINT_BYTES, selector.limit, true);
  return out;
}

/** The selector at the start of `bytes` (after the request header) and where the arguments start. */
export function decodeSelector(flags: number, bytes: Uint8Array): { selector: HistoricalSelector | undefined; argsAt: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (flags) {
    case SelectorFlags.None:
      return { selector: undefined, argsAt: 0 };
    case SelectorFlags.AsOf: {
      need(bytes, POINT_BYTES, 'an asOf selector');
      const point = readPoint(v, 0);
      if (point === undefined) throw new RpcWireError('an asOf selector names no version or time');
      return { selector: { kind: 'asOf', point }, argsAt: POINT_BYTES };
    }
    case SelectorFlags.History: {
      need(bytes, 2 * POINT_BYTES + 4, 'a history selector');
      const limit = v.getUint32(2 * POINT_BYTES, true);
      if (limit < 1 || limit > MAX_HISTORY_VERSIONS) throw new RpcWireError(`a history selector's limit ${limit} is outside 1..${MAX_HISTORY_VERSIONS}`);
      return { selector: { kind: 'history', from: readPoint(v, 0), to: readPoint(v, POINT_BYTES), limit }, argsAt: 2 * POINT_BYTES + 4 };
    }
    default:
      throw new RpcWireError(`a P2P request has flags ${flags}, expected 0 (a call), 1 (asOf) or 2 (history)`);
  }
}

function writePoint(v: DataView, at: number, point: HistoryPoint | undefined): void {
  if (point === undefined) return; // kind 0, all zeros
  if ('version' in point) {
    v.setUint8(at, 1);
    v.setBigUint64(at + 1, point.version, true);
  } else {
    v.setUint8(at, 2);
    v.setFloat64(at + 1, point.time.wallUs, true);
    v.setUint32(at + 9, point.time.logical, true);
  }
}

function readPoint(v: DataView, at: number): HistoryPoint | undefined {
  switch (v.getUint8(at)) {
    case 0:
      return undefined;
    case 1:
      return { version: v.getBigUint64(at + 1, true) };
    case 2: {
      const wallUs = v.getFloat64(at + 1, true);
      if (!Number.isSafeInteger(wallUs) || wallUs < 0) throw new RpcWireError(`a selector's time has wall microseconds ${wallUs}`);
      return { time: { wallUs, logical: v.getUint32(at + 9, true) } };
    }
    default:
      throw new RpcWireError(`a selector point has kind ${v.getUint8(at)}, expected 0, 1 or 2`);
  }
}

function need(bytes: Uint8Array, n: number, what: string): void {
  if (bytes.length < n) throw new RpcWireError(`${what} needs ${n} bytes, got ${bytes.length}`);
}

/** A history answer: per entry, version (u64), HLC (f64 + u32), result length (u32) and the marshalled result. */
export function encodeHistory(entries: readonly { version: Version; hlc: Hlc; result: Uint8Array }[]): Uint8Array {
  let bytes = 4;
  for (const e of entries) bytes += 24 + e.result.length;
  const out = new Uint8Array(bytes);
  const v = new DataView(out.buffer);
  v.setUint32(0, entries.length, true);
  let at = 4;
  for (const e of entries) {
    v.setBigUint64(at, e.version, true);
    v.setFloat64(at + 8, e.hlc.wallUs, true);
    v.setUint32(at + 16, e.hlc.logical, true);
    v.setUint32(at + 20, e.result.length, true);
    out.set(e.result, at + 24);
    at += 24 + e.result.length;
  }
  return out;
}

export function decodeHistory<R>(bytes: Uint8Array, decodeResult: (b: Uint8Array) => R): HistoryEntry<R>[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  need(bytes, 4, 'a history reply');
  const count = v.getUint32(0, true);
  if (count > MAX_HISTORY_VERSIONS) throw new RpcWireError(`a history reply claims ${count} versions (at most ${MAX_HISTORY_VERSIONS})`);
  const out: HistoryEntry<R>[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    need(bytes, at + 24, `history reply entry ${i}`);
    const length = v.getUint32(at + 20, true);
    need(bytes, at + 24 + length, `history reply entry ${i}`);
    const wallUs = v.getFloat64(at + 8, true);
    if (!Number.isSafeInteger(wallUs) || wallUs < 0) throw new RpcWireError(`history reply entry ${i} has wall microseconds ${wallUs}`);
    out.push({ version: v.getBigUint64(at, true), hlc: { wallUs, logical: v.getUint32(at + 16, true) }, value: decodeResult(bytes.subarray(at + 24, at + 24 + length)) });
    at += 24 + length;
  }
  if (at !== bytes.length) throw new RpcWireError(`a history reply has ${bytes.length - at} bytes after its ${count} entries`);
  return out;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return x.constructor?.name ?? 'an object';
  return `${typeof x} ${String(x)}`;
}
