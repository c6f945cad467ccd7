/**
 * Layouts from JSON: Derecho's `json_layout` format, and the same with camelCase keys.
 *
 *   [ { "type_alias": "Foo",                      // optional; "typeAlias" also accepted
 *       "layout": [                               // one object per subgroup of this type
 *         { "min_nodes_by_shard": ["2", "1"],     // numbers, or digit strings as Derecho writes them
 *           "max_nodes_by_shard": ["3", "1"],     // optional, default = min
 *           "reserved_node_ids_by_shard": [["*1", "2"], []],   // optional; "*id" marks a sender
 *           "delivery_modes_by_shard": ["Ordered", "Raw"],     // optional, default Ordered
 *           "profiles_by_shard": ["DEFAULT", "LARGE"] } ] } ]  // optional, default "default"
 *
 * Extensions Derecho's JSON cannot express: an entry may carry, instead of "layout",
 * `"crossProduct": { "source": { "type": "Foo", "index": 0 }, "target": {...}, "mode"?, "profile"? }`
 * or `"wholeView": { "mode"?, "profile"? }`. Delivery modes: Ordered, Raw (= unordered),
 * Unordered, Persistent, in any case. Unknown keys are refused with a suggestion, unlike Derecho,
 * which ignores them (and treats any mode but "Raw" as Ordered).
 *
 * Types: JSON entries name their type only through the optional alias; `bindLayoutTypes` matches
 * entries to the group's types by alias when every alias names one of them, else by position.
 */
import { LayoutSpecError, type LayoutIssue } from './errors.js';
import { isJsonObject } from '../util/json-object.js';
import { ENTRY_KEYS, LayoutJsonReader, SUBGROUP_KEYS, type SubgroupField } from './json-reader.js';
import { show } from './show.js';
import { DEFAULT_PROFILE, type GroupLayout, type SubgroupRef, type TypeLayout, type TypeLayoutEntry } from './spec.js';
import { codePathNamer, layoutIssues, type LayoutPathNamer, type ShardField } from './validate.js';

/** The unnamed type at position t is called `#t` until bound to a real type. */
export function positionalTypeName(t: number): string {
  return `#${t}`;
}

export interface ParsedLayout {
  /** Entries typed by their alias, or `#<position>` when they have none. */
  readonly layout: GroupLayout;
  /** Which entries had an alias. */
  readonly aliased: readonly boolean[];
  readonly issues: readonly LayoutIssue[];
  /** Names places in the layout by the JSON keys the user wrote (for checks made later). */
  readonly paths: LayoutPathNamer;
}

type EntryKind = 'layout' | 'crossProduct' | 'wholeView';

/**
 * How each kind of entry is read from its value (at `path`, the key the user wrote); each gives
 * a layout even when the value is wrong (its problems are reported), so checking goes on.
 */
const ENTRY_KINDS: Readonly<Record<EntryKind, (r: LayoutJsonReader, value: unknown, path: string, t: number) => TypeLayout>> = {
  layout: (r, value, path, t) => {
    if (!Array.isArray(value) || value.length === 0) {
      r.add(path, `expected a non-empty array with one object per subgroup, got ${show(value)}`);
      return { kind: 'sharded', subgroups: [] };
    }
    return { kind: 'sharded', subgroups: value.map((sg, g) => r.subgroup(sg, `${path}[${g}]`, `${t}/${g}`)) };
  },
  crossProduct: (r, value, path) => {
    if (!isJsonObject(value)) {
      r.add(path, `expected { "source": {...}, "target": {...} }, got ${show(value)}`);
      return { kind: 'crossProduct', source: { type: '', index: 0 }, target: { type: '', index: 0 }, mode: 'ordered', profile: DEFAULT_PROFILE };
    }
    const { mode, profile } = r.modeAndProfile(value, path, ['source', 'target', 'mode', 'profile']);
    return { kind: 'crossProduct', source: r.ref(value.source, `${path}.source`), target: r.ref(value.target, `${path}.target`), mode, profile };
  },
  wholeView: (r, value, path) => {
    const wv = value === true ? {} : value;
    if (!isJsonObject(wv)) {
      r.add(path, `expected true or { "mode"?, "profile"? }, got ${show(value)}`);
      return { kind: 'wholeView', mode: 'ordered', profile: DEFAULT_PROFILE };
    }
    return { kind: 'wholeView', ...r.modeAndProfile(wv, path, ['mode', 'profile']) };
  },
};

/** One entry (the layout of replicated type `t`), and whether it named its type by an alias. */
function readEntry(r: LayoutJsonReader, entry: unknown, root: string, t: number): { entry: TypeLayoutEntry; aliased: boolean } {
  const path = `${root}[${t}]`;
  const scope = `${t}`;
  let type = positionalTypeName(t);
  const fallback: TypeLayout = { kind: 'sharded', subgroups: [] };
  if (!isJsonObject(entry)) {
    r.add(path, `expected an object with "layout" (or "crossProduct" / "wholeView"), got ${show(entry)}`);
    return { entry: { type, layout: fallback }, aliased: false };
  }
  const f = r.readKeys(entry, path, ENTRY_KEYS, scope);
  if (f.alias !== undefined) {
    if (typeof f.alias !== 'string' || f.alias === '') r.add(`${path}.${r.keyOf(scope, 'alias', 'type_alias')}`, `expected a non-empty type name, got ${show(f.alias)}`);
    else type = f.alias;
  }
  const aliased = typeof f.alias === 'string' && f.alias !== '';
  const kinds = (Object.keys(ENTRY_KINDS) as EntryKind[]).filter((k) => f[k] !== undefined);
  if (kinds.length !== 1) {
    r.add(path, kinds.length === 0 ? 'expected "layout" (an array of subgroups), "crossProduct" or "wholeView"' : `give only one of ${kinds.map((k) => `"${r.keyOf(scope, k, k)}"`).join(', ')}`);
    return { entry: { type, layout: fallback }, aliased };
  }
  const kind = kinds[0];
  return { entry: { type, layout: ENTRY_KINDS[kind](r, f[kind], `${path}.${r.keyOf(scope, kind, kind)}`, t) }, aliased };
}

