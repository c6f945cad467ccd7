/**
 * A member process of the group on the real fabric: the shell (../shell/member-shell.ts) over the
 * native endpoint and the wall clock. It builds the protocol's settings from the configuration
 * (allocators, timeouts, the contact), opens the endpoint, and adapts the restart log's promises
 * to the shell's callbacks; the shell carries out the protocol. Users reach it through `Group`
 * (../replicated); benchmarks and tests may use it directly.
 */
import { Endpoint } from '@derecho-ts/rdma-native';
import type { DerechoConfig } from '../config/schema.js';
import { profileSettings } from '../config/validate.js';
import type { GroupSubgroup, GroupView, MemberAddress, SubgroupParams } from '../core/membership/group-view.js';
import { SubgroupAllocator } from '../layout/allocate.js';
import { numberSubgroups, type NumberedSubgroup } from '../layout/allocation.js';
import { nextViewAllocator } from '../layout/next-view-allocation.js';
import { InadequateLayoutError } from '../layout/errors.js';
import type { GroupLayout } from '../layout/spec.js';
import { MemberShell, type MemberShellEvents, type ShellStats } from '../shell/member-shell.js';
import type { RestartLogHook, TrimRecord } from '../shell/replica-hooks.js';
import { createLogger, type Logger } from '../util/logger.js';
import { wallClock } from './clock.js';
import { EndpointFabric } from './endpoint-fabric.js';
import { uninitializedChunks } from './uninitialized-chunks.js';

export { JoinError } from '../shell/join-error.js';
export { describeOutput } from '../shell/describe-output.js';
export type { PersistenceHandler, StateHandler } from '../shell/replica-hooks.js';

/** Identifies the wire protocol and build; peers with another one are refused in the handshake. */
export const BUILD_HASH = 'derecho-ts/0.1.0';

/**
 * The handshake's build hash for a program with RPC schema `schemaHash`: builds whose generated
 * schemas differ refuse each other. 64 characters, so the fabric's refusal line shows all of it.
 */
export function buildHashWithSchema(schemaHash: string | undefined): string {
  return schemaHash === undefined ? BUILD_HASH : `${BUILD_HASH} schema ${schemaHash.slice(0, 40)}`;
}

export interface GroupNodeOptions {
  readonly config: DerechoConfig;
  /** The group's layout (already resolved against the configuration). */
  readonly layout: GroupLayout;
  /** The leader waits for this many members (itself included) before forming view 0. */
  readonly minMembers?: number;
  /** How long joining may take before it fails; default 30 s. */
  readonly joinTimeoutMs?: number;
  readonly logger?: Logger;
  /** The generated RPC schema's hash (`wireSchema.hash`), made part of the handshake's build hash. */
  readonly schemaHash?: string;
  /**
   * Where installed views and ragged trims go for a total restart (persistent/restart-log.ts),
   * when this node keeps persistent state; without it trims are acknowledged at once.
   */
  readonly restartLog?: RestartLogWriter;
}

/** The part of the restart log a node writes: each append resolves once it is durable, or rejects naming the file. */
export interface RestartLogWriter {
  appendView(view: GroupView): Promise<void>;
  appendTrim(trim: TrimRecord): Promise<void>;
}

export type GroupNodeEvents = MemberShellEvents;
/** Counters of the receive path, for benchmarks that explain where time goes. */
export type GroupNodeStats = ShellStats;

const CONTACT_RETRY_MS = 50;

export class GroupNode extends MemberShell {
  readonly endpoint: Endpoint;
  private readonly config: DerechoConfig;

