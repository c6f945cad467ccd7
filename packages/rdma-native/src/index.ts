/**
 * @derecho-ts/rdma-native: the native data plane (SST puts, RDMC, P2P, failure signals) behind a
 * typed facade. The transport is a compiled-in provider (`providers`); today that is `tcp`.
 */
import { loadAddon } from './addon.js';

export { loadAddon } from './addon.js';
export { Endpoint, ANY_NODE, type PollListener } from './endpoint.js';
export { Region } from './region.js';
export { RdmcGroup } from './rdmc-group.js';
export { childScriptArgs } from './child-script.js';
export { DevPki, devPkiUnavailableReason, type NodeCredentials } from './dev-pki.js';
export * from './errors.js';
export type * from './types.js';

/** The providers compiled into this build of the addon. */
export const providers: readonly string[] = Object.freeze([...loadAddon().providers]);
export { runFabricBench, type FabricBenchOptions, type FabricBenchResult, type LatencyFigures } from './bench/fabric-bench.js';
