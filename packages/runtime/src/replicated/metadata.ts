/**
 * What the decorators recorded about a replicated class, read back at runtime.
 *
 * Method marks live where each dialect puts them (standard: the class's `Symbol.metadata` object;
 * legacy: reflect-metadata on the prototype). `@Replicated()` runs after its methods' decorators in
 * both dialects, so it gathers the marks, checks them against the class, and files one frozen
 * record here; that record is what the runtime trusts.
 */

/** Key of the method marks inside a standard decorator metadata object. */
export const STANDARD_METHODS_KEY: unique symbol = Symbol.for('derecho-ts.replicated.methods');
/** reflect-metadata key of the method marks on a prototype (legacy decorators). */
export const LEGACY_METHODS_KEY = 'derecho-ts:replicated-methods';

export interface MethodMark {
  readonly name: string;
  readonly kind: 'ordered' | 'p2p';
}

export type DecoratorDialect = 'standard' | 'legacy';

export interface ReplicatedMetadata {
  /** The class's name on the wire (the class name unless `@Replicated({ name })` says otherwise). */
  readonly name: string;
  /** Names of the `@Ordered()` methods, sorted. */
  readonly ordered: readonly string[];
  /** Names of the `@P2P()` methods, sorted. */
  readonly p2p: readonly string[];
  /** Which decorator dialect the class was compiled with. */
  readonly dialect: DecoratorDialect;
}

const replicatedClasses = new WeakMap<Function, ReplicatedMetadata>();

/** Called by `@Replicated()`; checks the marks and files the class's record. */
export function recordReplicatedClass(ctor: Function, name: string, marks: readonly MethodMark[], dialect: DecoratorDialect): void {
  if (replicatedClasses.has(ctor)) throw new TypeError(`@Replicated() is applied twice to the class ${ctor.name}`);
  const proto = ctor.prototype as Record<string, unknown> | undefined;
  for (const mark of marks) {
    if (proto === undefined || typeof proto[mark.name] !== 'function') {
      throw new TypeError(`@Replicated() class ${ctor.name}: the ${mark.kind === 'ordered' ? '@Ordered' : '@P2P'}() method '${mark.name}' is not a method of its prototype`);
    }
  }
  const pick = (kind: MethodMark['kind']): readonly string[] =>
    Object.freeze([...new Set(marks.filter((m) => m.kind === kind).map((m) => m.name))].sort());
  replicatedClasses.set(ctor, Object.freeze({ name, ordered: pick('ordered'), p2p: pick('p2p'), dialect }));
}

/**
 * The decorators' record of `Class`. Throws a TypeError naming the problem when `Class` is not a
 * class, is not decorated with `@Replicated()`, or has marked methods but no `@Replicated()`.
 */
export function getReplicatedMetadata(Class: Function): ReplicatedMetadata {
  if (typeof Class !== 'function') {
    throw new TypeError(`getReplicatedMetadata expects a class, got ${Class === null ? 'null' : typeof Class}`);
  }
  const found = replicatedClasses.get(Class);
  if (found !== undefined) return found;
  const orphans = markedMethodNames(Class);
  if (orphans.length > 0) {
    throw new TypeError(
      `the class ${Class.name || '(anonymous)'} has ${orphans.join(', ')} but is not decorated with @Replicated(); ` +
        `add @Replicated() to the class`,
    );
  }
  throw new TypeError(`the class ${Class.name || '(anonymous)'} is not decorated with @Replicated()`);
}

/** True when `Class` itself carries `@Replicated()`. */
export function isReplicatedClass(Class: unknown): boolean {
  return typeof Class === 'function' && replicatedClasses.has(Class);
}

/** Method marks found on an undecorated class, in either dialect, as `@Ordered() put` strings. */
function markedMethodNames(Class: Function): string[] {
  const marks: MethodMark[] = [];
  const metadataSymbol = (Symbol as { metadata?: symbol }).metadata;
  const standard = metadataSymbol === undefined ? undefined : (Class as unknown as Record<symbol, Record<PropertyKey, unknown> | undefined>)[metadataSymbol];
  for (let m: object | null | undefined = standard; m !== null && m !== undefined; m = Object.getPrototypeOf(m) as object | null) {
    if (Object.hasOwn(m, STANDARD_METHODS_KEY)) marks.push(...(m as Record<PropertyKey, MethodMark[]>)[STANDARD_METHODS_KEY]);
  }
  const reflect = Reflect as unknown as { getMetadata?: (key: unknown, target: object) => unknown };
  if (typeof reflect.getMetadata === 'function' && Class.prototype !== undefined) {
    const legacy = reflect.getMetadata(LEGACY_METHODS_KEY, Class.prototype as object) as MethodMark[] | undefined;
    if (legacy !== undefined) marks.push(...legacy);
  }
  return [...new Set(marks.map((m) => `${m.kind === 'ordered' ? '@Ordered()' : '@P2P()'} ${m.name}`))].sort();
}
