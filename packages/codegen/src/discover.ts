/**
 * Discovery: every class in the program decorated with `@Replicated()` from `@derecho-ts/runtime`,
 * with its `@Ordered()` / `@P2P()` methods and their literal options. Decorators are recognised by
 * their import (named, renamed or through a namespace import), never by spelling alone, so a
 * user's own `Ordered` decorator is left alone.
 */
import { Node, SyntaxKind, type ClassDeclaration, type Decorator, type MethodDeclaration, type Project, type SourceFile } from 'ts-morph';
import type { CodegenError, SourceLocation } from './ir.js';

export const RUNTIME_MODULE = '@derecho-ts/runtime';

export type DerechoDecorator = 'Replicated' | 'Ordered' | 'P2P';
const DECORATOR_NAMES: ReadonlySet<string> = new Set(['Replicated', 'Ordered', 'P2P']);

export interface DiscoveredMethod {
  readonly node: MethodDeclaration;
  readonly name: string;
  readonly ordered: boolean;
  readonly p2p: boolean;
  readonly renamedFrom: string | undefined;
}

export interface DiscoveredClass {
  readonly node: ClassDeclaration;
  readonly name: string;
  readonly className: string;
  readonly methods: readonly DiscoveredMethod[];
}

export interface Discovery {
  readonly classes: readonly DiscoveredClass[];
  readonly errors: readonly CodegenError[];
}

/** Maps ts-morph positions to IR locations relative to the project root. */
export class Locator {
  constructor(private readonly rootDir: string) {}

  file(sourceFile: SourceFile): string {
    const path = sourceFile.getFilePath();
    const root = this.rootDir.endsWith('/') ? this.rootDir : `${this.rootDir}/`;
    return path.startsWith(root) ? path.slice(root.length) : path;
  }

  of(node: Node): SourceLocation {
    const sourceFile = node.getSourceFile();
    const { line, column } = sourceFile.getLineAndColumnAtPos(node.getStart());
    return { file: this.file(sourceFile), line, column };
  }
}

export function discover(project: Project, locator: Locator): Discovery {
  const classes: DiscoveredClass[] = [];
  const errors: CodegenError[] = [];
  const files = project
    .getSourceFiles()
    .filter((f) => !f.isDeclarationFile() && !f.isInNodeModules())
    .sort((a, b) => (a.getFilePath() < b.getFilePath() ? -1 : 1));
  for (const file of files) {
    for (const cls of file.getDescendantsOfKind(SyntaxKind.ClassDeclaration)) discoverClass(cls, locator, classes, errors);
  }
  const byName = new Map<string, DiscoveredClass>();
  for (const c of classes) {
    const earlier = byName.get(c.name);
    if (earlier !== undefined) {
      const at = locator.of(earlier.node);
      errors.push({
        location: locator.of(c.node),
        message: `two @Replicated() classes are named ${c.name} (the other is at ${at.file}:${at.line}:${at.column}); give one a distinct @Replicated({ name })`,
      });
    } else byName.set(c.name, c);
  }
  return { classes, errors };
}

