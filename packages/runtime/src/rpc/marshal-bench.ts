/**
 * Micro-benchmark of per-call marshalling cost: encode + decode of an ordered call's arguments
 * (a string key and a 100-byte Uint8Array), comparing the schema-driven codec against plain
 * msgpackr and JSON with base64 bytes. Returns figures; printing is the caller's business.
 */
import { pack, unpack } from 'msgpackr';
import { defineWireSchema } from './marshal-schema.js';
import { SchemaCodec } from './marshal.js';

export interface MarshalBenchOptions {
  /** Timed calls per variant (after a warm-up of a tenth as many). */
  readonly iterations?: number;
  readonly valueBytes?: number;
  readonly key?: string;
}

export interface MarshalBenchFigure {
  readonly name: string;
  /** Encode plus decode, nanoseconds per call. */
  readonly nsPerCall: number;
  readonly callsPerSecond: number;
  /** Size of the encoded arguments. */
  readonly wireBytes: number;
}

interface Variant {
  readonly name: string;
  encode(key: string, value: Uint8Array): Uint8Array;
  decode(bytes: Uint8Array): [string, Uint8Array];
}

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
      },
    },
  },
  types: {},
  structures: [],
});

function variants(): Variant[] {
  const put = new SchemaCodec(benchSchema).method('KVStore', 'put');
  const putAliasing = new SchemaCodec(benchSchema, {}, { copyBuffers: false }).method('KVStore', 'put');
  return [
    {
      name: 'schema codec (validated, bytes copied)',
      encode: (key, value) => put.encodeArgs([key, value]),
      decode: (bytes) => put.decodeArgs(bytes) as [string, Uint8Array],
    },
    {
      name: 'schema codec (validated, bytes aliased)',
      encode: (key, value) => putAliasing.encodeArgs([key, value]),
      decode: (bytes) => putAliasing.decodeArgs(bytes) as [string, Uint8Array],
    },
    {
      name: 'plain msgpackr pack/unpack',
      encode: (key, value) => pack([key, value]),
      decode: (bytes) => unpack(bytes) as [string, Uint8Array],
    },
    {
      name: 'JSON + base64 bytes',
      encode: (key, value) => Buffer.from(JSON.stringify({ key, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') })),
      decode: (bytes) => {
        const o = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as { key: string; value: string };
        return [o.key, new Uint8Array(Buffer.from(o.value, 'base64'))];
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
      throw new Error(`marshal bench: ${variant.name} does not round-trip`);
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
      name: variant.name,
      nsPerCall: elapsedNs / iterations,
      callsPerSecond: Math.round((iterations * 1e9) / elapsedNs),
      wireBytes: sample.byteLength,
    });
  }
  return figures;
}