/** Which subgroup key holds each shard field (reserved ids and senders share one list). */
const SHARD_FIELD_KEY: Readonly<Record<ShardField, SubgroupField>> = {
  minNodes: 'min',
  maxNodes: 'max',
  mode: 'modes',
  profile: 'profiles',
  reservedNodeIds: 'reserved',
  reservedSenderIds: 'reserved',
};

/** Names places in a parsed layout by the keys the user wrote, for the semantic checks. */
function jsonPathNamer(r: LayoutJsonReader, root: string): LayoutPathNamer {
  return {
    type: (t) => `${root}[${t}].${r.keyOf(`${t}`, 'alias', 'type_alias')}`,
    subgroups: (t) => `${root}[${t}].layout`,
    shards: (t, g) => `${root}[${t}].layout[${g}].${r.keyOf(`${t}/${g}`, 'min', 'min_nodes_by_shard')}`,
    shardField: (t, g, s, field) => {
      // An absent max list means max = min: a max problem is then the min list's.
      const canonical = field === 'maxNodes' && !r.wrote(`${t}/${g}`, 'max') ? 'min' : SHARD_FIELD_KEY[field];
      return `${root}[${t}].layout[${g}].${r.keyOf(`${t}/${g}`, canonical, SUBGROUP_KEYS[canonical][0])}[${s}]`;
    },
    entryField: (t, field) => {
      const entryKey = r.wrote(`${t}`, 'crossProduct') ? r.keyOf(`${t}`, 'crossProduct', 'crossProduct') : r.keyOf(`${t}`, 'wholeView', 'wholeView');
      return `${root}[${t}].${entryKey}.${field}`;
    },
  };
}

/**
 * Parses a JSON layout (already `JSON.parse`d) into a GroupLayout, collecting every problem with
 * its path under `root` (e.g. "config.layout"). Never throws.
 */
export function parseLayoutJson(value: unknown, root = 'layout'): ParsedLayout {
  if (!Array.isArray(value)) {
    return { layout: [], aliased: [], issues: [{ path: root, message: `expected an array with one entry per replicated type, got ${show(value)}` }], paths: codePathNamer([], root) };
  }
  const r = new LayoutJsonReader();
  const read = value.map((entry, t) => readEntry(r, entry, root, t));
  const layout = read.map((e) => e.entry);
  const paths = jsonPathNamer(r, root);
  // Semantic checks (min ≤ max, reserved ids, cross-product references) only once the shapes are
  // right, and with paths that name the JSON keys the user wrote.
  const issues = r.issues.length === 0 ? layoutIssues(layout, { paths }) : r.issues;
  return { layout, aliased: read.map((e) => e.aliased), issues, paths };
}

/**
 * Gives each parsed JSON entry the name of the group type it lays out. When every entry has an
 * alias and the aliases are exactly the group's type names, entries match by alias (any order);
 * otherwise by position, as Derecho does. Cross-product references follow the renaming.
 */
export function bindLayoutTypes(parsed: Pick<ParsedLayout, 'layout' | 'aliased'>, typeNames: readonly string[], root = 'layout'): GroupLayout {
  const { layout, aliased } = parsed;
  const aliases = layout.map((e) => e.type);
  const byAlias =
    aliased.length > 0 &&
    aliased.every(Boolean) &&
    aliases.length === typeNames.length &&
    new Set(aliases).size === aliases.length &&
    aliases.every((a) => typeNames.includes(a));
  if (!byAlias && layout.length !== typeNames.length) {
    throw new LayoutSpecError([{
      path: root,
      message: `has ${layout.length} entr${layout.length === 1 ? 'y' : 'ies'} but the group has ${typeNames.length} replicated type${typeNames.length === 1 ? '' : 's'} (${typeNames.join(', ')}); give one entry per type, in the group's order, or a type_alias naming each type`,
    }]);
  }
  const nameOf = new Map<string, string>();
  layout.forEach((entry, t) => nameOf.set(entry.type, byAlias ? entry.type : typeNames[t]));
  const rename = (ref: SubgroupRef): SubgroupRef => ({ type: nameOf.get(ref.type) ?? ref.type, index: ref.index });
  const renamed = layout.map((entry): TypeLayoutEntry => {
    const l = entry.layout;
    const moved = l.kind === 'crossProduct' ? { ...l, source: rename(l.source), target: rename(l.target) } : l;
    return { type: nameOf.get(entry.type)!, layout: moved };
  });
  return typeNames.map((name) => renamed.find((e) => e.type === name)!);
}

/** Parses and validates a JSON layout, throwing LayoutSpecError with every problem; binds it to
 * `typeNames` when given. */
export function layoutFromJson(value: unknown, typeNames?: readonly string[], root = 'layout'): GroupLayout {
  const parsed = parseLayoutJson(value, root);
  if (parsed.issues.length > 0) throw new LayoutSpecError(parsed.issues);
  return typeNames === undefined ? parsed.layout : bindLayoutTypes(parsed, typeNames, root);
}
