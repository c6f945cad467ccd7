/**
 * Reading the values of a JSON layout (layout/json.ts): every key in either spelling (Derecho's
 * snake_case or camelCase, from the key tables below), with the spelling the user wrote
 * remembered so messages point at it; every problem collected with its path, never thrown.
 */
import type { DeliveryMode } from '../core/view.js';
import { didYouMean } from '../util/did-you-mean.js';
import { isJsonObject, type JsonObject } from '../util/json-object.js';
import type { LayoutIssue } from './errors.js';
import { show } from './show.js';
import { DEFAULT_PROFILE, type ShardPolicy, type SubgroupRef } from './spec.js';

/** Canonical field -> [snake_case key, camelCase key]. */
export type KeySpellings<F extends string> = Readonly<Record<F, readonly [string, string]>>;

/** The keys of one subgroup object: its per-shard lists. */
export const SUBGROUP_KEYS = {
  min: ['min_nodes_by_shard', 'minNodesByShard'],
  max: ['max_nodes_by_shard', 'maxNodesByShard'],
  reserved: ['reserved_node_ids_by_shard', 'reservedNodeIdsByShard'],
  modes: ['delivery_modes_by_shard', 'deliveryModesByShard'],
  profiles: ['profiles_by_shard', 'profilesByShard'],
} as const satisfies KeySpellings<string>;
export type SubgroupField = keyof typeof SUBGROUP_KEYS;

/** The keys of one entry (one replicated type). */
export const ENTRY_KEYS = {
  alias: ['type_alias', 'typeAlias'],
  layout: ['layout', 'layout'],
  crossProduct: ['cross_product', 'crossProduct'],
  wholeView: ['whole_view', 'wholeView'],
} as const satisfies KeySpellings<string>;
export type EntryField = keyof typeof ENTRY_KEYS;

/** Delivery mode names, case-insensitive (Derecho's "Raw" is our unordered). */
const MODE_NAMES: Readonly<Record<string, DeliveryMode>> = {
  ordered: 'ordered',
  raw: 'unordered',
  unordered: 'unordered',
  persistent: 'persistent',
};

/** The per-shard lists beside min_nodes_by_shard, in the order their shapes are checked. */
const PER_SHARD_LISTS = ['max', 'reserved', 'modes', 'profiles'] as const satisfies readonly SubgroupField[];

export class LayoutJsonReader {
  readonly issues: LayoutIssue[] = [];
  /** `${scope}/${field}` -> the key the user wrote for it (scope: `t` for an entry, `t/g` for a subgroup). */
  private readonly usedKeys = new Map<string, string>();

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** The key the user wrote for `field` in `scope`, or `fallback` when it wrote none. */
  keyOf(scope: string, field: string, fallback: string): string {
    return this.usedKeys.get(`${scope}/${field}`) ?? fallback;
  }

  /** Whether the user wrote `field` in `scope`. */
  wrote(scope: string, field: string): boolean {
    return this.usedKeys.has(`${scope}/${field}`);
  }

  /** Reads each canonical field written in either spelling; reports unknown and doubled keys. */
  readKeys<F extends string>(obj: JsonObject, path: string, keys: KeySpellings<F>, scope: string): Partial<Record<F, unknown>> {
    const out: Partial<Record<F, unknown>> = {};
    const known = new Map<string, F>();
    for (const field of Object.keys(keys) as F[]) for (const k of keys[field]) known.set(k, field);
    for (const [k, v] of Object.entries(obj)) {
      const field = known.get(k);
      if (field === undefined) {
        this.add(`${path}.${k}`, `unknown key${didYouMean(k, known.keys())}`);
        continue;
      }
      if (field in out) {
        this.add(`${path}.${k}`, `given twice (as "${this.usedKeys.get(`${scope}/${field}`)}" and "${k}")`);
        continue;
      }
      out[field] = v;
      this.usedKeys.set(`${scope}/${field}`, k);
    }
    return out;
  }

  /** Reports every key of `obj` not in `allowed`, with a suggestion. */
  unknownKeys(obj: JsonObject, path: string, allowed: readonly string[]): void {
    for (const k of Object.keys(obj)) if (!allowed.includes(k)) this.add(`${path}.${k}`, `unknown key${didYouMean(k, allowed)}`);
  }

