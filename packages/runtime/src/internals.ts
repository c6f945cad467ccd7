/**
 * `@derecho-ts/runtime/internals`: the protocol core, the SST, the simulator and its checkers, and
 * the helpers the tests and benchmarks use (local process groups, loopback limits, the command
 * conventions). Not the application API (that is `@derecho-ts/runtime`) and not stable: these
 * change with the implementation.
 */
export { invariant } from './core/invariant.js';
export { nextHlc, mergeHlc } from './core/hlc.js';
export { type MulticastParams, type SubgroupLayout, type ViewLayout, type MyShard, findMyShard, validateViewLayout } from './core/view.js';
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
// Everything of layout/ and config/ (validation, JSON parsing, allocation, overrides, suggestions);
// the public entry point picks the constructors, types and loading.
export * from './layout/index.js';
export * from './config/index.js';
export { getReplicatedMetadata, isReplicatedClass, type ReplicatedMetadata, type DecoratorDialect } from './replicated/metadata.js';
export { SchemaCodec, createPackr, type MethodCodec } from './rpc/marshal.js';
export { BUILD_HASH, buildHashWithSchema } from './driver/group-node.js';
export { hasDeltaSupport, FileLog, MemoryLog, FORMAT_VERSION, PersistentRegistry, type RegistryOptions, VersionedField } from './persistent/index.js';
export { RestartLog, RESTART_LOG_FILE_NAME, type LoggedTrim, type RestartLogContent } from './persistent/restart-log.js';

// Local process groups, loopback limits and benchmark figures, for tests and benchmarks.
export { runLocalMulticast, senderIdsFor, type MulticastRunOptions } from './bench/multicast-run.js';
export type { MulticastMemberResult, MulticastMemberTask } from './bench/multicast-member.js';
export { fillPayload } from './bench/payload-pattern.js';
export { freeLoopbackPorts } from './bench/local-ports.js';
export { rawPingPongUs, rawStreamGBps, percentile } from './bench/loopback-limits.js';
export { measureMarshalCost, type MarshalBenchFigure, type MarshalBenchOptions } from './bench/marshal.js';
export { measureRpcLayerCost, type RpcLayerBenchOptions, type RpcLayerFigure } from './bench/rpc-layer.js';
export { parseCommand, intValue, numberValue, printUsage, runCommand, subcommands, program, main, packageVersion, UsageError, EXIT_CODES_HELP, type Command, type Subcommand, type OptionSpec, type OptionSpecs, type ParsedCommand } from './cli/command.js';
export { onLines, spawnLineProcess, type LineProcess } from './bench/line-process.js';
