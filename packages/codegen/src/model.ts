/**
 * Model: turns discovered classes into the plain IR, normalizing each parameter and result type
 * into a `TypeNode`. Types that cannot be marshalled become `unsupported` nodes carrying the
 * reason; validation reports them (all of them, with their paths) instead of stopping here.
 */
import { Node, TypeFlags, ts, type ClassDeclaration, type Project, type Symbol as MorphSymbol, type Type } from 'ts-morph';
import type { DiscoveredClass, Locator } from './discover.js';
import type { ClassModel, CodegenError, MethodModel, NamedTypeModel, ParameterModel, ProjectModel, PropertyNode, TypeNode, WireClassModel } from './ir.js';
import { typeKey } from './signature.js';

export function buildModel(project: Project, discovered: readonly DiscoveredClass[], locator: Locator): { model: ProjectModel; errors: CodegenError[] } {
  const modeler = new TypeModeler(project, locator);
  const classes: ClassModel[] = discovered.map((c) => ({
    name: c.name,
    className: c.className,
    file: locator.file(c.node.getSourceFile()),
    exported: c.node.isExported(),
    location: locator.of(c.node.getNameNode() ?? c.node),
    methods: c.methods.map((m): MethodModel => {
      const node = m.node;
      const params = node.getParameters().map((p, i): ParameterModel => {
        const optional = p.isOptional() || p.hasInitializer();
        const nameNode = p.getNameNode();
        return {
          name: Node.isIdentifier(nameNode) ? nameNode.getText() : `arg${i}`,
          optional,
          rest: p.isRestParameter(),
          type: modeler.convert(p.getType(), p, optional),
          location: locator.of(p),
        };
      });
      return {
        name: m.name,
        ordered: m.ordered,
        p2p: m.p2p,
        renamedFrom: m.renamedFrom,
        params,
        result: modeler.result(node.getReturnType(), node),
        typeParameters: node.getTypeParameters().map((t) => t.getName()),
        location: locator.of(node.getNameNode()),
      };
    }),
  }));
  return { model: { classes, types: modeler.namedTypes(), wireClasses: modeler.wireClassList() }, errors: modeler.errors };
}

const BYTES_NAMES = new Set(['Uint8Array']);
const MAP_NAMES = new Set(['Map', 'ReadonlyMap']);
const SET_NAMES = new Set(['Set', 'ReadonlySet']);
const PROMISE_NAMES = new Set(['Promise', 'PromiseLike']);

class TypeModeler {
  readonly errors: CodegenError[] = [];
  private readonly named = new Map<string, { declaration: Node; model: NamedTypeModel | undefined }>();
  private readonly wireClasses = new Map<string, { declaration: Node; model: WireClassModel }>();
  private readonly anonymousStack: ts.Type[] = [];
  private readonly program: ts.Program;

  constructor(
    project: Project,
    private readonly locator: Locator,
  ) {
    this.program = project.getProgram().compilerObject;
  }

