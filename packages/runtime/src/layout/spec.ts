/**
 * Layout specs: how each replicated type is split into subgroups and shards (Derecho's
 * `SubgroupAllocationPolicy` / `ShardAllocationPolicy` / `CrossProductPolicy`). Specs are plain
 * data (the constructors freeze theirs), so they come from code (`shards(...)`) or from JSON
 * (`./json.ts`) alike.
 */
import type { DeliveryMode } from '../core/view.js';

export const DELIVERY_MODES: readonly DeliveryMode[] = ['ordered', 'unordered', 'persistent'];

/** The profile a shard uses when none is named: the deployment's own `multicast` settings. */
export const DEFAULT_PROFILE = 'default';

/** One shard's policy. */
export interface ShardPolicy {
  readonly minNodes: number;
  /** A shard never grows past this, except to take in its reserved ids when they are present. */
  readonly maxNodes: number;
  readonly mode: DeliveryMode;
  readonly profile: string;
  /** Ids that always go to this shard when they are members (reserving an id in shards of two
   * different subgroups makes those subgroups overlap on it). */
  readonly reservedNodeIds: readonly number[];
  /** If non-empty, only these reserved ids may send in this shard; every other member only receives. */
  readonly reservedSenderIds: readonly number[];
}

export interface SubgroupPolicy {
  readonly shards: readonly ShardPolicy[];
}

/** The common case: the type has one or more subgroups, each split into shards. */
export interface ShardedLayout {
  readonly kind: 'sharded';
  readonly subgroups: readonly SubgroupPolicy[];
}

/** Names subgroup `index` of the type named `type` (position in that type's subgroup list). */
export interface SubgroupRef {
  readonly type: string;
  readonly index: number;
}

/**
 * Derecho's cross-product: for every member m of the source subgroup and every shard j of the
 * target subgroup, a one-shard subgroup {m} ∪ target shard j in which only m sends. The source
 * member of rank i (counting across its shards) reaches target shard j through subgroup i*T + j.
 */
export interface CrossProductLayout {
  readonly kind: 'crossProduct';
  readonly source: SubgroupRef;
  readonly target: SubgroupRef;
  readonly mode: DeliveryMode;
  readonly profile: string;
}

/** Derecho's `one_subgroup_entire_view`: one subgroup, one shard, every member of the view. */
export interface WholeViewLayout {
  readonly kind: 'wholeView';
  readonly mode: DeliveryMode;
  readonly profile: string;
}

export type TypeLayout = ShardedLayout | CrossProductLayout | WholeViewLayout;

/** One replicated type's layout; `type` names it (the class name, or a JSON `type_alias`). */
export interface TypeLayoutEntry {
  readonly type: string;
  readonly layout: TypeLayout;
}

/** The whole group's layout: one entry per replicated type, in the group's type order. */
export type GroupLayout = readonly TypeLayoutEntry[];