  count(v: unknown, path: string): number {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1) return v;
    if (typeof v === 'string' && /^[0-9]+$/.test(v) && Number(v) >= 1) return Number(v);
    this.add(path, `expected a positive integer (or a string of digits), got ${show(v)}`);
    return Number.NaN;
  }

  mode(v: unknown, path: string): DeliveryMode {
    const mode = typeof v === 'string' ? MODE_NAMES[v.toLowerCase()] : undefined;
    if (mode === undefined) this.add(path, `expected "Ordered", "Raw", "Unordered" or "Persistent", got ${show(v)}`);
    return mode ?? 'ordered';
  }

  profile(v: unknown, path: string): string {
    if (typeof v !== 'string' || v === '') {
      this.add(path, `expected a non-empty profile name, got ${show(v)}`);
      return DEFAULT_PROFILE;
    }
    // Derecho's profile section for unnamed shards is "DEFAULT"; ours is the base multicast settings.
    return v.toLowerCase() === DEFAULT_PROFILE ? DEFAULT_PROFILE : v;
  }

  ref(v: unknown, path: string): SubgroupRef {
    if (!isJsonObject(v)) {
      this.add(path, `expected { "type": <type alias>, "index": <subgroup index> }, got ${show(v)}`);
      return { type: '', index: 0 };
    }
    this.unknownKeys(v, path, ['type', 'index']);
    const index = v.index ?? 0;
    if (typeof v.type !== 'string' || v.type === '') this.add(`${path}.type`, `expected a type alias, got ${show(v.type)}`);
    if (!(typeof index === 'number' && Number.isSafeInteger(index) && index >= 0)) this.add(`${path}.index`, `expected an integer ≥ 0, got ${show(index)}`);
    return { type: typeof v.type === 'string' ? v.type : '', index: typeof index === 'number' ? index : 0 };
  }

  /** `mode` and `profile` of a cross-product or whole-view entry, both optional. */
  modeAndProfile(obj: JsonObject, path: string, allowed: readonly string[]): { mode: DeliveryMode; profile: string } {
    this.unknownKeys(obj, path, allowed);
    return {
      mode: obj.mode === undefined ? 'ordered' : this.mode(obj.mode, `${path}.mode`),
      profile: obj.profile === undefined ? DEFAULT_PROFILE : this.profile(obj.profile, `${path}.profile`),
    };
  }

  /** One shard's reserved ids: numbers, or strings like "3", or "*3" for a sender. */
  reservedIds(ids: unknown, path: string): { reservedNodeIds: number[]; reservedSenderIds: number[] } {
    const reservedNodeIds: number[] = [];
    const reservedSenderIds: number[] = [];
    if (!Array.isArray(ids)) {
      this.add(path, `expected an array of node ids (numbers, or strings like "3" or "*3" for a sender), got ${show(ids)}`);
      return { reservedNodeIds, reservedSenderIds };
    }
    ids.forEach((raw, k) => {
      const sender = typeof raw === 'string' && raw.startsWith('*');
      const text = sender ? (raw as string).slice(1) : raw;
      const id = typeof text === 'number' ? text : typeof text === 'string' && /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(id) || id < 0 || id > 0xffffffff) {
        this.add(`${path}[${k}]`, `expected a node id (an integer from 0 to 4294967295, "*" in front for a sender), got ${show(raw)}`);
        return;
      }
      reservedNodeIds.push(id);
      if (sender) reservedSenderIds.push(id);
    });
    return { reservedNodeIds, reservedSenderIds };
  }

  /** One subgroup object: its shards, one per entry of min_nodes_by_shard. */
  subgroup(v: unknown, path: string, scope: string): { shards: ShardPolicy[] } {
    if (!isJsonObject(v)) {
      this.add(path, `expected a subgroup object with "min_nodes_by_shard" etc., got ${show(v)}`);
      return { shards: [] };
    }
    const f = this.readKeys(v, path, SUBGROUP_KEYS, scope);
    const at = (field: SubgroupField): string => `${path}.${this.keyOf(scope, field, SUBGROUP_KEYS[field][0])}`;
    if (f.min === undefined) {
      this.add(at('min'), 'required (one entry per shard)');
      return { shards: [] };
    }
    if (!Array.isArray(f.min) || f.min.length === 0) {
      this.add(at('min'), `expected a non-empty array (one entry per shard), got ${show(f.min)}`);
      return { shards: [] };
    }
    const mins = f.min;
    const lists: Partial<Record<SubgroupField, unknown[]>> = {};
    for (const field of PER_SHARD_LISTS) lists[field] = this.perShardList(f[field], at(field), mins.length, this.keyOf(scope, 'min', SUBGROUP_KEYS.min[0]));
    const { max, reserved, modes, profiles } = lists;
    return {
      shards: mins.map((min, s): ShardPolicy => {
        // Read in this order, so problems are listed as the keys come in a shard.
        const minNodes = this.count(min, `${at('min')}[${s}]`);
        const maxNodes = max === undefined ? minNodes : this.count(max[s], `${at('max')}[${s}]`);
        const ids = reserved === undefined ? { reservedNodeIds: [], reservedSenderIds: [] } : this.reservedIds(reserved[s], `${at('reserved')}[${s}]`);
        const mode = modes === undefined ? 'ordered' : this.mode(modes[s], `${at('modes')}[${s}]`);
        const profile = profiles === undefined ? DEFAULT_PROFILE : this.profile(profiles[s], `${at('profiles')}[${s}]`);
        return { minNodes, maxNodes, mode, profile, reservedNodeIds: ids.reservedNodeIds, reservedSenderIds: ids.reservedSenderIds };
      }),
    };
  }

  /** A per-shard list beside min_nodes_by_shard (`minKey`, with `count` entries), or undefined when absent or the wrong shape. */
  private perShardList(list: unknown, path: string, count: number, minKey: string): unknown[] | undefined {
    if (list === undefined) return undefined;
    if (!Array.isArray(list)) {
      this.add(path, `expected an array with one entry per shard, got ${show(list)}`);
      return undefined;
    }
    if (list.length !== count) {
      this.add(path, `has ${list.length} entries but ${minKey} has ${count}; every per-shard list needs one entry per shard`);
      return undefined;
    }
    return list;
  }
}