  namedTypes(): NamedTypeModel[] {
    return [...this.named.values()].flatMap((n) => (n.model === undefined ? [] : [n.model])).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  wireClassList(): WireClassModel[] {
    return [...this.wireClasses.values()].map((w) => w.model).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** A method's result: a top-level Promise unwraps; `void` stays `void`. */
  result(type: Type, at: Node): TypeNode {
    const symbol = type.getSymbol();
    if (symbol !== undefined && PROMISE_NAMES.has(symbol.getName()) && this.isBuiltIn(symbol)) {
      const [inner] = type.getTypeArguments();
      return inner === undefined ? { t: 'void' } : this.convert(inner, at, false);
    }
    return this.convert(type, at, false);
  }

  /** `optional` strips `undefined` from the type: the parameter or property's optionality carries it. */
  convert(type: Type, at: Node, optional: boolean): TypeNode {
    const text = (): string => type.getText(at, ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope);
    const flags = type.getFlags();
    if (flags & TypeFlags.Any) return unsupported(text(), 'any cannot be checked; declare the actual type');
    if (flags & TypeFlags.Unknown) return unsupported(text(), 'unknown cannot be checked; declare the actual type');
    if (flags & TypeFlags.Never) return unsupported(text(), 'never has no values');
    if (flags & TypeFlags.TypeParameter) return unsupported(text(), 'a type parameter; replicated methods cannot be generic');
    if (flags & (TypeFlags.ESSymbol | TypeFlags.UniqueESSymbol)) return unsupported(text(), 'symbols cannot cross processes');
    if (type.isString()) return { t: 'string' };
    if (type.isNumber()) return { t: 'number' };
    if (type.isBoolean()) return { t: 'boolean' };
    if (flags & (TypeFlags.BigInt | TypeFlags.BigIntLiteral)) return { t: 'bigint' };
    if (type.isUndefined()) return { t: 'undefined' };
    if (type.isNull()) return { t: 'null' };
    if (flags & TypeFlags.Void) return { t: 'void' };
    if (type.isStringLiteral() || type.isNumberLiteral()) return { t: 'literal', value: type.getLiteralValue() as string | number };
    if (type.isBooleanLiteral()) return { t: 'literal', value: type.getText() === 'true' };
    if (type.isTemplateLiteral()) return { t: 'string' };
    if (type.isUnion()) return this.union(type.getUnionTypes(), at, optional);
    if (type.isTuple()) return this.tuple(type, at, text);
    if (type.isArray() || type.isReadonlyArray()) {
      const element = type.getArrayElementType() ?? type.getTypeArguments()[0];
      return element === undefined ? unsupported(text(), 'an array of unknown elements') : { t: 'array', of: this.convert(element, at, false) };
    }
    const symbol = type.getSymbol();
    const name = symbol?.getName();
    if (symbol !== undefined && name !== undefined && this.isBuiltIn(symbol)) {
      if (BYTES_NAMES.has(name)) return { t: 'bytes' };
      if (name === 'Date') return { t: 'date' };
      const args = type.getTypeArguments();
      if (MAP_NAMES.has(name) && args.length === 2) return { t: 'map', key: this.convert(args[0], at, false), value: this.convert(args[1], at, false) };
      if (SET_NAMES.has(name) && args.length === 1) return { t: 'set', of: this.convert(args[0], at, false) };
      if (PROMISE_NAMES.has(name)) return unsupported(text(), 'a Promise can only be a method’s result, not part of a value');
    }
    if (name === 'Buffer' && symbol !== undefined && symbol.getDeclarations().some((d) => d.getSourceFile().isDeclarationFile())) return { t: 'buffer' };
    if (type.getCallSignatures().length > 0) return unsupported(text(), 'a function');
    const classDeclaration = symbol?.getDeclarations().find(Node.isClassDeclaration);
    if (classDeclaration !== undefined) return this.wireClass(classDeclaration, text);
    if (symbol !== undefined && name !== undefined && !name.startsWith('__') && this.isBuiltIn(symbol)) {
      return unsupported(text(), `${name} is a built-in type without a wire form`);
    }
    if (type.isObject() || type.isIntersection()) return this.object(type, at, text);
    return unsupported(text(), 'not a serializable type');
  }

  private union(members: Type[], at: Node, optional: boolean): TypeNode {
    const nodes: TypeNode[] = [];
    let hasTrue = false;
    let hasFalse = false;
    for (const member of members) {
      if (member.isBooleanLiteral()) {
        if (member.getText() === 'true') hasTrue = true;
        else hasFalse = true;
        continue;
      }
      if (optional && member.isUndefined()) continue;
      const node = this.convert(member, at, false);
      nodes.push(...(node.t === 'union' ? node.of : [node]));
    }
    if (hasTrue && hasFalse) nodes.push({ t: 'boolean' });
    else if (hasTrue || hasFalse) nodes.push({ t: 'literal', value: hasTrue });
    const unique = new Map<string, TypeNode>();
    for (const n of nodes) unique.set(typeKey(n), n);
    const sorted = [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, n]) => n);
    return sorted.length === 1 ? sorted[0] : { t: 'union', of: sorted };
  }

  private tuple(type: Type, at: Node, text: () => string): TypeNode {
    const target = type.getTargetType()?.compilerType as ts.TupleType | undefined;
    if (target !== undefined && target.elementFlags.some((f) => f & (ts.ElementFlags.Optional | ts.ElementFlags.Variable))) {
      return unsupported(text(), 'tuples with optional or rest elements are not supported; use an array or an object');
    }
    return { t: 'tuple', of: type.getTupleElements().map((e) => this.convert(e, at, false)) };
  }

