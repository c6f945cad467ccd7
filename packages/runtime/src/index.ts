/**
 * `@derecho-ts/runtime`: what an application needs. Join a group (`Group.join`), declare replicated
 * classes (`@Replicated`, `@Ordered`, `@P2P`, `Persistent`/`Volatile` fields), lay out subgroups
 * and shards (`shards`, `customShards`, ...), load the configuration, and the errors calls and
 * joins can end with. The protocol core, the simulator, the SST and the helpers of tests and
 * benchmarks are in `@derecho-ts/runtime/internals`: no stability promise there.
 */
export { InvariantViolation } from './core/invariant.js';
export { type Version, INVALID_VERSION, makeVersion, versionVid, versionSeq, formatVersion } from './core/version.js';
export { type Hlc, HLC_ZERO, hlc, compareHlc, formatHlc } from './core/hlc.js';
export type { DeliveryMode, ShardLayout } from './core/view.js';
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
  LayoutSpecError,
  InadequateLayoutError,
  type LayoutIssue,
  layoutFromJson,
} from './layout/index.js';
export {
  type DerechoConfig,
  type LogSigningConfig,
  type TlsFiles,
  type MulticastProfile,
  type SendAlgorithm,
  type LogLevel,
  type HostPort,
  ConfigError,
  type ConfigIssue,
  loadConfig,
  resolveConfig,
  resolveAddresses,
  type ResolveIpv4,
  type LoadConfigOptions,
  NODE_OPTIONS,
  type NodeOption,
  CONFIG_FLAG,
  CONFIG_ENV,
  SET_FLAG,
  JsonSyntaxError,
} from './config/index.js';
export { Replicated, Ordered, P2P, type ReplicatedOptions, type MethodOptions, type ReplicatedClassDecorator, type ReplicatedMethodDecorator } from './replicated/decorators.js';
export type {
  NodeId,
  ReplicatedRegistry,
  ReplicatedRegistryEntry,
  QueryResults,
  ReplicatedName,
  RegistryEntryOf,
  RegisteredInstance,
  OrderedMethodName,
  P2PMethodName,
  NotRegistered,
  OrderedStubOf,
  P2PStubOf,
  P2PMethodsOf,
  HistoryStubOf,
  HistoricalReads,
  OrderedStub,
  P2PStub,
} from './replicated/types.js';
export type { HistoryEntry, HistoryRange, TimeLike } from './rpc/historical-read.js';
export {
  defineWireSchema,
  type WireType,
  type WireProperty,
  type WireParameter,
  type WireMethod,
  type WireClass,
  type WireSchema,
  type WireClassConstructor,
  type WireClassTable,
} from './rpc/marshal-schema.js';
export { WireTypeError } from './rpc/marshal.js';
export { Group, type GroupSnapshot, type GroupJoinOptions, type GroupEvents, type RawSubgroupSpec, type TypedSubgroupSpec, type SubgroupSpec, type ReplicatedClass } from './replicated/group.js';
export type { ReplicatedHandle, PeerCaller } from './replicated/typed-subgroup.js';
export type { SnapshotShard, SnapshotOptions } from './replicated/snapshot.js';
export { StaleSchemaError } from './replicated/schema-check.js';
export { currentVersion, type AppliedVersion } from './rpc/current-version.js';
export { RemoteError, NodeRemovedError, SenderRemovedError, InvalidNodeError, RpcWireError, HistoricalReadError, DuplicateCallError, type HistoricalRefusal } from './rpc/rpc-errors.js';
export type { CallId } from './rpc/call-id.js';
export { isCallError, type CallError, type CallPromise } from './rpc/call-errors.js';
export { RawSubgroup, type RawDelivery, type RawSubgroupEvents } from './replicated/raw-subgroup.js';
export { NotAMemberError, UnknownSubgroupError, GroupClosedError, InadequateViewError } from './replicated/errors.js';
export { JoinError, type GroupNodeStats } from './driver/group-node.js';
export type { ShellStats } from './shell/member-shell.js';
export type { MemberShutdownReason as ShutdownReason } from './core/member/member-io.js';
export type { GroupView, GroupSubgroup, MemberAddress, SubgroupParams } from './core/membership/group-view.js';
export type { ViewChange, ShardPlacement } from './core/membership/view-change.js';
export {
  type Codec,
  msgpackCodec,
  type DeltaSupport,
  type DeltaForm,
  PersistentError,
  VersionOrderError,
  VersionNotFoundError,
  VersionTrimmedError,
  VersionNotStableError,
  NotStableError,
  NoVersionAtTimeError,
  TimeTrimmedError,
  CorruptLogError,
  DirectoryLockedError,
  RestartLogError,
  type FileLogOptions,
  type RecoveryReport,
  type VersionedFieldHandle,
  Persistent,
  Volatile,
  type VersionedOptions,
  PersistentMap,
  PersistentSet,
  PersistentLog,
  VersionedMap,
  VersionedSet,
  VersionedLog,
  type CollectionOptions,
  type RecordsChanges,
  type RetentionPolicy,
  type CompactionReport,
  LogSignatureError,
  LogSigningConfigError,
  type VerifyReport,
} from './persistent/index.js';
export type { Disk, DiskFile, DiskOpenMode } from './io/disk.js';
