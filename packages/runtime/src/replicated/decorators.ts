/**
 * `@Replicated()`, `@Ordered()` and `@P2P()`.
 *
 * One implementation serves both decorator dialects, told apart by the arguments of each call
 * (the way Lit does it): TC39 standard decorators get `(value, context)` with `context.kind`;
 * TypeScript's `experimentalDecorators` get `(constructor)` for classes and
 * `(prototype, key, descriptor)` for methods. Standard mode keeps its marks in
 * `context.metadata`; legacy mode keeps them with `reflect-metadata` (an optional peer
 * dependency that a legacy-mode application imports once before its classes load, as NestJS apps
 * already do).
 *
 * The decorators are markers: they never wrap or replace the method. Types, wire ids and
 * marshalling come from `derecho-codegen`, which reads the same decorators statically.
 */
import { LEGACY_METHODS_KEY, STANDARD_METHODS_KEY, recordReplicatedClass, type MethodMark } from './metadata.js';

/**
 * esbuild (hence tsx) falls back to `Symbol.for('Symbol.metadata')` when the runtime lacks
 * `Symbol.metadata` (Node 20, 22); tsc's helper gives no metadata object at all in that case. Defining
 * it here, in the module every decorated class imports first, makes both compilers agree.
 */
(Symbol as { metadata?: symbol }).metadata ??= Symbol.for('Symbol.metadata');

export interface ReplicatedOptions {
  /**
   * The class's name on the wire and in the schema lock. Defaults to the class's own name; set it
   * when a bundler may minify class names. Must be a string literal (codegen reads it statically).
   */
  readonly name?: string;
}

export interface MethodOptions {
  /**
   * The method's previous name: it keeps the wire id recorded in the schema lock under that name.
   * Only needed when codegen cannot tell a rename on its own (see the codegen README). Must be a
   * string literal.
   */
  readonly renamedFrom?: string;
}

/** The decorator `@Replicated()` returns: callable in either dialect. */
export interface ReplicatedClassDecorator {
  <C extends abstract new (...args: never[]) => object>(value: C, context: ClassDecoratorContext<C>): void;
  (target: abstract new (...args: never[]) => object): void;
}

/** The decorator `@Ordered()` / `@P2P()` return: callable in either dialect, methods only. */
export interface ReplicatedMethodDecorator {
  <This, Args extends unknown[], R>(
    value: (this: This, ...args: Args) => R,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => R>,
  ): void;
  (target: object, propertyKey: string | symbol, descriptor?: PropertyDescriptor): void;
}

/** Marks a class whose instances the runtime replicates. */
export function Replicated(options: ReplicatedOptions = {}): ReplicatedClassDecorator {
  checkFactoryCall('@Replicated', arguments.length);
  checkOptions('@Replicated', options, ['name']);
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name.length === 0)) {
    throw new TypeError(`@Replicated({ name }) expects a non-empty string, got ${describe(options.name)}`);
  }
  return function replicatedDecorator(...args: unknown[]): void {
    const standard = standardContext(args);
    if (standard !== undefined) {
      if (standard.kind !== 'class') {
        throw new TypeError(`@Replicated() decorates classes, but was applied to a ${standard.kind} ${describeName(standard.name)}`);
      }
      const ctor = args[0] as Function;
      const metadata = standard.metadata as Record<PropertyKey, unknown> | undefined;
      if (metadata === undefined || metadata === null) {
        throw new Error(
          `@Replicated() on ${ctor.name}: the compiler gave no decorator metadata object; ` +
            `import '@derecho-ts/runtime' before the class is defined so Symbol.metadata exists`,
        );
      }
      recordReplicatedClass(ctor, options.name ?? ctor.name, collectStandardMarks(metadata), 'standard');
      return;
    }
    if (args.length === 1 && typeof args[0] === 'function') {
      const ctor = args[0];
      recordReplicatedClass(ctor, options.name ?? ctor.name, collectLegacyMarks(ctor.prototype as object), 'legacy');
      return;
    }
    throw new TypeError(`@Replicated() decorates classes, but was called with ${describeArgs(args)}`);
  } as ReplicatedClassDecorator;
}

/** Marks a method that runs at every shard member in the multicast total order. */
export function Ordered(options: MethodOptions = {}): ReplicatedMethodDecorator {
  checkFactoryCall('@Ordered', arguments.length);
  return methodDecorator('ordered', '@Ordered', options);
}

/** Marks a method that one member runs when called point-to-point (not ordered with multicasts). */
export function P2P(options: MethodOptions = {}): ReplicatedMethodDecorator {
  checkFactoryCall('@P2P', arguments.length);
  return methodDecorator('p2p', '@P2P', options);
}

