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
import type { DeliveryMode } from '../core/view.js';
import { didYouMean } from '../util/did-you-mean.js';
import { LayoutSpecError, type LayoutIssue } from './errors.js';
import { show } from './show.js';
import { DEFAULT_PROFILE, type GroupLayout, type ShardPolicy, type SubgroupRef, type TypeLayout, type TypeLayoutEntry } from './spec.js';
import { codePathNamer, layoutIssues, type LayoutPathNamer, type ShardField } from './validate.js';

/** Canonical field -> [snake_case key, camelCase key]. */
const SUBGROUP_KEYS = {
  min: ['min_nodes_by_shard', 'minNodesByShard'],
  max: ['max_nodes_by_shard', 'maxNodesByShard'],
  reserved: ['reserved_node_ids_by_shard', 'reservedNodeIdsByShard'],
  modes: ['delivery_modes_by_shard', 'deliveryModesByShard'],
  profiles: ['profiles_by_shard', 'profilesByShard'],
} as const;
type SubgroupField = keyof typeof SUBGROUP_KEYS;

const ENTRY_KEYS = {
  alias: ['type_alias', 'typeAlias'],
  layout: ['layout', 'layout'],
  crossProduct: ['cross_product', 'crossProduct'],
  wholeView: ['whole_view', 'wholeView'],
} as const;
type EntryField = keyof typeof ENTRY_KEYS;

const MODE_NAMES: Record<string, DeliveryMode> = {
  ordered: 'ordered',
  raw: 'unordered',
  unordered: 'unordered',
  persistent: 'persistent',
};

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

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Parses a JSON layout (already `JSON.parse`d) into a GroupLayout, collecting every problem with
 * its path under `root` (e.g. "config.layout"). Never throws.
 */