function discoverClass(cls: ClassDeclaration, locator: Locator, classes: DiscoveredClass[], errors: CodegenError[]): void {
  const replicated = cls.getDecorators().filter((d) => derechoDecoratorOf(d) === 'Replicated');
  const methods: DiscoveredMethod[] = [];
  const className = cls.getName() ?? '(anonymous class)';
  for (const member of cls.getMembers()) {
    for (const decorator of Node.isDecoratable(member) ? member.getDecorators() : []) {
      const which = derechoDecoratorOf(decorator);
      if (which === undefined) continue;
      if (which === 'Replicated') {
        errors.push({ location: locator.of(decorator), message: `${className}: @Replicated() decorates classes, not members` });
        continue;
      }
      const memberName = Node.hasName(member) ? member.getName() : '(unnamed member)';
      if (!Node.isMethodDeclaration(member)) {
        errors.push({ location: locator.of(decorator), message: `${className}.${memberName}: @${which}() decorates methods, but ${memberName} is not a method` });
        continue;
      }
      if (member.isStatic()) {
        errors.push({ location: locator.of(decorator), message: `${className}.${memberName}: @${which}() decorates instance methods, but ${memberName} is static` });
        continue;
      }
      const options = literalOptions(decorator, ['renamedFrom'], `${className}.${memberName}: @${which}()`, locator, errors);
      let entry = methods.find((m) => m.node === member);
      if (entry === undefined) {
        entry = { node: member, name: member.getName(), ordered: false, p2p: false, renamedFrom: undefined };
        methods.push(entry);
      }
      const renamedFrom = options.renamedFrom ?? entry.renamedFrom;
      if (options.renamedFrom !== undefined && entry.renamedFrom !== undefined && options.renamedFrom !== entry.renamedFrom) {
        errors.push({ location: locator.of(decorator), message: `${className}.${memberName}: @Ordered() and @P2P() give different renamedFrom values` });
      }
      Object.assign(entry, { renamedFrom, [which === 'Ordered' ? 'ordered' : 'p2p']: true });
    }
  }
  if (replicated.length === 0) {
    if (methods.length > 0) {
      errors.push({
        location: locator.of(cls),
        message: `${className} has ${methods.map((m) => `${m.ordered ? '@Ordered()' : '@P2P()'} ${m.name}`).join(', ')} but is not decorated with @Replicated()`,
      });
    }
    return;
  }
  if (replicated.length > 1) errors.push({ location: locator.of(replicated[1]), message: `${className}: @Replicated() is applied twice` });
  if (cls.getName() === undefined) {
    errors.push({ location: locator.of(cls), message: `an anonymous class is decorated with @Replicated(); give it a name and export it` });
    return;
  }
  const options = literalOptions(replicated[0], ['name'], `${className}: @Replicated()`, locator, errors);
  const name = options.name ?? className;
  const overloaded = new Set<string>();
  for (const m of methods) {
    if (cls.getInstanceMethods().filter((x) => x.getName() === m.name).length > 1 || m.node.getOverloads().length > 0) overloaded.add(m.name);
  }
  for (const name of overloaded) {
    const m = methods.find((x) => x.name === name) as DiscoveredMethod;
    errors.push({ location: locator.of(m.node), message: `${className}.${name}: overloaded methods cannot be replicated (one signature per wire id)` });
  }
  classes.push({ node: cls, name, className, methods: methods.filter((m) => !overloaded.has(m.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) });
}

/** Which derecho decorator `decorator` is, resolved through its import; undefined for any other. */
export function derechoDecoratorOf(decorator: Decorator): DerechoDecorator | undefined {
  const call = decorator.getExpression();
  const callee = Node.isCallExpression(call) ? call.getExpression() : call;
  if (Node.isIdentifier(callee)) {
    for (const declaration of callee.getSymbol()?.getDeclarations() ?? []) {
      if (Node.isImportSpecifier(declaration) && declaration.getImportDeclaration().getModuleSpecifierValue() === RUNTIME_MODULE) {
        const imported = declaration.getName();
        if (DECORATOR_NAMES.has(imported)) return imported as DerechoDecorator;
      }
    }
    return undefined;
  }
  if (Node.isPropertyAccessExpression(callee)) {
    const object = callee.getExpression();
    const member = callee.getName();
    if (!Node.isIdentifier(object) || !DECORATOR_NAMES.has(member)) return undefined;
    for (const declaration of object.getSymbol()?.getDeclarations() ?? []) {
      if (Node.isNamespaceImport(declaration)) {
        const importDeclaration = declaration.getFirstAncestor(Node.isImportDeclaration);
        if (importDeclaration?.getModuleSpecifierValue() === RUNTIME_MODULE) return member as DerechoDecorator;
      }
    }
  }
  return undefined;
}

/**
 * The decorator call's options object, whose values must be string literals (codegen reads them
 * without running anything). Reports a bare decorator (no call) and anything not literal.
 */
function literalOptions(decorator: Decorator, allowed: readonly string[], label: string, locator: Locator, errors: CodegenError[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!decorator.isDecoratorFactory()) {
    errors.push({ location: locator.of(decorator), message: `${label}: write the decorator with parentheses, @${decorator.getName()}()` });
    return out;
  }
  const args = decorator.getArguments();
  if (args.length === 0) return out;
  const arg = args[0];
  if (args.length > 1 || !Node.isObjectLiteralExpression(arg)) {
    errors.push({ location: locator.of(arg), message: `${label}: the options must be one object literal` });
    return out;
  }
  for (const property of arg.getProperties()) {
    if (!Node.isPropertyAssignment(property)) {
      errors.push({ location: locator.of(property), message: `${label}: options must be written as \`key: 'literal'\`` });
      continue;
    }
    const key = property.getName();
    const value = property.getInitializer();
    if (!allowed.includes(key)) {
      errors.push({ location: locator.of(property), message: `${label}: unknown option '${key}' (known: ${allowed.join(', ')})` });
    } else if (value === undefined || !(Node.isStringLiteral(value) || Node.isNoSubstitutionTemplateLiteral(value)) || value.getLiteralText() === '') {
      errors.push({ location: locator.of(property), message: `${label}: option '${key}' must be a non-empty string literal` });
    } else {
      out[key] = value.getLiteralText();
    }
  }
  return out;
}
