export { InvariantViolation, invariant } from './core/invariant.js';
export { type Version, INVALID_VERSION, makeVersion, versionVid, versionSeq, formatVersion } from './core/version.js';
export { type Hlc, HLC_ZERO, hlc, compareHlc, nextHlc, mergeHlc, formatHlc } from './core/hlc.js';
export { type DeliveryMode, type ShardLayout } from './core/view.js';
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
export {
  type Codec,
  msgpackCodec,
  type DeltaSupport,
  type DeltaForm,
  PersistentError,
  VersionOrderError,
  VersionNotFoundError,
  NotStableError,
  NoVersionAtTimeError,
  CorruptLogError,
  type FileLogOptions,
  type RecoveryReport,
  PersistentRegistry,
  type RegistryOptions,
  VersionedField,
  type VersionedFieldHandle,
  Persistent,
  Volatile,
  type VersionedOptions,
} from './persistent/index.js';
