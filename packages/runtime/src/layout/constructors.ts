/**
 * Layout constructors for code: `shards({ count: 2, minNodes: 2, maxNodes: 3, mode: 'persistent' })`
 * and friends (Derecho's `flexible_even_shards`, `fixed_even_shards`, `custom_shards_policy`,
 * `identical_subgroups_policy`, `CrossProductPolicy`, `one_subgroup_entire_view`). Each validates
 * what it builds and throws LayoutSpecError naming the bad argument, so a mistake surfaces where
 * it was written rather than at the first view change.
 */
import type { DeliveryMode } from '../core/view.js';
import { LayoutSpecError, type LayoutIssue } from './errors.js';
import { show } from './show.js';
import {
  DEFAULT_PROFILE,
  type CrossProductLayout,
  type ShardPolicy,
  type ShardedLayout,
  type SubgroupRef,
  type TypeLayout,
  type WholeViewLayout,
} from './spec.js';
import { layoutIssues, type LayoutPathNamer } from './validate.js';

function fail(issues: readonly LayoutIssue[]): void {
  if (issues.length > 0) throw new LayoutSpecError(issues);
}

/** Paths for a constructor's own arguments: `shards({ maxNodes })`, `customShards([1].mode)`. */
function argumentNamer(describe: (s: number, field: string) => string): LayoutPathNamer {
  return {
    type: () => 'type',
    subgroups: () => 'subgroups',
    shards: () => 'shards',
    shardField: (_t, _g, s, field) => describe(s, field),
    entryField: (_t, field) => describe(0, field),
  };
}

