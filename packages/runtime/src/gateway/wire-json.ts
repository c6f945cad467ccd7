/**
 * The JSON form of the wire types, for the HTTP gateway: a JSON Schema per wire type (request
 * validation and the OpenAPI document use the same one), and conversions between JSON values and
 * the values the codecs marshal. JSON has no bigint, bytes, Date, Map or Set, so:
 * bigint is a decimal string, bytes and Buffer are base64 strings, a Date is an ISO 8601 string,
 * a Map is an object (string keys) or an array of [key, value] pairs, a Set is an array, and
 * undefined is null (or an absent property).
 */
import type { WireSchema, WireType } from '../rpc/marshal-schema.js';

export type JsonSchema = Record<string, unknown>;

const BIGINT_PATTERN = '^-?[0-9]+$';

/** The JSON Schema of `type`; `ref` names resolve through `refPath` (default: inlined, recursion accepted as any value). */
export function jsonSchemaOf(type: WireType, schema: WireSchema, refPath?: (name: string) => string, seen: readonly string[] = []): JsonSchema {
  const of = (t: WireType): JsonSchema => jsonSchemaOf(t, schema, refPath, seen);
  switch (type.t) {
    case 'string':
      return { type: 'string' };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'bigint':
      return { type: 'string', pattern: BIGINT_PATTERN, description: 'a bigint, in decimal' };
    case 'undefined':
    case 'null':
    case 'void':
      return { type: 'null' };
    case 'bytes':
    case 'buffer':
      return { type: 'string', contentEncoding: 'base64', description: 'bytes, base64' };
    case 'date':
      return { type: 'string', format: 'date-time' };
    case 'literal':
      return { const: type.value };
    case 'array':
    case 'set':
      return { type: 'array', items: of(type.of) };
    case 'tuple':
      return { type: 'array', items: type.of.map(of), minItems: type.of.length, maxItems: type.of.length };
    case 'object': {
      const properties: Record<string, JsonSchema> = {};
      for (const p of type.props) properties[p.name] = p.optional ? { anyOf: [of(p.type), { type: 'null' }] } : of(p.type);
      return { type: 'object', properties, required: type.props.filter((p) => !p.optional).map((p) => p.name), additionalProperties: false };
    }
    case 'record':
      return { type: 'object', additionalProperties: of(type.of) };
    case 'map':
      return type.key.t === 'string' ? { type: 'object', additionalProperties: of(type.value) } : { type: 'array', items: { type: 'array', items: [of(type.key), of(type.value)], minItems: 2, maxItems: 2 } };
    case 'union':
      return { anyOf: type.of.map(of) };
    case 'ref': {
      if (refPath !== undefined) return { $ref: refPath(type.name) };
      // Inlined; a recursive reference accepts any value here and the codec checks it.
      if (seen.includes(type.name)) return {};
      const target = schema.types[type.name];
      return target === undefined ? {} : jsonSchemaOf(target, schema, refPath, [...seen, type.name]);
    }
    case 'class':
      return of(type.wire);
  }
}

/** The request body of a method: an object of its parameters by name. */
export function paramsSchema(params: readonly { name: string; type: WireType; optional: boolean }[], schema: WireSchema, refPath?: (name: string) => string): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const p of params) properties[p.name] = jsonSchemaOf(p.type, schema, refPath);
  return { type: 'object', properties, required: params.filter((p) => !p.optional).map((p) => p.name), additionalProperties: false };
}

function resolve(type: WireType, schema: WireSchema): WireType {
  let t = type;
  for (let i = 0; t.t === 'ref' && i < 64; i++) t = schema.types[t.name] ?? { t: 'undefined' };
  return t;
}

/** A JSON value (already validated against `jsonSchemaOf(type)`) as the value the codec marshals. */
export function fromJson(value: unknown, type: WireType, schema: WireSchema): unknown {
  const t = resolve(type, schema);
  if (value === null && (t.t === 'undefined' || t.t === 'void')) return undefined;
  switch (t.t) {
    case 'bigint':
      return typeof value === 'string' ? BigInt(value) : value;
    case 'bytes':
      return typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'base64')) : value;
    case 'buffer':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
    case 'date':
      return typeof value === 'string' ? new Date(value) : value;
    case 'array':
      return Array.isArray(value) ? value.map((v) => fromJson(v, t.of, schema)) : value;
    case 'set':
      return Array.isArray(value) ? new Set(value.map((v) => fromJson(v, t.of, schema))) : value;
    case 'tuple':
      return Array.isArray(value) ? value.map((v, i) => fromJson(v, t.of[i] ?? { t: 'undefined' }, schema)) : value;
    case 'object': {
      if (typeof value !== 'object' || value === null) return value;
      const out: Record<string, unknown> = {};
      for (const p of t.props) {
        const v = (value as Record<string, unknown>)[p.name];
        if (v === undefined || (v === null && p.optional)) continue;
        out[p.name] = fromJson(v, p.type, schema);
      }
      return out;
    }
    case 'record': {
      if (typeof value !== 'object' || value === null) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromJson(v, t.of, schema)]));
    }
    case 'map':
      if (Array.isArray(value)) return new Map(value.map((pair) => [fromJson((pair as unknown[])[0], t.key, schema), fromJson((pair as unknown[])[1], t.value, schema)]));
      if (typeof value === 'object' && value !== null) return new Map(Object.entries(value).map(([k, v]) => [k, fromJson(v, t.value, schema)]));
      return value;
    case 'union': {
      // The first member the value fits by its JSON kind (strings that are bigints stay strings unless only bigint fits).
      for (const member of t.of) if (fitsJson(value, resolve(member, schema))) return fromJson(value, member, schema);
      return value;
    }
    case 'class':
      return fromJson(value, t.wire, schema);
    default:
      return value;
  }
}

function fitsJson(value: unknown, t: WireType): boolean {
  switch (t.t) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'literal':
      return value === t.value;
    case 'undefined':
    case 'null':
    case 'void':
      return value === null || value === undefined;
    case 'bigint':
    case 'bytes':
    case 'buffer':
    case 'date':
      return typeof value === 'string';
    case 'array':
    case 'set':
    case 'tuple':
      return Array.isArray(value);
    default:
      return typeof value === 'object' && value !== null;
  }
}

/** A value a method returned, as JSON (the reverse of `fromJson`). */
export function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return String(value);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Set) return [...value].map(toJson);
  if (value instanceof Map) {
    const entries = [...value];
    return entries.every(([k]) => typeof k === 'string') ? Object.fromEntries(entries.map(([k, v]) => [k, toJson(v)])) : entries.map(([k, v]) => [toJson(k), toJson(v)]);
  }
  if (typeof value === 'object' && value !== null) {
    const wire = (value as { toWire?: () => unknown }).toWire;
    if (typeof wire === 'function') return toJson(wire.call(value));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  return value;
}
