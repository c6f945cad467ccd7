/**
 * A fast path for the commonest argument lists: every parameter required and of a scalar type
 * (bytes, Buffer, number, boolean, string). It writes and reads the very msgpack the generic
 * codec does (a fixarray of msgpack scalars, with the encodings msgpackr decodes the same way),
 * so either side may take either path: anything the fast reader does not recognise goes to the
 * generic decoder, which decodes it or names what is wrong.
 *
 * Why: the generic path goes through msgpackr's whole machinery and a validating closure per
 * argument; an ordered call of one 100-byte array spent more time there than in the multicast.
 * Here an argument list is a length check and a copy into a shared arena.
 */
import type { WireMethod } from './marshal-schema.js';

export type ScalarKind = 'bytes' | 'buffer' | 'number' | 'boolean' | 'string';

const SCALAR_KINDS: ReadonlySet<string> = new Set<ScalarKind>(['bytes', 'buffer', 'number', 'boolean', 'string']);
/** A msgpack fixarray holds up to 15 elements. */
const MAX_FAST_PARAMS = 15;

/** The scalar kinds of `method`'s parameters, or undefined when the fast path does not apply. */
export function scalarParamKinds(method: WireMethod): readonly ScalarKind[] | undefined {
  if (method.params.length > MAX_FAST_PARAMS) return undefined;
  const kinds: ScalarKind[] = [];
  for (const p of method.params) {
    if (p.optional || !SCALAR_KINDS.has(p.type.t)) return undefined;
    kinds.push(p.type.t as ScalarKind);
  }
  return kinds;
}

/** The scalar kind of `method`'s result, or undefined when the fast path does not apply. */
export function scalarResultKind(method: WireMethod): ScalarKind | undefined {
  return SCALAR_KINDS.has(method.result.t) ? (method.result.t as ScalarKind) : undefined;
}

const ARENA_BYTES = 64 * 1024;

/**
 * Encoded argument lists are views into a shared arena that only ever moves forward: a view
 * handed out is never written again (a full arena is left to the GC with its views, and a new
 * one starts), so a caller may keep it, and no call allocates its own ArrayBuffer.
 */
class Arena {
  /** The current buffer: `reserve` may replace it, so read it after reserving. */
  buffer = Buffer.allocUnsafeSlow(ARENA_BYTES);
  private position = 0;

  /** The offset in `buffer` from which at least `bytes` are free. */
  reserve(bytes: number): number {
    if (this.position + bytes > this.buffer.length) {
      this.buffer = Buffer.allocUnsafeSlow(Math.max(ARENA_BYTES, bytes));
      this.position = 0;
    }
    return this.position;
  }

  /** Hands out [offset, end) of the current buffer. */
  take(offset: number, end: number): Buffer {
    // Aligned starts keep later copies of these views word-aligned.
    this.position = (end + 7) & ~7;
    return this.buffer.subarray(offset, end);
  }
}

const arena = new Arena();

/** Upper bound of one scalar's encoded size, or -1 when `value` is not of `kind` (the generic path then reports it). */
function maxEncodedBytes(kind: ScalarKind, value: unknown): number {
  switch (kind) {
    case 'bytes':
      return value instanceof Uint8Array ? 5 + value.length : -1;
    case 'buffer':
      return Buffer.isBuffer(value) ? 5 + value.length : -1;
    case 'number':
      return typeof value === 'number' ? 9 : -1;
    case 'boolean':
      return typeof value === 'boolean' ? 1 : -1;
    case 'string':
      // UTF-8 takes at most 3 bytes per UTF-16 unit.
      return typeof value === 'string' ? 5 + 3 * value.length : -1;
  }
}

function writeNumber(out: Buffer, at: number, v: number): number {
  if (Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff) {
    if (v >= 0) {
      // Below 0x20 only: msgpackr reads 0x40-0x7f as record ids when records are on.
      if (v < 0x20) {
        out[at] = v;
        return at + 1;
      }
      if (v < 0x100) {
        out[at] = 0xcc;
        out[at + 1] = v;
        return at + 2;
      }
      if (v < 0x10000) {
        out[at] = 0xcd;
        out.writeUInt16BE(v, at + 1);
        return at + 3;
      }
      out[at] = 0xce;
      out.writeUInt32BE(v, at + 1);
      return at + 5;
    }
    if (v >= -0x20) {
      out[at] = v & 0xff;
      return at + 1;
    }
    if (v >= -0x80) {
      out[at] = 0xd0;
      out.writeInt8(v, at + 1);
      return at + 2;
    }
    if (v >= -0x8000) {
      out[at] = 0xd1;
      out.writeInt16BE(v, at + 1);
      return at + 3;
    }
    out[at] = 0xd2;
    out.writeInt32BE(v, at + 1);
    return at + 5;
  }
  out[at] = 0xcb;
  out.writeDoubleBE(v, at + 1);
  return at + 9;
}