function methodDecorator(kind: MethodMark['kind'], label: string, options: MethodOptions): ReplicatedMethodDecorator {
  checkOptions(label, options, ['renamedFrom']);
  if (options.renamedFrom !== undefined && (typeof options.renamedFrom !== 'string' || options.renamedFrom.length === 0)) {
    throw new TypeError(`${label}({ renamedFrom }) expects a non-empty string, got ${describe(options.renamedFrom)}`);
  }
  return function replicatedMethodDecorator(...args: unknown[]): void {
    const standard = standardContext(args);
    if (standard !== undefined) {
      if (standard.kind !== 'method') {
        throw new TypeError(`${label}() decorates methods, but was applied to the ${standard.kind} ${describeName(standard.name)}`);
      }
      if (standard.static) throw new TypeError(`${label}() decorates instance methods, but ${describeName(standard.name)} is static`);
      if (standard.private || typeof standard.name !== 'string') {
        throw new TypeError(`${label}() needs a public method with a string name, got ${describeName(standard.name)}`);
      }
      const metadata = standard.metadata as Record<PropertyKey, unknown> | undefined;
      if (metadata === undefined || metadata === null) {
        throw new Error(`${label}() on ${standard.name}: the compiler gave no decorator metadata object`);
      }
      if (!Object.hasOwn(metadata, STANDARD_METHODS_KEY)) metadata[STANDARD_METHODS_KEY] = [];
      addMark(metadata[STANDARD_METHODS_KEY] as MethodMark[], { name: standard.name, kind }, label);
      return;
    }
    if (args.length >= 2 && (typeof args[1] === 'string' || typeof args[1] === 'symbol')) {
      const [target, key, descriptor] = args as [unknown, string | symbol, PropertyDescriptor | undefined];
      if (typeof target === 'function') throw new TypeError(`${label}() decorates instance methods, but ${describeName(key)} is static`);
      if (typeof key !== 'string') throw new TypeError(`${label}() needs a method with a string name, got ${describeName(key)}`);
      if (descriptor === undefined || typeof descriptor.value !== 'function') {
        const what = descriptor === undefined ? 'property' : descriptor.get || descriptor.set ? 'accessor' : 'non-function property';
        throw new TypeError(`${label}() decorates methods, but was applied to the ${what} ${describeName(key)}`);
      }
      const store = reflectMetadataApi(label);
      const proto = target as object;
      let marks = store.getOwnMetadata(LEGACY_METHODS_KEY, proto) as MethodMark[] | undefined;
      if (marks === undefined) {
        marks = [];
        store.defineMetadata(LEGACY_METHODS_KEY, marks, proto);
      }
      addMark(marks, { name: key, kind }, label);
      return;
    }
    throw new TypeError(`${label}() decorates methods, but was called with ${describeArgs(args)}`);
  } as ReplicatedMethodDecorator;
}

interface StandardContext {
  kind: string;
  name: string | symbol | undefined;
  static?: boolean;
  private?: boolean;
  metadata?: unknown;
}

function standardContext(args: unknown[]): StandardContext | undefined {
  if (args.length !== 2) return undefined;
  const context = args[1];
  if (typeof context !== 'object' || context === null || typeof (context as { kind?: unknown }).kind !== 'string') return undefined;
  return context as StandardContext;
}

function addMark(marks: MethodMark[], mark: MethodMark, label: string): void {
  if (marks.some((m) => m.name === mark.name && m.kind === mark.kind)) {
    throw new TypeError(`${label}() is applied twice to the method ${mark.name}`);
  }
  marks.push(mark);
}

/** Standard metadata objects inherit from the superclass's, so walking the chain includes inherited marks. */
function collectStandardMarks(metadata: Record<PropertyKey, unknown>): MethodMark[] {
  const levels: MethodMark[][] = [];
  for (let m: object | null = metadata; m !== null; m = Object.getPrototypeOf(m) as object | null) {
    if (Object.hasOwn(m, STANDARD_METHODS_KEY)) levels.push((m as Record<PropertyKey, MethodMark[]>)[STANDARD_METHODS_KEY]);
  }
  return levels.reverse().flat();
}

function collectLegacyMarks(prototype: object): MethodMark[] {
  const levels: MethodMark[][] = [];
  const store = maybeReflectMetadataApi();
  for (let p: object | null = prototype; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const own = store?.getOwnMetadata(LEGACY_METHODS_KEY, p) as MethodMark[] | undefined;
    if (own !== undefined) levels.push(own);
  }
  return levels.reverse().flat();
}

interface ReflectMetadataApi {
  defineMetadata(key: unknown, value: unknown, target: object): void;
  getOwnMetadata(key: unknown, target: object): unknown;
}

function maybeReflectMetadataApi(): ReflectMetadataApi | undefined {
  const api = Reflect as unknown as Partial<ReflectMetadataApi>;
  return typeof api.defineMetadata === 'function' && typeof api.getOwnMetadata === 'function' ? (api as ReflectMetadataApi) : undefined;
}

function reflectMetadataApi(label: string): ReflectMetadataApi {
  const api = maybeReflectMetadataApi();
  if (api === undefined) {
    throw new Error(
      `${label}() is running as a legacy (experimentalDecorators) decorator, which keeps its marks with reflect-metadata: ` +
        `install it and add \`import 'reflect-metadata'\` before any decorated class loads`,
    );
  }
  return api;
}

/** `@Ordered` without parentheses calls the factory as the decorator itself, with 1 to 3 arguments. */
function checkFactoryCall(label: string, argumentCount: number): void {
  if (argumentCount > 1) throw new TypeError(`${label} is a decorator factory: write ${label}() with parentheses`);
}

function checkOptions(label: string, options: unknown, allowed: readonly string[]): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${label}() takes an options object or nothing, got ${describe(options)}; write ${label}() with parentheses`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new TypeError(`${label}() has no option '${key}' (known: ${allowed.join(', ')})`);
  }
}

function describeName(name: string | symbol | undefined): string {
  return typeof name === 'symbol' ? name.toString() : name === undefined ? '(anonymous)' : `'${name}'`;
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `the function ${value.name || '(anonymous)'}`;
  if (typeof value === 'string') return JSON.stringify(value);
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value);
}

function describeArgs(args: unknown[]): string {
  return args.length === 0 ? 'no arguments' : `(${args.map(describe).join(', ')})`;
}
