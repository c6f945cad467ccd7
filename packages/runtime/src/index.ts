export { InvariantViolation, invariant } from './core/invariant.js';
export { type Version, INVALID_VERSION, makeVersion, versionVid, versionSeq, formatVersion } from './core/version.js';
export { type Hlc, HLC_ZERO, hlc, compareHlc, nextHlc, mergeHlc, formatHlc } from './core/hlc.js';
export { type DeliveryMode, type ShardLayout } from './core/view.js';
export * from './layout/index.js';
export * from './config/index.js';