/** A msgpack bin or str header for `length` bytes; `base` is 0xc4 (bin8) or 0xd9 (str8). */
function writeLengthHeader(out: Buffer, at: number, base: number, length: number): number {
  if (length < 0x100) {
    out[at] = base;
    out[at + 1] = length;
    return at + 2;
  }
  if (length < 0x10000) {
    out[at] = base + 1;
    out.writeUInt16BE(length, at + 1);
    return at + 3;
  }
  out[at] = base + 2;
  out.writeUInt32BE(length, at + 1);
  return at + 5;
}

/** Writes `v` (known to be of `kind`) at `at`; returns the position after it. */
function writeScalar(out: Buffer, at: number, kind: ScalarKind, v: unknown): number {
  switch (kind) {
    case 'bytes':
    case 'buffer': {
      const bytes = v as Uint8Array;
      at = writeLengthHeader(out, at, 0xc4, bytes.length);
      out.set(bytes, at);
      return at + bytes.length;
    }
    case 'number':
      return writeNumber(out, at, v as number);
    case 'boolean':
      out[at] = v ? 0xc3 : 0xc2;
      return at + 1;
    case 'string': {
      const s = v as string;
      // Short strings are mostly ASCII: write them as they are, else let Buffer encode.
      if (s.length < 0x20 && isAscii(s)) {
        out[at++] = 0xa0 | s.length;
        for (let j = 0; j < s.length; j++) out[at + j] = s.charCodeAt(j);
        return at + s.length;
      }
      const length = Buffer.byteLength(s, 'utf8');
      at = writeLengthHeader(out, at, 0xd9, length);
      return at + out.write(s, at, length, 'utf8');
    }
  }
}

/**
 * `args` as a msgpack array after `headerBytes` reserved bytes (the caller writes its header
 * there), or undefined when an argument is not of its declared kind (the generic path takes over
 * and reports it).
 */
export function encodeScalarArgs(kinds: readonly ScalarKind[], args: readonly unknown[], headerBytes: number): Buffer | undefined {
  if (args.length !== kinds.length) return undefined;
  let max = headerBytes + 1;
  for (let i = 0; i < kinds.length; i++) {
    const bytes = maxEncodedBytes(kinds[i], args[i]);
    if (bytes < 0) return undefined;
    max += bytes;
  }
  const offset = arena.reserve(max);
  const out = arena.buffer;
  let at = offset + headerBytes;
  out[at++] = 0x90 | kinds.length;
  for (let i = 0; i < kinds.length; i++) at = writeScalar(out, at, kinds[i], args[i]);
  return arena.take(offset, at);
}

