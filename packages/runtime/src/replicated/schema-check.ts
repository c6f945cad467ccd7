/**
 * At join, each typed subgroup's class (what its decorators say) must match the generated wire
 * schema (what derecho-codegen saw when it last ran). A mismatch means the generated file is
 * stale; calls would then carry wrong method ids or types, so the join is refused up front.
 */
import type { WireSchema } from '../rpc/marshal-schema.js';
import type { ReplicatedMetadata } from './metadata.js';

export class StaleSchemaError extends Error {
  override readonly name = 'StaleSchemaError';
}

const RERUN = 'the generated file (derecho.generated.ts) is stale: run derecho-codegen and rebuild';

/** Throws StaleSchemaError listing every difference between the class and its schema entry. */
export function checkClassAgainstSchema(className: string, metadata: ReplicatedMetadata, schema: WireSchema): void {
  const entry = schema.classes[metadata.name];
  if (entry === undefined) {
    const known = Object.keys(schema.classes).join(', ') || 'none';
    throw new StaleSchemaError(`the wire schema has no class '${metadata.name}' (class ${className}; schema classes: ${known}): ${RERUN}`);
  }
  const problems: string[] = [];
  const methods = entry.methods;
  const kinds = (m: { ordered: boolean; p2p: boolean }): string => [m.ordered ? '@Ordered()' : '', m.p2p ? '@P2P()' : ''].filter(Boolean).join(' ') || 'not replicated';
  const decorated = new Map<string, { ordered: boolean; p2p: boolean }>();
  for (const name of metadata.ordered) decorated.set(name, { ordered: true, p2p: false });
  for (const name of metadata.p2p) decorated.set(name, { ordered: decorated.get(name)?.ordered ?? false, p2p: true });
  for (const [name, kind] of [...decorated].sort(([a], [b]) => a.localeCompare(b))) {
    const wire = methods[name];
    if (wire === undefined) problems.push(`method '${name}' (${kinds(kind)}) is not in the schema`);
    else if (wire.ordered !== kind.ordered || wire.p2p !== kind.p2p) problems.push(`method '${name}' is ${kinds(kind)} in the class but ${kinds(wire)} in the schema`);
  }
  for (const name of Object.keys(methods).sort()) {
    if (!decorated.has(name)) problems.push(`the schema has method '${name}', which the class does not decorate`);
  }
  if (problems.length > 0) throw new StaleSchemaError(`class ${className} (wire name '${metadata.name}') does not match the wire schema: ${problems.join('; ')}; ${RERUN}`);
}
