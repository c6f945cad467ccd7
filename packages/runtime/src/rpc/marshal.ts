/**
 * Marshalling of RPC arguments and results, driven by the generated wire schema.
 *
 * Bytes are msgpack (msgpackr) with the schema's object key lists preloaded as shared record
 * structures, so a plain object of a known shape travels as a record id plus its values, with no
 * key names and no structure negotiation. Shapes the schema does not know (an object literal
 * written with its keys in another order, `Record<string, T>` objects) fall back to msgpackr's
 * per-message structures, which are self-describing, so they still decode everywhere. Arguments
 * travel as one msgpack array.
 *
 * Decoding validates the value against the method's types, because p2p requests may come from
 * outside the shard: a value of the wrong shape is a WireTypeError naming the method, the
 * argument and the path into it, never a crash later inside the handler.
 */
import { Packr, RESERVE_START_SPACE } from 'msgpackr';
import { decodeScalar, decodeScalarArgs, encodeScalar, encodeScalarArgs, NOT_SCALAR, scalarParamKinds, scalarResultKind } from './fast-args.js';
import type { WireClassConstructor, WireClassTable, WireMethod, WireSchema, WireType } from './marshal-schema.js';

/** A decoded value did not have the type the schema declares. */
export class WireTypeError extends Error {
  override readonly name = 'WireTypeError';
}

/** Encodes and decodes the arguments and the result of one method. */
export interface MethodCodec {
  readonly className: string;
  readonly methodName: string;
  readonly method: WireMethod;
  encodeArgs(args: readonly unknown[]): Uint8Array;
  /**
   * The arguments after `headerBytes` (at most 255) reserved bytes the caller fills in: a frame
   * built without a second copy. The bytes are the caller's to keep.
   */
  encodeArgsFramed(args: readonly unknown[], headerBytes: number): Uint8Array;
  decodeArgs(bytes: Uint8Array): unknown[];
  /** The arguments encoded in `bytes` from offset `start` to the end. */
  decodeArgsAt(bytes: Uint8Array, start: number): unknown[];
  encodeResult(result: unknown): Uint8Array;
  decodeResult(bytes: Uint8Array): unknown;
  /** The result encoded in `bytes[start..end)`. */
  decodeResultAt(bytes: Uint8Array, start: number, end: number): unknown;
}

/** All method codecs of a schema, by class and name or by class and wire id. */
export class SchemaCodec {
  readonly schema: WireSchema;
  private readonly packr: Packr;
  private readonly byName = new Map<string, Map<string, MethodCodec>>();
  private readonly byId = new Map<string, Map<number, MethodCodec>>();

  /**
   * `classes`: the generated table of self-marshalling classes. `copyBuffers: false` lets decoded
   * byte arrays alias the input, for a transport that hands over buffers it never reuses.
   */
  constructor(schema: WireSchema, classes: WireClassTable = {}, options: { copyBuffers?: boolean } = {}) {
    this.schema = schema;
    this.packr = createPackr(schema);
    const copyBuffers = options.copyBuffers ?? true;
    const compiler = new TypeCompiler(schema, classes, copyBuffers);
    for (const [className, wireClass] of Object.entries(schema.classes)) {
      const names = new Map<string, MethodCodec>();
      const ids = new Map<number, MethodCodec>();
      for (const [methodName, method] of Object.entries(wireClass.methods)) {
        if (ids.has(method.id)) throw new Error(`wire schema: ${className} has two methods with id ${method.id}`);
        const codec = makeMethodCodec(this.packr, compiler, className, methodName, method, copyBuffers);
        names.set(methodName, codec);
        ids.set(method.id, codec);
      }
      this.byName.set(className, names);
      this.byId.set(className, ids);
    }
  }

  /** The codec of `className.methodName`; throws naming what is unknown. */
  method(className: string, methodName: string): MethodCodec {
    const codec = this.classMethods(this.byName, className).get(methodName);
    if (codec === undefined) throw new Error(`wire schema: ${className} has no replicated method '${methodName}'`);
    return codec;
  }

