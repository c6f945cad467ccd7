/**
 * The scalar-argument fast path writes and reads the msgpack the generic codec does: what it
 * encodes, msgpackr decodes to the same values, and what msgpackr encodes, it decodes to the same
 * values or hands to the generic decoder. Anything else (wrong types, garbage) takes the generic
 * path and fails there with its usual errors.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { decodeScalar, decodeScalarArgs, encodeScalar, encodeScalarArgs, NOT_SCALAR, scalarParamKinds, scalarResultKind, type ScalarKind } from '../../src/rpc/fast-args.js';
import { createPackr, SchemaCodec, WireTypeError } from '../../src/rpc/marshal.js';
import { defineWireSchema, type WireMethod, type WireType } from '../../src/rpc/marshal-schema.js';

const param = (name: string, t: WireType['t'], optional = false) => ({ name, type: { t } as WireType, optional });

const schema = defineWireSchema({
  hash: 'test',
  classes: {
    Probe: {
      methods: {
        all: {
          id: 1,
          ordered: true,
          p2p: true,
          params: [param('b', 'bytes'), param('n', 'number'), param('f', 'boolean'), param('s', 'string'), param('buf', 'buffer')],
          result: { t: 'void' },
        },
        sink: { id: 2, ordered: true, p2p: false, params: [param('payload', 'bytes')], result: { t: 'void' } },
        optional: { id: 3, ordered: true, p2p: false, params: [param('n', 'number'), param('m', 'number', true)], result: { t: 'void' } },
        big: { id: 4, ordered: true, p2p: false, params: [param('v', 'bigint')], result: { t: 'void' } },
        num: { id: 5, ordered: true, p2p: false, params: [], result: { t: 'number' } },
        text: { id: 6, ordered: true, p2p: false, params: [], result: { t: 'string' } },
        blob: { id: 7, ordered: true, p2p: false, params: [], result: { t: 'bytes' } },
        flag: { id: 8, ordered: true, p2p: false, params: [], result: { t: 'boolean' } },
      },
    },
  },
  types: {},
  structures: [['a', 'b']],
});

const ALL: readonly ScalarKind[] = ['bytes', 'number', 'boolean', 'string', 'buffer'];
const packr = createPackr(schema);

/** Normalizes decoded values for comparison (Buffers and Uint8Arrays as plain arrays). */
const plain = (values: readonly unknown[]): unknown[] => values.map((v) => (v instanceof Uint8Array ? { bytes: [...v] } : Object.is(v, -0) ? 0 : v));

const scalarArgs = fc.tuple(
  fc.uint8Array({ maxLength: 300 }),
  fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 2 ** 32, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53, Number.MAX_SAFE_INTEGER, Infinity, -Infinity, NaN, -0, 0.5)),
  fc.boolean(),
  fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ minLength: 250, maxLength: 70000, unit: 'binary-ascii' })),
  fc.uint8Array({ maxLength: 70000 }).map((a) => Buffer.from(a)),
);

