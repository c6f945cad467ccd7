export { InvariantViolation, invariant } from './core/invariant.js';
export { type Version, INVALID_VERSION, makeVersion, versionVid, versionSeq, formatVersion } from './core/version.js';
export { type Hlc, HLC_ZERO, hlc, compareHlc, nextHlc, mergeHlc, formatHlc } from './core/hlc.js';
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