  private wireClass(declaration: ClassDeclaration, text: () => string): TypeNode {
    const name = declaration.getName() ?? '(anonymous class)';
    const toWire = declaration.getInstanceMethod('toWire');
    const fromWire = declaration.getStaticMethod('fromWire');
    if (toWire === undefined || fromWire === undefined) {
      return unsupported(
        text(),
        `an instance of the class ${name}, which does not marshal itself (give it a toWire() method and a static fromWire(wire) that rebuilds it)`,
      );
    }
    const known = this.wireClasses.get(name);
    if (known !== undefined && known.declaration !== declaration) {
      this.errors.push({ location: this.locator.of(declaration), message: `two self-marshalling classes are named ${name}; rename one` });
    }
    const wire = this.result(toWire.getReturnType(), toWire);
    if (known === undefined) {
      this.wireClasses.set(name, {
        declaration,
        model: { name, location: this.locator.of(declaration), file: this.locator.file(declaration.getSourceFile()), exported: declaration.isExported() },
      });
    }
    return { t: 'class', name, wire };
  }

  private object(type: Type, at: Node, text: () => string): TypeNode {
    const alias = type.getAliasSymbol();
    const symbol = type.getSymbol();
    const namedSymbol =
      alias !== undefined && type.getAliasTypeArguments().length === 0
        ? alias
        : symbol !== undefined && !symbol.getName().startsWith('__') && type.getTypeArguments().length === 0
          ? symbol
          : undefined;
    if (namedSymbol !== undefined) {
      const name = namedSymbol.getName();
      const declaration = namedSymbol.getDeclarations()[0];
      const known = this.named.get(name);
      if (known !== undefined) {
        if (known.declaration !== declaration) {
          const other = this.locator.of(known.declaration);
          this.errors.push({
            location: this.locator.of(declaration),
            message: `two different types named ${name} are used in replicated methods (the other is at ${other.file}:${other.line}:${other.column}); rename one`,
          });
        }
        return { t: 'ref', name };
      }
      const entry: { declaration: Node; model: NamedTypeModel | undefined } = { declaration, model: undefined };
      this.named.set(name, entry);
      const body = this.objectBody(type, at, text);
      entry.model = { name, type: body, location: this.locator.of(declaration) };
      return { t: 'ref', name };
    }
    const id = type.compilerType;
    if (this.anonymousStack.includes(id)) return unsupported(text(), 'a recursive anonymous type; name it with an interface');
    this.anonymousStack.push(id);
    try {
      return this.objectBody(type, at, text);
    } finally {
      this.anonymousStack.pop();
    }
  }

  private objectBody(type: Type, at: Node, text: () => string): TypeNode {
    const properties = type.getProperties();
    const stringIndex = type.getStringIndexType();
    if (type.getNumberIndexType() !== undefined && stringIndex === undefined) {
      return unsupported(text(), 'number index signatures are not supported; use a Map<number, T> or an array');
    }
    if (stringIndex !== undefined) {
      if (properties.length > 0) return unsupported(text(), 'an object type with both properties and an index signature');
      return { t: 'record', of: this.convert(stringIndex, at, false) };
    }
    const methods = properties.filter((p) => p.getDeclarations().some((d) => Node.isMethodSignature(d) || Node.isMethodDeclaration(d)));
    if (methods.length > 0) {
      return unsupported(text(), `an object with methods (${methods.map((m) => m.getName()).join(', ')}); values must be plain data`);
    }
    const props: PropertyNode[] = properties.map((p) => {
      const optional = p.isOptional();
      return { name: p.getName(), type: this.propertyType(p, at, optional), optional };
    });
    return { t: 'object', props };
  }

  private propertyType(property: MorphSymbol, at: Node, optional: boolean): TypeNode {
    return this.convert(property.getTypeAtLocation(at), at, optional);
  }

  private isBuiltIn(symbol: MorphSymbol): boolean {
    // Some: @types/node adds declarations to globals such as Uint8Array.
    return symbol.getDeclarations().some((d) => this.program.isSourceFileDefaultLibrary(d.getSourceFile().compilerNode));
  }
}

function unsupported(text: string, reason: string): TypeNode {
  return { t: 'unsupported', text, reason };
}