  /** The codec of the method with wire id `id` of `className`; throws when the id is unknown (retired or from another build). */
  methodById(className: string, id: number): MethodCodec {
    const codec = this.classMethods(this.byId, className).get(id);
    if (codec === undefined) throw new Error(`wire schema: ${className} has no method with wire id ${id}`);
    return codec;
  }

  private classMethods<K>(table: Map<string, Map<K, MethodCodec>>, className: string): Map<K, MethodCodec> {
    const methods = table.get(className);
    if (methods === undefined) throw new Error(`wire schema: no replicated class named '${className}' (known: ${[...table.keys()].join(', ')})`);
    return methods;
  }
}

/** The msgpackr options every process built from `schema` must share. */
export function createPackr(schema: WireSchema): Packr {
  const structures = schema.structures.map((keys) => [...keys]);
  return new Packr({
    structures,
    maxSharedStructures: Math.max(structures.length, 1),
    // Never grow the shared list at runtime: a structure only this process knew would make its
    // records undecodable elsewhere. Unknown shapes become per-message (self-describing) structures.
    shouldShareStructure: () => false,
    maxOwnStructures: 64,
    useRecords: true,
    // moreTypes (extensions for Set and typed arrays) doubles the cost of a call with a byte array,
    // and the schema already says where a Set is, so Sets travel as arrays and bytes as msgpack bin.
    moreTypes: false,
    useBigIntExtension: true, // bigints beyond 64 bits
    int64AsType: 'bigint', // numbers never encode as int64 (msgpackr uses float64), so int64 is always a bigint
    mapsAsObjects: false, // objects are records, so a msgpack map is always a Map
    // Byte arrays decode as views of the input; the type decoders copy them (see TypeCompiler).
    copyBuffers: false,
  });
}

function makeMethodCodec(packr: Packr, compiler: TypeCompiler, className: string, methodName: string, method: WireMethod, copyBuffers: boolean): MethodCodec {
  const label = `${className}.${methodName}`;
  const params = method.params;
  const required = params.reduce((n, p, i) => (p.optional ? n : i + 1), 0);
  const encodeParams = params.map((p) => compiler.encoder(p.type));
  const decodeParams = params.map((p) => compiler.decoder(p.type));
  const argsNeedEncoding = encodeParams.some((e) => e !== undefined);
  const encodeResult = compiler.encoder(method.result);
  const decodeResult = compiler.decoder(method.result);
  const checkArity = (count: number, where: string): void => {
    if (count < required || count > params.length) {
      const expected = required === params.length ? `${params.length}` : `${required} to ${params.length}`;
      throw new WireTypeError(`${label}: ${where} ${count} argument(s), expected ${expected}`);
    }
  };
  const scalarKinds = scalarParamKinds(method);
  const encodeGeneric = (args: readonly unknown[], headerBytes: number): Uint8Array => {
    checkArity(args.length, 'called with');
    const wire = argsNeedEncoding
      ? args.map((a, i) => {
          const encode = encodeParams[i];
          return encode === undefined ? a : encode(a, `${label} argument '${params[i].name}'`);
        })
      : args;
    return headerBytes === 0 ? packr.pack(wire) : packr.pack(wire, RESERVE_START_SPACE | headerBytes);
  };
  const encodeArgsFramed = (args: readonly unknown[], headerBytes: number): Uint8Array => {
    if (!Number.isInteger(headerBytes) || headerBytes < 0 || headerBytes > 255) throw new RangeError(`headerBytes must be an integer from 0 to 255, got ${headerBytes}`);
    return (scalarKinds === undefined ? undefined : encodeScalarArgs(scalarKinds, args, headerBytes)) ?? encodeGeneric(args, headerBytes);
  };
  const decodeGeneric = (bytes: Uint8Array, start: number): unknown[] => {
    const value: unknown = start === 0 ? packr.unpack(bytes) : packr.unpack(bytes, { start });
    if (!Array.isArray(value)) throw new WireTypeError(`${label}: the arguments are not an array`);
    checkArity(value.length, 'received');
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined && params[i].optional) continue;
      value[i] = decodeParams[i](value[i], `${label} argument '${params[i].name}'`);
    }
    return value;
  };
  const resultKind = scalarResultKind(method);
  const decodeResultAt = (bytes: Uint8Array, start: number, end: number): unknown => {
    if (resultKind !== undefined) {
      const fast = decodeScalar(resultKind, bytes, start, end, copyBuffers);
      if (fast !== NOT_SCALAR) return fast;
    }
    // msgpackr reads end 0 as "to the end": an empty range is refused here instead.
    if (end <= start) throw new WireTypeError(`${label}: an empty result`);
    const value: unknown = start === 0 && end === bytes.length ? packr.unpack(bytes) : packr.unpack(bytes, { start, end });
    return decodeResult(value, `${label} result`);
  };
  const decodeArgsAt = (bytes: Uint8Array, start: number): unknown[] =>
    (scalarKinds === undefined ? undefined : decodeScalarArgs(scalarKinds, bytes, start, copyBuffers)) ?? decodeGeneric(bytes, start);
  return {
    className,
    methodName,
    method,
    encodeArgs: (args) => encodeArgsFramed(args, 0),
    encodeArgsFramed,
    decodeArgs: (bytes) => decodeArgsAt(bytes, 0),
    decodeArgsAt,
    encodeResult(result) {
      const fast = resultKind === undefined ? undefined : encodeScalar(resultKind, result);
      return fast ?? packr.pack(encodeResult === undefined ? result : encodeResult(result, `${label} result`));
    },
    decodeResult(bytes) {
      return decodeResultAt(bytes, 0, bytes.length);
    },
    decodeResultAt,
  };
}