export function parseLayoutJson(value: unknown, root = 'layout'): ParsedLayout {
  const issues: LayoutIssue[] = [];
  const add = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  if (!Array.isArray(value)) {
    add(root, `expected an array with one entry per replicated type, got ${show(value)}`);
    return { layout: [], aliased: [], issues, paths: codePathNamer([], root) };
  }
  // The key each entry/subgroup actually used, so messages point at what the user wrote.
  const usedKeys = new Map<string, string>();
  const entries: TypeLayoutEntry[] = [];
  const aliased: boolean[] = [];

  /** Reads one canonical field written in either spelling; reports unknown and doubled keys. */
  function readKeys<F extends string>(obj: Json, path: string, keys: Record<F, readonly [string, string]>, scope: string): Partial<Record<F, unknown>> {
    const out: Partial<Record<F, unknown>> = {};
    const known = new Map<string, F>();
    for (const field of Object.keys(keys) as F[]) for (const k of keys[field]) known.set(k, field);
    for (const [k, v] of Object.entries(obj)) {
      const field = known.get(k);
      if (field === undefined) {
        add(`${path}.${k}`, `unknown key${didYouMean(k, known.keys())}`);
        continue;
      }
      if (field in out) {
        add(`${path}.${k}`, `given twice (as "${usedKeys.get(`${scope}/${field}`)}" and "${k}")`);
        continue;
      }
      out[field] = v;
      usedKeys.set(`${scope}/${field}`, k);
    }
    return out;
  }

  const keyOf = (scope: string, field: string, fallback: string): string => usedKeys.get(`${scope}/${field}`) ?? fallback;

  function readCount(v: unknown, path: string): number {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1) return v;
    if (typeof v === 'string' && /^[0-9]+$/.test(v) && Number(v) >= 1) return Number(v);
    add(path, `expected a positive integer (or a string of digits), got ${show(v)}`);
    return Number.NaN;
  }

  function readMode(v: unknown, path: string): DeliveryMode {
    const mode = typeof v === 'string' ? MODE_NAMES[v.toLowerCase()] : undefined;
    if (mode === undefined) add(path, `expected "Ordered", "Raw", "Unordered" or "Persistent", got ${show(v)}`);
    return mode ?? 'ordered';
  }

  function readProfile(v: unknown, path: string): string {
    if (typeof v !== 'string' || v === '') {
      add(path, `expected a non-empty profile name, got ${show(v)}`);
      return DEFAULT_PROFILE;
    }
    // Derecho's profile section for unnamed shards is "DEFAULT"; ours is the base multicast settings.
    return v.toLowerCase() === DEFAULT_PROFILE ? DEFAULT_PROFILE : v;
  }

  function readRef(v: unknown, path: string): SubgroupRef {
    if (!isObject(v)) {
      add(path, `expected { "type": <type alias>, "index": <subgroup index> }, got ${show(v)}`);
      return { type: '', index: 0 };
    }
    for (const k of Object.keys(v)) if (k !== 'type' && k !== 'index') add(`${path}.${k}`, `unknown key${didYouMean(k, ['type', 'index'])}`);
    const index = v.index ?? 0;
    if (typeof v.type !== 'string' || v.type === '') add(`${path}.type`, `expected a type alias, got ${show(v.type)}`);
    if (!(typeof index === 'number' && Number.isSafeInteger(index) && index >= 0)) add(`${path}.index`, `expected an integer ≥ 0, got ${show(index)}`);
    return { type: typeof v.type === 'string' ? v.type : '', index: typeof index === 'number' ? index : 0 };
  }

  function readModeAndProfile(obj: Json, path: string, allowed: readonly string[]): { mode: DeliveryMode; profile: string } {
    for (const k of Object.keys(obj)) if (!allowed.includes(k)) add(`${path}.${k}`, `unknown key${didYouMean(k, allowed)}`);
    return {
      mode: obj.mode === undefined ? 'ordered' : readMode(obj.mode, `${path}.mode`),
      profile: obj.profile === undefined ? DEFAULT_PROFILE : readProfile(obj.profile, `${path}.profile`),
    };
  }

  function readSubgroup(v: unknown, path: string, scope: string): { shards: ShardPolicy[] } {
    if (!isObject(v)) {
      add(path, `expected a subgroup object with "min_nodes_by_shard" etc., got ${show(v)}`);
      return { shards: [] };
    }
    const f = readKeys<SubgroupField>(v, path, SUBGROUP_KEYS, scope);
    const at = (field: SubgroupField): string => `${path}.${keyOf(scope, field, SUBGROUP_KEYS[field][0])}`;
    if (f.min === undefined) {
      add(at('min'), 'required (one entry per shard)');
      return { shards: [] };
    }
    if (!Array.isArray(f.min) || f.min.length === 0) {
      add(at('min'), `expected a non-empty array (one entry per shard), got ${show(f.min)}`);
      return { shards: [] };
    }
    const count = f.min.length;
    const perShard = (field: SubgroupField): unknown[] | undefined => {
      const arr = f[field];
      if (arr === undefined) return undefined;
      if (!Array.isArray(arr)) {
        add(at(field), `expected an array with one entry per shard, got ${show(arr)}`);
        return undefined;
      }
      if (arr.length !== count) {
        add(at(field), `has ${arr.length} entries but ${keyOf(scope, 'min', SUBGROUP_KEYS.min[0])} has ${count}; every per-shard list needs one entry per shard`);
        return undefined;
      }
      return arr;
    };
    const maxs = perShard('max');
    const reserved = perShard('reserved');
    const modes = perShard('modes');
    const profiles = perShard('profiles');
    const shards: ShardPolicy[] = [];
    for (let s = 0; s < count; s++) {
      const minNodes = readCount(f.min[s], `${at('min')}[${s}]`);
      const maxNodes = maxs === undefined ? minNodes : readCount(maxs[s], `${at('max')}[${s}]`);
      const reservedNodeIds: number[] = [];
      const reservedSenderIds: number[] = [];
      if (reserved !== undefined) {
        const ids = reserved[s];
        if (!Array.isArray(ids)) {
          add(`${at('reserved')}[${s}]`, `expected an array of node ids (numbers, or strings like "3" or "*3" for a sender), got ${show(ids)}`);
        } else {
          ids.forEach((raw, k) => {
            const path = `${at('reserved')}[${s}][${k}]`;
            const sender = typeof raw === 'string' && raw.startsWith('*');
            const text = sender ? (raw as string).slice(1) : raw;
            const id = typeof text === 'number' ? text : typeof text === 'string' && /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
            if (!Number.isSafeInteger(id) || id < 0 || id > 0xffffffff) {
              add(path, `expected a node id (an integer from 0 to 4294967295, "*" in front for a sender), got ${show(raw)}`);
              return;
            }
            reservedNodeIds.push(id);
            if (sender) reservedSenderIds.push(id);
          });
        }
      }
      shards.push({
        minNodes,
        maxNodes,
        mode: modes === undefined ? 'ordered' : readMode(modes[s], `${at('modes')}[${s}]`),
        profile: profiles === undefined ? DEFAULT_PROFILE : readProfile(profiles[s], `${at('profiles')}[${s}]`),
        reservedNodeIds,
        reservedSenderIds,
      });
    }
    return { shards };
  }

  value.forEach((entry, t) => {
    const path = `${root}[${t}]`;
    const scope = `${t}`;
    const fallback: TypeLayoutEntry = { type: positionalTypeName(t), layout: { kind: 'sharded', subgroups: [] } };
    if (!isObject(entry)) {
      add(path, `expected an object with "layout" (or "crossProduct" / "wholeView"), got ${show(entry)}`);
      entries.push(fallback);
      aliased.push(false);
      return;
    }
    const f = readKeys<EntryField>(entry, path, ENTRY_KEYS, scope);
    const aliasPath = `${path}.${keyOf(scope, 'alias', 'type_alias')}`;
    let type = positionalTypeName(t);
    if (f.alias !== undefined) {
      if (typeof f.alias !== 'string' || f.alias === '') add(aliasPath, `expected a non-empty type name, got ${show(f.alias)}`);
      else type = f.alias;
    }
    aliased.push(typeof f.alias === 'string' && f.alias !== '');
    const kinds = (['layout', 'crossProduct', 'wholeView'] as const).filter((k) => f[k] !== undefined);
    if (kinds.length !== 1) {
      add(path, kinds.length === 0
        ? 'expected "layout" (an array of subgroups), "crossProduct" or "wholeView"'
        : `give only one of ${kinds.map((k) => `"${keyOf(scope, k, k)}"`).join(', ')}`);
      entries.push({ ...fallback, type });
      return;
    }
    let layout: TypeLayout;
    if (kinds[0] === 'layout') {
      const subgroupsJson = f.layout;
      if (!Array.isArray(subgroupsJson) || subgroupsJson.length === 0) {
        add(`${path}.layout`, `expected a non-empty array with one object per subgroup, got ${show(subgroupsJson)}`);
        layout = { kind: 'sharded', subgroups: [] };
      } else {
        layout = { kind: 'sharded', subgroups: subgroupsJson.map((sg, g) => readSubgroup(sg, `${path}.layout[${g}]`, `${t}/${g}`)) };
      }
    } else if (kinds[0] === 'crossProduct') {
      const cpPath = `${path}.${keyOf(scope, 'crossProduct', 'crossProduct')}`;
      const cp = f.crossProduct;
      if (!isObject(cp)) {
        add(cpPath, `expected { "source": {...}, "target": {...} }, got ${show(cp)}`);
        layout = { kind: 'crossProduct', source: { type: '', index: 0 }, target: { type: '', index: 0 }, mode: 'ordered', profile: DEFAULT_PROFILE };
      } else {
        const { mode, profile } = readModeAndProfile(cp, cpPath, ['source', 'target', 'mode', 'profile']);
        layout = { kind: 'crossProduct', source: readRef(cp.source, `${cpPath}.source`), target: readRef(cp.target, `${cpPath}.target`), mode, profile };
      }
    } else {
      const wvPath = `${path}.${keyOf(scope, 'wholeView', 'wholeView')}`;
      const wv = f.wholeView === true ? {} : f.wholeView;
      if (!isObject(wv)) {
        add(wvPath, `expected true or { "mode"?, "profile"? }, got ${show(f.wholeView)}`);
        layout = { kind: 'wholeView', mode: 'ordered', profile: DEFAULT_PROFILE };
      } else {
        layout = { kind: 'wholeView', ...readModeAndProfile(wv, wvPath, ['mode', 'profile']) };
      }
    }
    entries.push({ type, layout });
  });

  // Semantic checks (min ≤ max, reserved ids, cross-product references) only once the shapes are
  // right, and with paths that name the JSON keys the user wrote.
  const shardFieldKey: Record<ShardField, SubgroupField> = {
      minNodes: 'min', maxNodes: 'max', mode: 'modes', profile: 'profiles', reservedNodeIds: 'reserved', reservedSenderIds: 'reserved',
    };
    const namer: LayoutPathNamer = {
      type: (t) => `${root}[${t}].${keyOf(`${t}`, 'alias', 'type_alias')}`,
      subgroups: (t) => `${root}[${t}].layout`,
      shards: (t, g) => `${root}[${t}].layout[${g}].${keyOf(`${t}/${g}`, 'min', 'min_nodes_by_shard')}`,
      shardField: (t, g, s, field) => {
        const canonical = field === 'maxNodes' && !usedKeys.has(`${t}/${g}/max`) ? 'min' : shardFieldKey[field];
        return `${root}[${t}].layout[${g}].${keyOf(`${t}/${g}`, canonical, SUBGROUP_KEYS[canonical][0])}[${s}]`;
      },
      entryField: (t, field) => {
        const entryKey = usedKeys.has(`${t}/crossProduct`) ? keyOf(`${t}`, 'crossProduct', 'crossProduct') : keyOf(`${t}`, 'wholeView', 'wholeView');
        return `${root}[${t}].${entryKey}.${field}`;
      },
    };
  if (issues.length === 0) issues.push(...layoutIssues(entries, { paths: namer }));
  return { layout: entries, aliased, issues, paths: namer };
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