function check(layout: TypeLayout, namer: LayoutPathNamer, extra: LayoutIssue[] = []): void {
  fail([...extra, ...layoutIssues([{ type: 'self', layout }], { standalone: true, paths: namer })]);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export interface ShardsOptions {
  /** Number of shards (default 1). */
  readonly count?: number;
  readonly minNodes: number;
  /** Default: `minNodes` (fixed-size shards). */
  readonly maxNodes?: number;
  /** Default: 'ordered'. */
  readonly mode?: DeliveryMode;
  /** Default: 'default' (the deployment's `multicast` settings). */
  readonly profile?: string;
}

/**
 * One subgroup of `count` identical shards, each with between `minNodes` and `maxNodes` members
 * (Derecho's `flexible_even_shards`; `fixed_even_shards` when maxNodes is omitted).
 */
export function shards(options: ShardsOptions): ShardedLayout {
  const { count = 1, minNodes, maxNodes = minNodes, mode = 'ordered', profile = DEFAULT_PROFILE } = options ?? {};
  const shard: ShardPolicy = { minNodes, maxNodes, mode, profile, reservedNodeIds: [], reservedSenderIds: [] };
  const countOk = Number.isSafeInteger(count) && count >= 1;
  const countIssues = countOk ? [] : [{ path: 'shards({ count })', message: `expected a positive integer, got ${show(count)}` }];
  // Every shard is the same, so check one and name the argument rather than a shard index. An
  // omitted maxNodes is minNodes: a bad minNodes is then reported once.
  const issues = layoutIssues([{ type: 'self', layout: { kind: 'sharded', subgroups: [{ shards: [shard] }] } }], {
    standalone: true,
    paths: argumentNamer((_s, f) => `shards({ ${f} })`),
  }).filter((issue) => options.maxNodes !== undefined || issue.path !== 'shards({ maxNodes })');
  fail([...countIssues, ...issues]);
  return deepFreeze({ kind: 'sharded', subgroups: [{ shards: Array.from({ length: count }, () => shard) }] });
}

export interface FixedShardsOptions {
  readonly count?: number;
  readonly nodes: number;
  readonly mode?: DeliveryMode;
  readonly profile?: string;
}

/** One subgroup of `count` shards of exactly `nodes` members (Derecho's `fixed_even_shards`). */
export function fixedShards(options: FixedShardsOptions): ShardedLayout {
  const { nodes, count = 1, mode = 'ordered', profile = DEFAULT_PROFILE } = options ?? {};
  const shard: ShardPolicy = { minNodes: nodes, maxNodes: nodes, mode, profile, reservedNodeIds: [], reservedSenderIds: [] };
  const countOk = Number.isSafeInteger(count) && count >= 1;
  const countIssues = countOk ? [] : [{ path: 'fixedShards({ count })', message: `expected a positive integer, got ${show(count)}` }];
  const field = (f: string): string => (f === 'minNodes' || f === 'maxNodes' ? 'nodes' : f);
  const namer = argumentNamer((_s, f) => `fixedShards({ ${field(f)} })`);
  // minNodes and maxNodes are both `nodes`: report it once.
  const issues = layoutIssues([{ type: 'self', layout: { kind: 'sharded', subgroups: [{ shards: [shard] }] } }], {
    standalone: true,
    paths: namer,
  }).filter((issue, i, all) => all.findIndex((other) => other.path === issue.path) === i);
  fail([...countIssues, ...issues]);
  return deepFreeze({ kind: 'sharded', subgroups: [{ shards: Array.from({ length: count }, () => shard) }] });
}

export interface ShardOptions {
  readonly minNodes: number;
  /** Default: minNodes. */
  readonly maxNodes?: number;
  readonly mode?: DeliveryMode;
  readonly profile?: string;
  /** Ids that always join this shard when they are members. */
  readonly reservedNodeIds?: readonly number[];
  /** If given, only these (reserved) ids send in this shard. */
  readonly reservedSenderIds?: readonly number[];
}

/** A ShardPolicy with defaults filled in (unvalidated; the layout constructors validate). */
export function shardPolicy(options: ShardOptions): ShardPolicy {
  return {
    minNodes: options.minNodes,
    maxNodes: options.maxNodes ?? options.minNodes,
    mode: options.mode ?? 'ordered',
    profile: options.profile ?? DEFAULT_PROFILE,
    reservedNodeIds: options.reservedNodeIds === undefined ? [] : [...options.reservedNodeIds],
    reservedSenderIds: options.reservedSenderIds === undefined ? [] : [...options.reservedSenderIds],
  };
}

/** One subgroup whose shards differ (Derecho's `custom_shards_policy`, plus reserved ids). */
export function customShards(shardOptions: readonly ShardOptions[]): ShardedLayout {
  if (!Array.isArray(shardOptions) || shardOptions.length === 0) {
    fail([{ path: 'customShards(shards)', message: `expected a non-empty array of shard options, got ${show(shardOptions)}` }]);
  }
  const layout: ShardedLayout = { kind: 'sharded', subgroups: [{ shards: shardOptions.map(shardPolicy) }] };
  check(layout, argumentNamer((s, f) => `customShards([${s}].${f})`));
  return deepFreeze(layout);
}

/** Several subgroups of one type, the i-th laid out by `layouts[i]` (their subgroups concatenated). */
export function subgroups(...layouts: readonly ShardedLayout[]): ShardedLayout {
  const issues: LayoutIssue[] = [];
  if (layouts.length === 0) issues.push({ path: 'subgroups()', message: 'expected at least one layout' });
  layouts.forEach((l, i) => {
    if (l?.kind !== 'sharded') {
      issues.push({ path: `subgroups(#${i})`, message: `expected a layout from shards(), fixedShards() or customShards(), got ${show(l)}` });
    }
  });
  fail(issues);
  return deepFreeze({ kind: 'sharded', subgroups: layouts.flatMap((l) => l.subgroups) });
}

/** `count` subgroups of one type with the same layout (Derecho's `identical_subgroups_policy`). */
export function identicalSubgroups(count: number, layout: ShardedLayout): ShardedLayout {
  if (!Number.isSafeInteger(count) || count < 1) {
    fail([{ path: 'identicalSubgroups(count)', message: `expected a positive integer, got ${show(count)}` }]);
  }
  return subgroups(...Array.from({ length: count }, () => layout));
}

export interface CrossProductOptions {
  readonly source: SubgroupRef;
  readonly target: SubgroupRef;
  readonly mode?: DeliveryMode;
  readonly profile?: string;
}

/**
 * Cross-product subgroups of a source and a target subgroup (see CrossProductLayout). The types
 * named are checked when the whole group layout is validated.
 */
export function crossProduct(options: CrossProductOptions): CrossProductLayout {
  const layout: CrossProductLayout = {
    kind: 'crossProduct',
    source: options?.source === undefined ? options?.source : { ...options.source },
    target: options?.target === undefined ? options?.target : { ...options.target },
    mode: options?.mode ?? 'ordered',
    profile: options?.profile ?? DEFAULT_PROFILE,
  };
  check(layout, argumentNamer((_s, f) => `crossProduct({ ${f} })`));
  return deepFreeze(layout);
}

/** One subgroup holding every member of the view (Derecho's `one_subgroup_entire_view[_raw]`). */
export function wholeView(options: { readonly mode?: DeliveryMode; readonly profile?: string } = {}): WholeViewLayout {
  const layout: WholeViewLayout = {
    kind: 'wholeView',
    mode: options.mode ?? 'ordered',
    profile: options.profile ?? DEFAULT_PROFILE,
  };
  check(layout, argumentNamer((_s, f) => `wholeView({ ${f} })`));
  return deepFreeze(layout);
}
