import { Packr } from 'msgpackr';

/** Turns a field's value into bytes and back. `decode(encode(x))` must be a deep, independent copy of x. */
export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/**
 * The default codec: msgpackr with structured-clone semantics, so plain objects stay objects, Maps
 * stay Maps, Sets, Dates, bigints and typed arrays survive, and every record is self-describing
 * (a log written by one process decodes in another without shared structure tables).
 * `copyBuffers` keeps decoded byte arrays independent of the read buffer they came from.
 */
export function msgpackCodec<T>(): Codec<T> {
  const packr = new Packr({ structuredClone: true, useRecords: true, mapsAsObjects: false, int64AsType: 'bigint', copyBuffers: true });
  return {
    encode: (value) => packr.pack(value),
    decode: (bytes) => packr.unpack(bytes) as T,
  };
}
