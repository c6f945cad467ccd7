/**
 * The generator's intermediate representation: plain data, no ts-morph objects, so validation,
 * id assignment and emission are pure functions of it (and tests can build it by hand).
 */

/** Where something is in the user's sources; `file` is relative to the project root, `/`-separated. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * A normalized type. The serializable kinds mirror the runtime's `WireType` exactly (the emitter
 * prints them as they are); `unsupported` marks a type that cannot be marshalled, with the reason.
 */
export type TypeNode =
  | { readonly t: 'string' | 'number' | 'boolean' | 'bigint' | 'undefined' | 'null' | 'void' | 'bytes' | 'buffer' | 'date' }
  | { readonly t: 'literal'; readonly value: string | number | boolean }
  | { readonly t: 'array'; readonly of: TypeNode }
  | { readonly t: 'tuple'; readonly of: readonly TypeNode[] }
  | { readonly t: 'object'; readonly props: readonly PropertyNode[] }
  | { readonly t: 'record'; readonly of: TypeNode }
  | { readonly t: 'map'; readonly key: TypeNode; readonly value: TypeNode }
  | { readonly t: 'set'; readonly of: TypeNode }
  | { readonly t: 'union'; readonly of: readonly TypeNode[] }
  | { readonly t: 'ref'; readonly name: string }
  | { readonly t: 'class'; readonly name: string; readonly wire: TypeNode }
  | { readonly t: 'unsupported'; readonly text: string; readonly reason: string };

export interface PropertyNode {
  readonly name: string;
  readonly type: TypeNode;
  readonly optional: boolean;
}

/** A named type (interface or type alias of an object type) that `ref` nodes point at. */
export interface NamedTypeModel {
  readonly name: string;
  readonly type: TypeNode;
  readonly location: SourceLocation;
}

/** A self-marshalling class used as an argument or result type. */
export interface WireClassModel {
  readonly name: string;
  readonly location: SourceLocation;
  /** Module the generated file imports it from (a project file path), or undefined when it is not exported. */
  readonly file: string;
  readonly exported: boolean;
}

export interface ParameterModel {
  readonly name: string;
  readonly type: TypeNode;
  readonly optional: boolean;
  readonly rest: boolean;
  readonly location: SourceLocation;
}

export interface MethodModel {
  readonly name: string;
  readonly ordered: boolean;
  readonly p2p: boolean;
  /** From `@Ordered({ renamedFrom })` / `@P2P({ renamedFrom })`. */
  readonly renamedFrom: string | undefined;
  readonly params: readonly ParameterModel[];
  /** The result with a top-level Promise unwrapped. */
  readonly result: TypeNode;
  /** Type parameters make a method unmarshallable; kept so validation can say so. */
  readonly typeParameters: readonly string[];
  readonly location: SourceLocation;
}

export interface ClassModel {
  /** Wire name (`@Replicated({ name })` or the class name). */
  readonly name: string;
  /** The TypeScript class name, for imports. */
  readonly className: string;
  readonly file: string;
  readonly exported: boolean;
  readonly location: SourceLocation;
  readonly methods: readonly MethodModel[];
}

export interface ProjectModel {
  readonly classes: readonly ClassModel[];
  readonly types: readonly NamedTypeModel[];
  readonly wireClasses: readonly WireClassModel[];
}

/** One problem found in the user's code or lock, with where it is. */
export interface CodegenError {
  readonly location: SourceLocation | undefined;
  readonly message: string;
}

export function formatLocation(location: SourceLocation | undefined): string {
  return location === undefined ? '' : `${location.file}:${location.line}:${location.column}: `;
}

export function formatError(error: CodegenError): string {
  return `${formatLocation(error.location)}${error.message}`;
}

export function compareErrors(a: CodegenError, b: CodegenError): number {
  const fa = a.location?.file ?? '';
  const fb = b.location?.file ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  const la = a.location?.line ?? 0;
  const lb = b.location?.line ?? 0;
  if (la !== lb) return la - lb;
  const ca = a.location?.column ?? 0;
  const cb = b.location?.column ?? 0;
  if (ca !== cb) return ca - cb;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}
