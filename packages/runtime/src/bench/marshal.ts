/**
 * Micro-benchmark of per-call marshalling cost (encode + decode of an ordered call's arguments),
 * comparing the schema-driven codec against plain msgpackr and JSON with base64 bytes, in two
 * scenarios: `put(key: string, value: Uint8Array)` with a 100-byte value, and the same data as
 * one object argument `put(entry: { key; value; ttlMs; tags })`, where the generated record
 * structures replace key names on the wire. Returns figures; printing is the caller's business.
 */
import { pack, unpack } from 'msgpackr';
import { defineWireSchema, type WireType } from '../rpc/marshal-schema.js';
import { SchemaCodec } from '../rpc/marshal.js';

export interface MarshalBenchOptions {
  /** Timed calls per variant (after a warm-up of a tenth as many). */
  readonly iterations?: number;
  readonly valueBytes?: number;
  readonly key?: string;
}

export interface MarshalBenchFigure {
  readonly scenario: 'key+bytes' | 'object';
  readonly name: string;
  /** Encode plus decode, nanoseconds per call. */
  readonly nsPerCall: number;
  readonly callsPerSecond: number;
  /** Size of the encoded arguments. */
  readonly wireBytes: number;
}

interface Entry {
  key: string;
  value: Uint8Array;
  ttlMs: number;
  tags: string[];
}

interface Variant {
  readonly scenario: MarshalBenchFigure['scenario'];
  readonly name: string;
  encode(key: string, value: Uint8Array): Uint8Array;
  /** Returns the decoded key and value, whatever the argument shape. */
  decode(bytes: Uint8Array): [string, Uint8Array];
}

const entryType: WireType = {
  t: 'object',
  props: [
    { name: 'key', type: { t: 'string' }, optional: false },
    { name: 'value', type: { t: 'bytes' }, optional: false },
    { name: 'ttlMs', type: { t: 'number' }, optional: false },
    { name: 'tags', type: { t: 'array', of: { t: 'string' } }, optional: false },
  ],
};

/** What codegen emits for the two benchmark methods. */
const benchSchema = defineWireSchema({
  hash: 'bench',
  classes: {
    KVStore: {
      methods: {
        put: {
          id: 1,
          ordered: true,
          p2p: false,
          params: [
            { name: 'key', type: { t: 'string' }, optional: false },
            { name: 'value', type: { t: 'bytes' }, optional: false },
          ],
          result: { t: 'bigint' },
        },
        putEntry: { id: 2, ordered: true, p2p: false, params: [{ name: 'entry', type: { t: 'ref', name: 'Entry' }, optional: false }], result: { t: 'bigint' } },
      },
    },
  },
  types: { Entry: entryType },
  structures: [['key', 'value', 'ttlMs', 'tags']],
});

const TAGS = ['hot', 'eu-west'];
const entryOf = (key: string, value: Uint8Array): Entry => ({ key, value, ttlMs: 60_000, tags: TAGS });
const toBytes = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const jsonBytes = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
const parseJson = <T>(bytes: Uint8Array): T => JSON.parse(toBytes(bytes).toString('utf8')) as T;

function variants(): Variant[] {
  const codec = new SchemaCodec(benchSchema);
  const aliasing = new SchemaCodec(benchSchema, {}, { copyBuffers: false });
  const put = codec.method('KVStore', 'put');
  const putAliasing = aliasing.method('KVStore', 'put');
  const putEntry = codec.method('KVStore', 'putEntry');
  return [
    {
      scenario: 'key+bytes',
      name: 'schema codec (validated, bytes copied)',
      encode: (key, value) => put.encodeArgs([key, value]),
      decode: (bytes) => put.decodeArgs(bytes) as [string, Uint8Array],
    },
    {
      scenario: 'key+bytes',
      name: 'schema codec (validated, bytes aliased)',
      encode: (key, value) => putAliasing.encodeArgs([key, value]),
      decode: (bytes) => putAliasing.decodeArgs(bytes) as [string, Uint8Array],
    },
    {
      scenario: 'key+bytes',
      name: 'plain msgpackr pack/unpack',
      encode: (key, value) => pack([key, value]),
      decode: (bytes) => unpack(bytes) as [string, Uint8Array],
    },
    {
      scenario: 'key+bytes',
      name: 'JSON + base64 bytes',
      encode: (key, value) => jsonBytes({ key, value: toBytes(value).toString('base64') }),
      decode: (bytes) => {
        const o = parseJson<{ key: string; value: string }>(bytes);
        return [o.key, new Uint8Array(Buffer.from(o.value, 'base64'))];
      },
    },
    {
      scenario: 'object',
      name: 'schema codec (shared record structure)',
      encode: (key, value) => putEntry.encodeArgs([entryOf(key, value)]),
      decode: (bytes) => {
        const [e] = putEntry.decodeArgs(bytes) as [Entry];
        return [e.key, e.value];
      },
    },
    {
      scenario: 'object',
      name: 'plain msgpackr pack/unpack (key names inline)',
      encode: (key, value) => pack([entryOf(key, value)]),
      decode: (bytes) => {
        const [e] = unpack(bytes) as [Entry];
        return [e.key, e.value];
      },
    },
    {
      scenario: 'object',
      name: 'JSON + base64 bytes',
      encode: (key, value) => jsonBytes([{ ...entryOf(key, value), value: toBytes(value).toString('base64') }]),
      decode: (bytes) => {
        const [e] = parseJson<[{ key: string; value: string }]>(bytes);
        return [e.key, new Uint8Array(Buffer.from(e.value, 'base64'))];
      },
    },
  ];
}

/** Runs every variant and returns its figures; throws if a variant fails to round-trip. */
export function measureMarshalCost(options: MarshalBenchOptions = {}): MarshalBenchFigure[] {
  const iterations = options.iterations ?? 200_000;
  const key = options.key ?? 'user:000123';
  const value = new Uint8Array(options.valueBytes ?? 100).map((_, i) => (i * 7) & 0xff);
  const figures: MarshalBenchFigure[] = [];
  for (const variant of variants()) {
    const sample = variant.encode(key, value);
    const [k, v] = variant.decode(sample);
    if (k !== key || v.length !== value.length || v.some((b, i) => b !== value[i])) {
      throw new Error(`marshal bench: ${variant.name} (${variant.scenario}) does not round-trip`);
    }
    let sink = 0;
    const loop = (n: number): void => {
      for (let i = 0; i < n; i++) sink += variant.decode(variant.encode(key, value))[1].length;
    };
    loop(Math.ceil(iterations / 10));
    const startNs = process.hrtime.bigint();
    loop(iterations);
    const elapsedNs = Number(process.hrtime.bigint() - startNs);
    if (sink === 0) throw new Error('marshal bench: nothing decoded');
    figures.push({
      scenario: variant.scenario,
      name: variant.name,
      nsPerCall: elapsedNs / iterations,
      callsPerSecond: Math.round((iterations * 1e9) / elapsedNs),
      wireBytes: sample.byteLength,
    });
  }
  return figures;
}
