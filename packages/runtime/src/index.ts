export { InvariantViolation, invariant } from './core/invariant.js';
export { type Version, INVALID_VERSION, makeVersion, versionVid, versionSeq, formatVersion } from './core/version.js';
export { type Hlc, HLC_ZERO, hlc, compareHlc, nextHlc, mergeHlc, formatHlc } from './core/hlc.js';
export {
  type DeliveryMode,
  type ShardLayout,
  type MulticastParams,
  type SubgroupLayout,
  type ViewLayout,
  type MyShard,
  findMyShard,
  validateViewLayout,
} from './core/view.js';
export { SstLayout, type ByteRange, type Column, type ColumnName, type SubgroupColumns, HEADER_BYTES, SLOT_SIZE_FIELD_BYTES } from './core/sst-layout.js';
export { SstTable, initializeSstTable, applyRemoteWrite } from './core/sst-table.js';
export { type MessageHeader, readHeader, writeHeader, encodeMessage, decodeMessage } from './core/message-header.js';
export { PredicateEngine, type PredicateKind, type PredicateHandle } from './core/predicates.js';
export type { CoreInput, CoreOutput, PushOutput, RdmcSendOutput, DeliverOutput, PersistOutput, GlobalPersistedOutput } from './core/core-io.js';
export { MulticastCore, type MulticastCoreOptions } from './core/multicast-core.js';
export { ShardMulticast, type UndeliveredSend } from './core/shard-multicast.js';
export { Prng } from './sim/prng.js';
export { EventQueue } from './sim/event-queue.js';
export { SimNetwork, type NetworkOptions } from './sim/network.js';
export { SimCluster, type SimClusterOptions, type SimObserver } from './sim/sim-cluster.js';
export { MulticastChecker, CheckFailure } from './sim/checkers.js';
export { runSwarmSeed, generateScenario, describeScenario, SwarmSeedFailure, type Scenario, type SwarmOptions, type SwarmResult } from './sim/swarm.js';
export * from './layout/index.js';
export * from './config/index.js';
export { Replicated, Ordered, P2P, type ReplicatedOptions, type MethodOptions, type ReplicatedClassDecorator, type ReplicatedMethodDecorator } from './replicated/decorators.js';
export { getReplicatedMetadata, isReplicatedClass, type ReplicatedMetadata, type DecoratorDialect } from './replicated/metadata.js';
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
  OrderedStub,
  P2PStub,
} from './replicated/types.js';
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
export { SchemaCodec, WireTypeError, createPackr, type MethodCodec } from './rpc/marshal.js';
export { Group, type GroupJoinOptions, type GroupEvents, type RawSubgroupSpec, type TypedSubgroupSpec, type SubgroupSpec, type ReplicatedClass } from './replicated/group.js';
export type { ReplicatedHandle, PeerCaller } from './replicated/typed-subgroup.js';
export { StaleSchemaError } from './replicated/schema-check.js';
export { currentVersion, type AppliedVersion } from './rpc/current-version.js';
export { RemoteError, NodeRemovedError, SenderRemovedError, InvalidNodeError, RpcWireError } from './rpc/rpc-errors.js';
export { RawSubgroup, type RawDelivery, type RawSubgroupEvents } from './replicated/raw-subgroup.js';
export { NotAMemberError, UnknownSubgroupError, GroupClosedError, InadequateViewError } from './replicated/errors.js';
export { JoinError, BUILD_HASH, buildHashWithSchema } from './driver/group-node.js';
export type { GroupView, GroupSubgroup, MemberAddress } from './core/membership/group-view.js';
export {
  type Codec,
  msgpackCodec,
  type DeltaSupport,
  type DeltaForm,
  PersistentError,
  VersionOrderError,
  VersionNotFoundError,
  VersionTrimmedError,
  NotStableError,
  NoVersionAtTimeError,
  TimeTrimmedError,
  CorruptLogError,
  DirectoryLockedError,
  type FileLogOptions,
  type RecoveryReport,
  PersistentRegistry,
  type RegistryOptions,
  VersionedField,
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
  type RetentionPolicy,
  type CompactionReport,
} from './persistent/index.js';
export type { ViewChange, ShardPlacement } from './core/membership/view-change.js';
