/**
 * Printing normalized types. The schema lock stores each method's wire signature as text: named
 * types are expanded (once; a recursive reference prints its name), object properties are
 * sorted, and parameter names are left out, because none of those change the bytes on the wire.
 * Two methods with equal signatures marshal identically.
 */
import type { MethodModel, NamedTypeModel, TypeNode } from './ir.js';

/** Short canonical text of a type, named types by name only: for sorting and de-duplicating. */
export function typeKey(node: TypeNode): string {
  return print(node, undefined, new Set());
}

/** The wire signature of a method, e.g. `(string, Uint8Array) => bigint`. */
export function methodSignature(method: MethodModel, types: readonly NamedTypeModel[]): string {
  const table = new Map(types.map((t) => [t.name, t.type]));
  const params = method.params.map((p) => `${p.rest ? '...' : ''}${print(p.type, table, new Set())}${p.optional ? '?' : ''}`);
  return `(${params.join(', ')}) => ${print(method.result, table, new Set())}`;
}

function print(node: TypeNode, table: Map<string, TypeNode> | undefined, expanding: Set<string>): string {
  const p = (n: TypeNode): string => print(n, table, expanding);
  switch (node.t) {
    case 'bytes':
      return 'Uint8Array';
    case 'buffer':
      return 'Buffer';
    case 'date':
      return 'Date';
    case 'literal':
      return typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.value);
    case 'array': {
      const inner = p(node.of);
      return node.of.t === 'union' ? `(${inner})[]` : `${inner}[]`;
    }
    case 'tuple':
      return `[${node.of.map(p).join(', ')}]`;
    case 'object': {
      if (node.props.length === 0) return '{}';
      const props = [...node.props].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return `{ ${props.map((x) => `${x.name}${x.optional ? '?' : ''}: ${p(x.type)}`).join('; ')} }`;
    }
    case 'record':
      return `Record<string, ${p(node.of)}>`;
    case 'map':
      return `Map<${p(node.key)}, ${p(node.value)}>`;
    case 'set':
      return `Set<${p(node.of)}>`;
    case 'union':
      return node.of.map(p).join(' | ');
    case 'ref': {
      const body = table?.get(node.name);
      if (body === undefined || expanding.has(node.name)) return node.name;
      expanding.add(node.name);
      const text = `${node.name}${print(body, table, expanding)}`;
      expanding.delete(node.name);
      return text;
    }
    case 'class':
      return `${node.name}{ toWire: ${p(node.wire)} }`;
    case 'unsupported':
      return node.text;
    default:
      return node.t;
  }
}