describe('rpc fast path for scalar arguments', () => {
  it('applies to required scalar parameters only', () => {
    const methods = schema.classes.Probe.methods as Record<string, WireMethod>;
    expect(scalarParamKinds(methods.all)).to.deep.equal(ALL);
    expect(scalarParamKinds(methods.sink)).to.deep.equal(['bytes']);
    expect(scalarParamKinds(methods.optional)).to.equal(undefined);
    expect(scalarParamKinds(methods.big)).to.equal(undefined);
  });

  it('what it encodes, msgpackr decodes to the same values, and so does the fast reader', () => {
    fc.assert(
      fc.property(scalarArgs, (args) => {
        const header = 12;
        const framed = encodeScalarArgs(ALL, args, header)!;
        expect(framed).to.not.equal(undefined);
        const generic = packr.unpack(framed.subarray(header)) as unknown[];
        expect(plain(generic)).to.deep.equal(plain(args));
        expect(plain(decodeScalarArgs(ALL, framed, header, false)!)).to.deep.equal(plain(args));
      }),
      { numRuns: 300 },
    );
  });

  it('what msgpackr encodes, the codec decodes to the same values (fast reader or fallback)', () => {
    const codec = new SchemaCodec(schema).method('Probe', 'all');
    fc.assert(
      fc.property(scalarArgs, (args) => {
        const bytes = packr.pack(args);
        expect(plain(codec.decodeArgs(bytes))).to.deep.equal(plain(args));
      }),
      { numRuns: 300 },
    );
  });

  it('the codec decodes ids 0x40-0x7f as msgpackr does (they can be record ids), never as plain integers', () => {
    // [0x40, 1, 2]: the first shared record ({ a, b }) with a = 1, b = 2; not the number 64.
    const bytes = new Uint8Array([0x91, 0x40, 0x01, 0x02]);
    expect(decodeScalarArgs(['number'], bytes, 0, false)).to.equal(undefined);
    const codec = new SchemaCodec(schema).method('Probe', 'optional');
    expect(() => codec.decodeArgs(bytes)).to.throw(WireTypeError, "Probe.optional argument 'n': expected number, got an instance of Object");
  });

  it('gives byte arrays as Buffers: views of the input on delivery, copies otherwise', () => {
    const args = [new Uint8Array([1, 2, 3])];
    const wire = encodeScalarArgs(['bytes'], args, 0)!;
    const view = decodeScalarArgs(['bytes'], wire, 0, false)![0] as Buffer;
    const copy = decodeScalarArgs(['bytes'], wire, 0, true)![0] as Buffer;
    expect(Buffer.isBuffer(view) && Buffer.isBuffer(copy)).to.equal(true);
    wire.fill(0);
    expect([...view]).to.deep.equal([0, 0, 0]);
    expect([...copy]).to.deep.equal([1, 2, 3]);
  });

  it('arguments of the wrong kind go to the generic path, which reports them', () => {
    expect(encodeScalarArgs(['bytes'], ['not bytes'], 0)).to.equal(undefined);
    expect(encodeScalarArgs(['buffer'], [new Uint8Array(1)], 0)).to.equal(undefined);
    expect(encodeScalarArgs(['number', 'boolean'], [1], 0)).to.equal(undefined);
    const codec = new SchemaCodec(schema).method('Probe', 'sink');
    // Encodable (msgpack takes anything), refused where it is decoded, naming the argument.
    const wire = codec.encodeArgs(['not bytes']);
    expect(() => codec.decodeArgs(wire)).to.throw(WireTypeError, "Probe.sink argument 'payload': expected a Uint8Array, got the string \"not bytes\"");
    expect(() => codec.encodeArgs([])).to.throw(WireTypeError, 'Probe.sink: called with 0 argument(s), expected 1');
  });

  it('encoded argument lists stay intact while later calls are encoded (the arena only moves forward)', () => {
    const first = encodeScalarArgs(['bytes'], [new Uint8Array(1000).fill(1)], 12)!;
    const copy = Buffer.from(first);
    for (let i = 0; i < 200; i++) encodeScalarArgs(['bytes'], [new Uint8Array(1000).fill(2)], 12);
    expect(Buffer.compare(first, copy)).to.equal(0);
  });

  it('garbage never decodes to values of the wrong type: it is refused with an error, or it is well-typed', () => {
    const codec = new SchemaCodec(schema).method('Probe', 'all');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 8 }), (tail, prefix) => {
        const bytes = Buffer.concat([Buffer.from([0x95]), prefix, tail]);
        let args: unknown[];
        try {
          args = codec.decodeArgs(bytes);
        } catch (err) {
          expect(err).to.be.instanceOf(Error);
          return;
        }
        expect(args[0]).to.be.instanceOf(Uint8Array);
        expect(typeof args[1]).to.equal('number');
        expect(typeof args[2]).to.equal('boolean');
        expect(typeof args[3]).to.equal('string');
        expect(Buffer.isBuffer(args[4])).to.equal(true);
      }),
      { numRuns: 2000 },
    );
    for (const cut of [1, 2, 5, 10]) {
      const wire = codec.encodeArgs([new Uint8Array(20), 1, true, 'x', Buffer.alloc(3)]);
      expect(() => codec.decodeArgs(wire.subarray(0, wire.length - cut))).to.throw(Error);
    }
  });

  it('scalar results: fast-encoded ones decode with msgpackr, msgpackr-encoded ones decode with the codec, from any offset', () => {
    const methods = schema.classes.Probe.methods as Record<string, WireMethod>;
    expect(scalarResultKind(methods.num)).to.equal('number');
    expect(scalarResultKind(methods.all)).to.equal(undefined);
    const codecs = new SchemaCodec(schema);
    fc.assert(
      fc.property(scalarArgs, ([bytes, n, f, s]) => {
        const cases: [string, ScalarKind, unknown][] = [
          ['num', 'number', n],
          ['text', 'string', s],
          ['blob', 'bytes', bytes],
          ['flag', 'boolean', f],
        ];
        for (const [name, kind, value] of cases) {
          const codec = codecs.method('Probe', name);
          const fast = codec.encodeResult(value);
          expect(plain([packr.unpack(fast)])).to.deep.equal(plain([value]));
          expect(plain([codec.decodeResult(packr.pack(value))])).to.deep.equal(plain([value]));
          const framed = Buffer.concat([Buffer.from([1, 2, 3]), fast, Buffer.from([9])]);
          expect(plain([codec.decodeResultAt(framed, 3, 3 + fast.length)])).to.deep.equal(plain([value]));
          expect(decodeScalar(kind, framed, 3, 3 + fast.length + 1, false)).to.equal(NOT_SCALAR);
          expect(encodeScalar(kind, Symbol('x'))).to.equal(undefined);
        }
      }),
      { numRuns: 100 },
    );
    const num = codecs.method('Probe', 'num');
    expect(() => num.decodeResult(packr.pack('seven'))).to.throw(WireTypeError, 'Probe.num result: expected number, got the string "seven"');
    expect(() => num.decodeResultAt(new Uint8Array(4), 2, 2)).to.throw(WireTypeError, 'Probe.num: an empty result');
    // A result of the wrong kind is still encoded (generically) and refused by the reader.
    expect(() => num.decodeResult(num.encodeResult('x'))).to.throw(WireTypeError);
  });

  it('framed arguments (a header reserved in front) decode from their offset on both paths', () => {
    const codecs = new SchemaCodec(schema);
    const generic = codecs.method('Probe', 'optional'); // an optional parameter: the msgpackr path
    const fast = codecs.method('Probe', 'all');
    const g = generic.encodeArgsFramed([5, 6], 12);
    g.fill(0xee, 0, 12);
    expect(generic.decodeArgsAt(g, 12)).to.deep.equal([5, 6]);
    expect(generic.decodeArgsAt(generic.encodeArgsFramed([5], 3), 3)).to.deep.equal([5]);
    const args = [new Uint8Array([1]), -7.5, false, 'ü', Buffer.from('b')];
    const f = fast.encodeArgsFramed(args, 12);
    f.fill(0xee, 0, 12);
    expect(plain(fast.decodeArgsAt(f, 12))).to.deep.equal(plain(args));
    expect(() => fast.encodeArgsFramed(args, 256)).to.throw(RangeError, /headerBytes/);
  });
});

