export { type Codec, msgpackCodec } from './codec.js';
export { type DeltaSupport, type DeltaForm, hasDeltaSupport } from './delta.js';
export { PersistentError, VersionOrderError, VersionNotFoundError, NotStableError, NoVersionAtTimeError, CorruptLogError } from './errors.js';
export { DirectoryLockedError } from './dir-lock.js';
export { FileLog, type FileLogOptions, type RecoveryReport } from './file-log.js';
export { MemoryLog } from './memory-log.js';
export { FORMAT_VERSION } from './record-format.js';
export { PersistentRegistry, type RegistryOptions } from './registry.js';
export { VersionedField, type VersionedFieldHandle, Persistent, Volatile, type VersionedOptions } from './versioned.js';
