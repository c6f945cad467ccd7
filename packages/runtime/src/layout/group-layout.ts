/**
 * Choosing a group's layout: the program lists its replicated types, each with an optional layout
 * written in code (`{ type: KVStore, layout: shards(...) }`); the deployment may give a JSON layout
 * in its config file. The config's layout, when present, wins: operators resize shards without a
 * rebuild, as with Derecho's `make_subgroup_allocator<T...>()` reading `LAYOUT/json_layout`.
 */
import { LayoutSpecError } from './errors.js';
import { bindLayoutTypes, positionalTypeName } from './json.js';
import type { GroupLayout, TypeLayout } from './spec.js';
import { validateGroupLayout } from './validate.js';

export interface TypeWithLayout {
  /** The replicated type's name (its class name). */
  readonly type: string;
  readonly layout?: TypeLayout;
}

/**
 * The layout to allocate with: `configLayout` bound to the program's types when given, else the
 * layouts written in code (every type must then have one). Throws LayoutSpecError.
 */
export function resolveGroupLayout(types: readonly TypeWithLayout[], configLayout?: GroupLayout): GroupLayout {
  const typeNames = types.map((t) => t.type);
  if (configLayout !== undefined) {
    const aliased = configLayout.map((entry, t) => entry.type !== positionalTypeName(t));
    const bound = bindLayoutTypes({ layout: configLayout, aliased }, typeNames, 'config.layout');
    validateGroupLayout(bound);
    return bound;
  }
  const missing = types.flatMap((t, i) => (t.layout === undefined ? [{ path: `subgroups[${i}] (${t.type}).layout`, message: 'no layout given in code, and the configuration has none; give one, e.g. layout: shards({ minNodes: 1 })' }] : []));
  if (missing.length > 0) throw new LayoutSpecError(missing);
  const layout = types.map((t) => ({ type: t.type, layout: t.layout! }));
  validateGroupLayout(layout);
  return layout;
}