/** Turns a live value into its wire form (only needed where self-marshalling classes occur). */
type Encoder = (value: unknown, path: string) => unknown;
/** Checks a decoded value against its type and revives it (Buffer, self-marshalling classes). */
type Decoder = (value: unknown, path: string) => unknown;

/**
 * Compiles wire types into closures once per schema. Named types may be recursive, so they are
 * compiled behind a forwarding closure registered before their body is compiled.
 */
class TypeCompiler {
  private readonly decoders = new Map<string, Decoder>();
  private readonly encoders = new Map<string, Encoder | undefined>();
  private readonly encoding = new Set<string>();

  constructor(
    private readonly schema: WireSchema,
    private readonly classes: WireClassTable,
    /**
     * Copy decoded byte arrays out of the input, which a transport may reuse. Buffer.from copies
     * small arrays into Node's pooled slab, several times cheaper than msgpackr's copyBuffers
     * (one fresh ArrayBuffer each).
     */
    private readonly copyBuffers: boolean,
  ) {}

  /** `undefined` when values of `type` go on the wire as they are. */
  encoder(type: WireType): Encoder | undefined {
    switch (type.t) {
      case 'array':
      case 'set': {
        const inner = this.encoder(type.of);
        if (inner === undefined) return undefined;
        return type.t === 'array'
          ? (v, p) => (v as unknown[]).map((x, i) => inner(x, `${p}[${i}]`))
          : (v, p) => new Set([...(v as Set<unknown>)].map((x) => inner(x, `${p} element`)));
      }
      case 'tuple': {
        const inner = type.of.map((t) => this.encoder(t));
        if (inner.every((e) => e === undefined)) return undefined;
        return (v, p) => (v as unknown[]).map((x, i) => (inner[i] === undefined ? x : inner[i](x, `${p}[${i}]`)));
      }
      case 'object': {
        const props = type.props.map((prop) => ({ name: prop.name, encode: this.encoder(prop.type) }));
        if (props.every((x) => x.encode === undefined)) return undefined;
        return (v, p) => {
          const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
          for (const { name, encode } of props) if (encode !== undefined && name in out) out[name] = encode(out[name], `${p}.${name}`);
          return out;
        };
      }
      case 'record': {
        const inner = this.encoder(type.of);
        if (inner === undefined) return undefined;
        return (v, p) => Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, inner(x, `${p}.${k}`)]));
      }
      case 'map': {
        const key = this.encoder(type.key);
        const value = this.encoder(type.value);
        if (key === undefined && value === undefined) return undefined;
        return (v, p) =>
          new Map([...(v as Map<unknown, unknown>)].map(([k, x]) => [key === undefined ? k : key(k, `${p} key`), value === undefined ? x : value(x, `${p} value`)]));
      }
      case 'union': {
        // The member a live value belongs to is found by a shallow look at the value; only
        // members that need encoding (those holding self-marshalling classes) matter.
        const members = type.of.map((m) => ({ accepts: this.accepts(m), encode: this.encoder(m) }));
        if (members.every((m) => m.encode === undefined)) return undefined;
        return (v, p) => {
          for (const m of members) if (m.accepts(v)) return m.encode === undefined ? v : m.encode(v, p);
          return v;
        };
      }
      case 'ref': {
        if (this.encoders.has(type.name)) return this.encoders.get(type.name);
        if (this.encoding.has(type.name)) {
          // A recursive type: answer with a forwarder; if the type needs no encoding the forwarder is never built.
          return (v, p) => (this.encoders.get(type.name) ?? ((x) => x))(v, p);
        }
        this.encoding.add(type.name);
        const encoder = this.encoder(this.named(type.name));
        this.encoders.set(type.name, encoder);
        return encoder;
      }
      case 'class': {
        const ctor = this.classCtor(type.name);
        const wire = this.encoder(type.wire);
        return (v, p) => {
          if (!(v instanceof (ctor as unknown as Function))) throw new WireTypeError(`${p}: expected an instance of ${type.name}, got ${describe(v)}`);
          const w = (v as { toWire(): unknown }).toWire();
          return wire === undefined ? w : wire(w, `${p}.toWire()`);
        };
      }
      default:
        return undefined;
    }
  }

  /** A shallow test of whether a live value is of `type`: enough to tell union members apart. */
  private accepts(type: WireType): (v: unknown) => boolean {
    switch (type.t) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'bigint':
      case 'undefined': {
        const expected = type.t;
        return (v) => typeof v === expected;
      }
      case 'void':
        return (v) => v === undefined;
      case 'null':
        return (v) => v === null;
      case 'bytes':
      case 'buffer':
        return (v) => v instanceof Uint8Array;
      case 'date':
        return (v) => v instanceof Date;
      case 'literal': {
        const expected = type.value;
        return (v) => v === expected;
      }
      case 'array':
        return (v) => Array.isArray(v);
      case 'tuple': {
        const length = type.of.length;
        return (v) => Array.isArray(v) && v.length === length;
      }
      case 'object': {
        const required = type.props.filter((p) => !p.optional).map((p) => p.name);
        return (v) => isPlainObject(v) && required.every((k) => k in (v as object));
      }
      case 'record':
        return isPlainObject;
      case 'map':
        return (v) => v instanceof Map;
      case 'set':
        return (v) => v instanceof Set;
      case 'union': {
        const members = type.of.map((m) => this.accepts(m));
        return (v) => members.some((m) => m(v));
      }
      case 'ref':
        return (v) => this.accepts(this.named(type.name))(v);
      case 'class': {
        const ctor = this.classCtor(type.name) as unknown as Function;
        return (v) => v instanceof ctor;
      }
    }
  }

  decoder(type: WireType): Decoder {
    switch (type.t) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'bigint':
      case 'undefined': {
        const expected = type.t;
        return (v, p) => (typeof v === expected ? v : fail(p, expected, v));
      }
      case 'void':
        return (v, p) => (v === undefined || v === null ? undefined : fail(p, 'no value (void)', v));
      case 'null':
        return (v, p) => (v === null ? v : fail(p, 'null', v));
      case 'bytes': // a Buffer (a Uint8Array subclass): Node's pooled copy is the cheapest there is
      case 'buffer': {
        const expected = type.t === 'bytes' ? 'a Uint8Array' : 'a Buffer';
        if (this.copyBuffers) return (v, p) => (v instanceof Uint8Array ? Buffer.from(v) : fail(p, expected, v));
        return (v, p) => (v instanceof Uint8Array ? (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)) : fail(p, expected, v));
      }
      case 'date':
        return (v, p) => (v instanceof Date ? v : fail(p, 'a Date', v));
      case 'literal': {
        const expected = type.value;
        return (v, p) => (v === expected ? v : fail(p, JSON.stringify(expected), v));
      }
      case 'array': {
        const inner = this.decoder(type.of);
        return (v, p) => {
          if (!Array.isArray(v)) return fail(p, 'an array', v);
          for (let i = 0; i < v.length; i++) v[i] = inner(v[i], `${p}[${i}]`);
          return v;
        };
      }
      case 'tuple': {
        const inner = type.of.map((t) => this.decoder(t));
        return (v, p) => {
          if (!Array.isArray(v) || v.length !== inner.length) return fail(p, `a tuple of ${inner.length}`, v);
          for (let i = 0; i < v.length; i++) v[i] = inner[i](v[i], `${p}[${i}]`);
          return v;
        };
      }
      case 'object': {
        const props = type.props.map((prop) => ({ name: prop.name, optional: prop.optional, decode: this.decoder(prop.type) }));
        return (v, p) => {
          if (!isPlainObject(v)) return fail(p, 'an object', v);
          const o = v as Record<string, unknown>;
          for (const { name, optional, decode } of props) {
            if (!(name in o) || (optional && o[name] === undefined)) {
              if (optional) continue;
              throw new WireTypeError(`${p}: missing property '${name}'`);
            }
            o[name] = decode(o[name], `${p}.${name}`);
          }
          return o;
        };
      }
      case 'record': {
        const inner = this.decoder(type.of);
        return (v, p) => {
          if (!isPlainObject(v)) return fail(p, 'an object', v);
          const o = v as Record<string, unknown>;
          for (const k of Object.keys(o)) o[k] = inner(o[k], `${p}.${k}`);
          return o;
        };
      }
      case 'map': {
        const key = this.decoder(type.key);
        const value = this.decoder(type.value);
        return (v, p) => {
          if (!(v instanceof Map)) return fail(p, 'a Map', v);
          const out = new Map<unknown, unknown>();
          for (const [k, x] of v) out.set(key(k, `${p} key`), value(x, `${p} value`));
          return out;
        };
      }
      case 'set': {
        const inner = this.decoder(type.of);
        return (v, p) => {
          if (!Array.isArray(v) && !(v instanceof Set)) return fail(p, 'a Set', v);
          const out = new Set<unknown>();
          for (const x of v) out.add(inner(x, `${p} element`));
          return out;
        };
      }
      case 'union': {
        const members = type.of.map((t) => this.decoder(t));
        return (v, p) => {
          for (const member of members) {
            try {
              return member(v, p);
            } catch (e) {
              if (!(e instanceof WireTypeError)) throw e;
            }
          }
          return fail(p, 'one of the union members', v);
        };
      }
      case 'ref': {
        const cached = this.decoders.get(type.name);
        if (cached !== undefined) return cached;
        let body: Decoder | undefined;
        const forward: Decoder = (v, p) => (body as Decoder)(v, p);
        this.decoders.set(type.name, forward);
        body = this.decoder(this.named(type.name));
        return forward;
      }
      case 'class': {
        const ctor = this.classCtor(type.name);
        const wire = this.decoder(type.wire);
        return (v, p) => ctor.fromWire(wire(v, `${p} (${type.name} wire form)`) as never);
      }
    }
  }

  private named(name: string): WireType {
    const type = this.schema.types[name];
    if (type === undefined) throw new Error(`wire schema: the type '${name}' is referenced but not defined`);
    return type;
  }

  private resolve(type: WireType): WireType {
    return type.t === 'ref' ? this.resolve(this.named(type.name)) : type;
  }

  private classCtor(name: string): WireClassConstructor {
    const ctor = this.classes[name];
    if (ctor === undefined || typeof ctor.fromWire !== 'function') {
      throw new Error(`wire schema: the self-marshalling class '${name}' was not passed to SchemaCodec (pass the generated wireClasses table)`);
    }
    return ctor;
  }
}

function isPlainObject(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an instance of ${(v as object).constructor?.name ?? 'Object'}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function fail(path: string, expected: string, got: unknown): never {
  throw new WireTypeError(`${path}: expected ${expected}, got ${describe(got)}`);
}