  private constructor(options: GroupNodeOptions) {
    const { config } = options;
    const log = options.logger ?? createLogger(config.logging.level, { node: config.node.id });
    const allocator = new SubgroupAllocator(options.layout);
    const failureTimeoutUs = config.failure.failureTimeoutMs * 1000;
    const joinTimeoutUs = (options.joinTimeoutMs ?? 30_000) * 1000;
    const me: MemberAddress = { id: config.node.id, host: config.node.host, port: config.node.port };
    const endpoint = Endpoint.open({
      nodeId: config.node.id,
      host: config.node.bindHost,
      port: config.node.port,
      secret: config.cluster.secrets,
      tls: config.security.tls && { ca: config.security.tls.ca, cert: config.security.tls.cert, key: config.security.tls.key },
      buildHash: buildHashWithSchema(options.schemaHash),
      heartbeatTimeoutMs: config.failure.failureTimeoutMs,
      // A blocked event loop is not a failure: the I/O thread acknowledges for it, up to this limit.
      blockedLoopLimitMs: Math.min(config.failure.blockedLoopLimitMs, 0xffffffff),
      // The core emits several pushes per step and a poll batch runs many steps: gather them and
      // write each peer's share once at the end of the task instead of one syscall per put.
      batchPuts: true,
      // SST writes are read on this thread, woken straight by the sockets: one wake-up per
      // arrival instead of two (the I/O thread's, then ours). Measured: 1 KiB latency p50 about
      // 160 -> 110 us, 100-byte throughput up by a tenth. (Off under TLS: the I/O thread decrypts.)
      receiveOnJsThread: true,
    });
    super({
      member: {
        me,
        isContact: isContactAddress(config),
        contact: config.cluster.contact,
        allocateFirst: (ids) => allocateFirstView(allocator, config, log, ids),
        allocateNext: nextViewAllocator(allocator, (sg) => paramsFor(config, sg)),
        minMembers: options.minMembers,
        joinTimeoutUs,
        stateTimeoutUs: joinTimeoutUs,
        retryUs: CONTACT_RETRY_MS * 1000,
        joinRetryUs: JOIN_RETRY_MS * 1000,
        joinerConnectTimeoutUs: INSTALL_CONNECT_TIMEOUT_MS * 1000,
        stallReportUs: STALL_REPORT_TIMEOUTS * failureTimeoutUs,
        heartbeatIntervalUs: config.failure.heartbeatMs * 1000,
        partitionSafety: config.failure.partitionSafety,
        payloadChunks: uninitializedChunks,
      },
      fabric: new EndpointFabric(endpoint),
      clock: wallClock,
      log,
      tickIntervalUs: config.failure.heartbeatMs * 1000,
      connectTimeoutUs: INSTALL_CONNECT_TIMEOUT_MS * 1000,
      restartLog: options.restartLog === undefined ? undefined : restartLogHook(options.restartLog),
    });
    this.endpoint = endpoint;
    this.config = config;
  }

  /** Joins (or, at the contact address, forms) the group; resolves once a view has started here. */
  static async join(options: GroupNodeOptions): Promise<GroupNode> {
    const node = GroupNode.create(options);
    await node.start();
    return node;
  }

  /** Opens the endpoint without joining yet, so callers can subscribe before the first delivery. */
  static create(options: GroupNodeOptions): GroupNode {
    return new GroupNode(options);
  }

  get isLeader(): boolean {
    return isContactAddress(this.config);
  }
}

function isContactAddress(config: DerechoConfig): boolean {
  const { contact } = config.cluster;
  return contact.port === config.node.port && contact.host === config.node.host;
}

/** The subgroups of a candidate view 0, or undefined when it is inadequate. */
function allocateFirstView(allocator: SubgroupAllocator, config: DerechoConfig, log: Logger, memberIds: readonly number[]): GroupSubgroup[] | undefined {
  let allocation;
  try {
    allocation = allocator.allocate(memberIds, undefined);
  } catch (err) {
    if (err instanceof InadequateLayoutError) {
      log.info({ members: memberIds.length }, 'waiting for more members: %s', err.message);
      return undefined;
    }
    throw err;
  }
  return numberSubgroups(allocation).map((sg) => ({
    type: sg.type,
    index: sg.index,
    shards: sg.shards.map((s) => ({ members: s.members, senders: s.senders, mode: s.mode })),
    params: paramsFor(config, sg),
  }));
}

/** The multicast parameters of a subgroup: its shards' profile from the configuration. */
function paramsFor(config: DerechoConfig, sg: NumberedSubgroup): SubgroupParams {
  const p = profileSettings(config, sg.shards[0]?.profile ?? 'default');
  return { windowSize: p.windowSize, maxPayloadBytes: p.maxPayloadBytes, maxSmcPayloadBytes: p.maxSmcPayloadBytes, blockBytes: p.blockBytes };
}

/** The restart log's promises as the shell's callbacks. */
function restartLogHook(writer: RestartLogWriter): RestartLogHook {
  const settle = (p: Promise<void>, done: (err?: Error) => void): void => {
    p.then(
      () => done(),
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  };
  return {
    appendView: (view, done) => settle(writer.appendView(view), done),
    appendTrim: (trim, done) => settle(writer.appendTrim(trim), done),
  };
}

/** A join request unanswered this long is asked again (then the contact is dialed anew). */
const JOIN_RETRY_MS = 2000;
/** How long members wait for the connections to joiners while installing a view. */
const INSTALL_CONNECT_TIMEOUT_MS = 5000;
/** How many failure timeouts a view change may take before the node reports what it waits for. */
const STALL_REPORT_TIMEOUTS = 3;
