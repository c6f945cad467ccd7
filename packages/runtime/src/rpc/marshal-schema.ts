/**
 * The wire schema `derecho-codegen` emits and the marshalling runtime consumes: per replicated
 * class, per method, its stable numeric id and the normalized types of its parameters and
 * result; plus the msgpackr record structures shared by every process built from the same lock.
 * Generated files pass a literal of this shape to `defineWireSchema`, so a hand-edited or stale
 * generated file fails to type-check.
 */

/** A normalized, serializable type. `ref` names an entry of `WireSchema.types` (named object types, possibly recursive). */
export type WireType =
  | { readonly t: 'string' | 'number' | 'boolean' | 'bigint' | 'undefined' | 'null' | 'void' | 'bytes' | 'buffer' | 'date' }
  | { readonly t: 'literal'; readonly value: string | number | boolean }
  | { readonly t: 'array'; readonly of: WireType }
  | { readonly t: 'tuple'; readonly of: readonly WireType[] }
  | { readonly t: 'object'; readonly props: readonly WireProperty[] }
  | { readonly t: 'record'; readonly of: WireType }
  | { readonly t: 'map'; readonly key: WireType; readonly value: WireType }
  | { readonly t: 'set'; readonly of: WireType }
  | { readonly t: 'union'; readonly of: readonly WireType[] }
  | { readonly t: 'ref'; readonly name: string }
  | { readonly t: 'class'; readonly name: string; readonly wire: WireType };

export interface WireProperty {
  readonly name: string;
  readonly type: WireType;
  readonly optional: boolean;
}

export interface WireParameter {
  readonly name: string;
  readonly type: WireType;
  readonly optional: boolean;
}

export interface WireMethod {
  /** Stable wire id, unique within the class, never reused (see the schema lock). */
  readonly id: number;
  readonly ordered: boolean;
  readonly p2p: boolean;
  readonly params: readonly WireParameter[];
  /** The result with `Promise` unwrapped; `void` when the method returns nothing. */
  readonly result: WireType;
}

export interface WireClass {
  readonly methods: Readonly<Record<string, WireMethod>>;
}

/**
 * A class that marshals itself: `toWire()` gives a value of a serializable type and the static
 * `fromWire(wire)` rebuilds the instance. Codegen checks both exist and that the wire type is
 * serializable.
 */
export interface WireClassConstructor {
  readonly name: string;
  fromWire(wire: never): unknown;
  readonly prototype: { toWire(): unknown };
}

export interface WireSchema {
  /** sha256 of the schema's canonical JSON: equal hashes mean compatible builds (checked in the handshake). */
  readonly hash: string;
  readonly classes: Readonly<Record<string, WireClass>>;
  /** Named object types, referenced by `{ t: 'ref' }`. */
  readonly types: Readonly<Record<string, WireType>>;
  /** Key lists of object types, preloaded as msgpackr shared record structures (order matters). */
  readonly structures: readonly (readonly string[])[];
}

/** Constructors of the self-marshalling classes a schema names, keyed by `class` type name. */
export type WireClassTable = Readonly<Record<string, WireClassConstructor>>;

/** Identity with a type check: generated files wrap their schema literal in it. */
export function defineWireSchema(schema: WireSchema): WireSchema {
  return schema;
}
