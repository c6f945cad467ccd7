/** Subgroup and shard layout: specs, constructors, JSON layouts, and the default allocator. */
export {
  DELIVERY_MODES,
  DEFAULT_PROFILE,
  type ShardPolicy,
  type SubgroupPolicy,
  type ShardedLayout,
  type SubgroupRef,
  type CrossProductLayout,
  type WholeViewLayout,
  type TypeLayout,
  type TypeLayoutEntry,
  type GroupLayout,
} from './spec.js';
export {
  shards,
  fixedShards,
  customShards,
  shardPolicy,
  subgroups,
  identicalSubgroups,
  crossProduct,
  wholeView,
  type ShardsOptions,
  type FixedShardsOptions,
  type ShardOptions,
  type CrossProductOptions,
} from './constructors.js';
export { LayoutSpecError, InadequateLayoutError, formatIssue, type LayoutIssue } from './errors.js';
export { validateGroupLayout, layoutIssues, codePathNamer, MAX_NODE_ID, type LayoutPathNamer, type ValidateOptions } from './validate.js';
export { parseLayoutJson, bindLayoutTypes, layoutFromJson, positionalTypeName, type ParsedLayout } from './json.js';
export { SubgroupAllocator, allocateSubgroups } from './allocate.js';
export { numberSubgroups, subgroupShards, placementsOf, type Allocation, type TypeAllocation, type NumberedSubgroup } from './allocation.js';
export { resolveGroupLayout, type TypeWithLayout } from './group-layout.js';
