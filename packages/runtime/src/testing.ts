/**
 * `@derecho-ts/runtime/testing`: helpers for tests and benchmarks that run real local groups
 * (one process per member on loopback). Not part of the application API.
 */
export { runLocalMulticast, senderIdsFor, type MulticastRunOptions } from './bench/multicast-run.js';
export type { MulticastMemberResult, MulticastMemberTask } from './bench/multicast-member.js';
export { fillPayload } from './bench/payload-pattern.js';
export { freeLoopbackPorts } from './bench/local-ports.js';
export { rawPingPongUs, rawStreamGBps, percentile } from './bench/loopback-limits.js';
export { measureMarshalCost, type MarshalBenchFigure, type MarshalBenchOptions } from './bench/marshal.js';
export { measureRpcLayerCost, type RpcLayerBenchOptions, type RpcLayerFigure } from './bench/rpc-layer.js';
export { parseCommand, intValue, numberValue, printUsage, runCommand, subcommands, program, main, packageVersion, UsageError, EXIT_CODES_HELP, type Command, type Subcommand, type OptionSpec, type OptionSpecs, type ParsedCommand } from './cli/command.js';
export { onLines, spawnLineProcess, type LineProcess } from './bench/line-process.js';
