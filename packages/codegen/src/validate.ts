/**
 * Validation: every argument and result type must be serializable, every class the generated file
 * imports must be exported, and methods must have one plain signature. All problems are collected
 * (sorted by position) so one run shows everything to fix.
 */
import type { ClassModel, CodegenError, MethodModel, ProjectModel, SourceLocation, TypeNode } from './ir.js';

export function validateModel(model: ProjectModel): CodegenError[] {
  const errors: CodegenError[] = [];
  const types = new Map(model.types.map((t) => [t.name, t.type]));
  for (const cls of model.classes) {
    if (!cls.exported) {
      errors.push({ location: cls.location, message: `${cls.className} must be exported: the generated file imports it` });
    }
    for (const method of cls.methods) validateMethod(cls, method, types, errors);
  }
  for (const wire of model.wireClasses) {
    if (!wire.exported) {
      errors.push({ location: wire.location, message: `${wire.name} must be exported: replicated methods marshal it, so the generated file imports it` });
    }
  }
  return errors;
}

/** Names the p2p stub itself uses for historical reads (`p2p(n).at(v)`, `.asOf(t)`, `.history()`). */
const P2P_STUB_NAMES = new Set(['at', 'asOf', 'history']);

function validateMethod(cls: ClassModel, method: MethodModel, types: Map<string, TypeNode>, errors: CodegenError[]): void {
  const label = `${cls.className}.${method.name}`;
  if (method.p2p && P2P_STUB_NAMES.has(method.name)) {
    errors.push({ location: method.location, message: `${label}: a @P2P() method cannot be named '${method.name}': p2p stubs use at, asOf and history for historical reads; rename the method` });
  }
  if (method.typeParameters.length > 0) {
    errors.push({ location: method.location, message: `${label}: generic methods cannot be replicated (type parameters ${method.typeParameters.join(', ')})` });
  }
  for (const param of method.params) {
    const where = `${label} parameter '${param.name}'`;
    if (param.rest) {
      errors.push({ location: param.location, message: `${where}: rest parameters are not supported; take an array` });
      continue;
    }
    if (param.type.t === 'void') {
      errors.push({ location: param.location, message: `${where}: void is only a result type` });
      continue;
    }
    reportUnsupported(param.type, '', types, new Set(), (text, reason, path) =>
      errors.push({ location: param.location, message: describe(where, text, reason, path) }),
    );
  }
  const location: SourceLocation = method.location;
  reportUnsupported(method.result, '', types, new Set(), (text, reason, path) =>
    errors.push({ location, message: describe(`${label} result`, text, reason, path) }),
  );
}

function describe(where: string, text: string, reason: string, path: string): string {
  return `${where}: type '${text}'${path === '' || path === text ? '' : ` (at ${path})`} is not serializable: ${reason}`;
}

/** Calls `report` for every unsupported node reachable from `node`, with its path. */
function reportUnsupported(
  node: TypeNode,
  path: string,
  types: Map<string, TypeNode>,
  visiting: Set<string>,
  report: (text: string, reason: string, path: string) => void,
): void {
  const walk = (n: TypeNode, p: string): void => reportUnsupported(n, p, types, visiting, report);
  switch (node.t) {
    case 'unsupported':
      report(node.text, node.reason, path);
      return;
    case 'array':
      walk(node.of, `${path}[]`);
      return;
    case 'set':
      walk(node.of, `${path}<element>`);
      return;
    case 'record':
      walk(node.of, `${path}[string]`);
      return;
    case 'tuple':
      node.of.forEach((n, i) => walk(n, `${path}[${i}]`));
      return;
    case 'map':
      walk(node.key, `${path}<key>`);
      walk(node.value, `${path}<value>`);
      return;
    case 'union':
      for (const n of node.of) walk(n, path);
      return;
    case 'object':
      for (const prop of node.props) {
        if (prop.type.t === 'void') report('void', 'a property cannot be void', `${path}.${prop.name}`);
        else walk(prop.type, `${path}.${prop.name}`);
      }
      return;
    case 'class':
      walk(node.wire, `${node.name}.toWire()`);
      return;
    case 'ref': {
      if (visiting.has(node.name)) return;
      const body = types.get(node.name);
      if (body === undefined) return;
      visiting.add(node.name);
      walk(body, node.name);
      visiting.delete(node.name);
      return;
    }
    default:
      return;
  }
}