/** One value of `kind` as msgpack (a method's result), or undefined when `value` is not of `kind`. */
export function encodeScalar(kind: ScalarKind, value: unknown): Buffer | undefined {
  const max = maxEncodedBytes(kind, value);
  if (max < 0) return undefined;
  const offset = arena.reserve(max);
  return arena.take(offset, writeScalar(arena.buffer, offset, kind, value));
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

const utf8 = new TextDecoder('utf-8');

/** A view of `length` bytes of `src` at `at`, as a Buffer; copied (into Node's pool) when `copy`. */
function bytesAt(src: Uint8Array, at: number, length: number, copy: boolean): Buffer {
  const view = Buffer.from(src.buffer, src.byteOffset + at, length);
  return copy ? Buffer.from(view) : view;
}

function u16(src: Uint8Array, at: number): number {
  return (src[at] << 8) | src[at + 1];
}

function u32(src: Uint8Array, at: number): number {
  return src[at] * 0x1000000 + ((src[at + 1] << 16) | (src[at + 2] << 8) | src[at + 3]);
}

/** The value `readScalar` read last (a module slot, so reading allocates no result object). */
let scalarRead: unknown;

/**
 * Reads one value of `kind` at `src[at]`, not past `end`, into `scalarRead`; returns the position
 * after it, or -1 when the bytes are not an encoding this path knows.
 */
function readScalar(kind: ScalarKind, src: Uint8Array, at: number, end: number, copyBuffers: boolean): number {
  if (at >= end) return -1;
  const token = src[at];
  switch (kind) {
    case 'bytes':
    case 'buffer': {
      let length: number;
      if (token === 0xc4 && at + 2 <= end) {
        length = src[at + 1];
        at += 2;
      } else if (token === 0xc5 && at + 3 <= end) {
        length = u16(src, at + 1);
        at += 3;
      } else if (token === 0xc6 && at + 5 <= end) {
        length = u32(src, at + 1);
        at += 5;
      } else return -1;
      if (at + length > end) return -1;
      scalarRead = bytesAt(src, at, length, copyBuffers);
      return at + length;
    }
    case 'number': {
      // 0x40-0x7f are not here: msgpackr reads them as record ids when records are on.
      if (token < 0x40) scalarRead = token;
      else if (token >= 0xe0) scalarRead = token - 0x100;
      else if (token === 0xcc && at + 2 <= end) {
        scalarRead = src[at + 1];
        return at + 2;
      } else if (token === 0xcd && at + 3 <= end) {
        scalarRead = u16(src, at + 1);
        return at + 3;
      } else if (token === 0xce && at + 5 <= end) {
        scalarRead = u32(src, at + 1);
        return at + 5;
      } else if (token === 0xd0 && at + 2 <= end) {
        scalarRead = (src[at + 1] << 24) >> 24;
        return at + 2;
      } else if (token === 0xd1 && at + 3 <= end) {
        scalarRead = (u16(src, at + 1) << 16) >> 16;
        return at + 3;
      } else if (token === 0xd2 && at + 5 <= end) {
        scalarRead = u32(src, at + 1) | 0;
        return at + 5;
      } else if (token === 0xcb && at + 9 <= end) {
        scalarRead = new DataView(src.buffer, src.byteOffset + at + 1, 8).getFloat64(0);
        return at + 9;
      } else return -1;
      return at + 1;
    }
    case 'boolean':
      if (token !== 0xc2 && token !== 0xc3) return -1;
      scalarRead = token === 0xc3;
      return at + 1;
    case 'string': {
      let length: number;
      if (token >= 0xa0 && token <= 0xbf) {
        length = token - 0xa0;
        at += 1;
      } else if (token === 0xd9 && at + 2 <= end) {
        length = src[at + 1];
        at += 2;
      } else if (token === 0xda && at + 3 <= end) {
        length = u16(src, at + 1);
        at += 3;
      } else if (token === 0xdb && at + 5 <= end) {
        length = u32(src, at + 1);
        at += 5;
      } else return -1;
      if (at + length > end) return -1;
      scalarRead = utf8.decode(src.subarray(at, at + length));
      return at + length;
    }
  }
}

/**
 * The arguments encoded at `src[start..)`, or undefined when they are not the plain encoding this
 * path knows (then the generic decoder reads them, and throws if they are wrong). Byte arrays are
 * views of `src` unless `copyBuffers`.
 */
export function decodeScalarArgs(kinds: readonly ScalarKind[], src: Uint8Array, start: number, copyBuffers: boolean): unknown[] | undefined {
  const end = src.length;
  if (start >= end || src[start] !== (0x90 | kinds.length)) return undefined;
  let at = start + 1;
  const out = new Array<unknown>(kinds.length);
  for (let i = 0; i < kinds.length; i++) {
    at = readScalar(kinds[i], src, at, end, copyBuffers);
    if (at < 0) return undefined;
    out[i] = scalarRead;
  }
  scalarRead = undefined;
  return at === end ? out : undefined;
}

/** Returned by `decodeScalar` when the bytes need the generic decoder. */
export const NOT_SCALAR: unique symbol = Symbol('not a plain scalar encoding');

/** One value of `kind` encoded in exactly `src[start..end)`, or NOT_SCALAR. */
export function decodeScalar(kind: ScalarKind, src: Uint8Array, start: number, end: number, copyBuffers: boolean): unknown {
  const at = readScalar(kind, src, start, end, copyBuffers);
  const value = scalarRead;
  scalarRead = undefined;
  return at === end ? value : NOT_SCALAR;
}
