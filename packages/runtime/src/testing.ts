/**
 * `@derecho-ts/runtime/testing`: helpers for tests and benchmarks that run real local groups
 * (one process per member on loopback). Not part of the application API.
 */
export { runLocalMulticast, senderIdsFor, type MulticastRunOptions } from './cli/multicast-run.js';
export type { MulticastMemberResult, MulticastMemberTask } from './cli/multicast-member.js';
export { fillPayload } from './cli/payload-pattern.js';
export { freeLoopbackPorts } from './cli/local-ports.js';
export { rawPingPongUs, rawStreamGBps, percentile } from './cli/loopback-limits.js';
export { measureMarshalCost, type MarshalBenchFigure, type MarshalBenchOptions } from './rpc/marshal-bench.js';
export { measureRpcLayerCost, type RpcLayerBenchOptions, type RpcLayerFigure } from './rpc/rpc-layer-bench.js';
export { parseBenchArgs, intArg, BenchUsageError, type ParsedBenchArgs } from './cli/bench-args.js';
export { onLines, spawnLineProcess, type LineProcess } from './cli/line-process.js';
