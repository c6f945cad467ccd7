/**
 * A member process of the group on the real fabric: it opens the endpoint, forms the group or joins
 * it through the contact, installs each view (SST region, RDMC groups, multicast core) behind the
 * start barrier, and pumps the fabric's polled batches into the core. Users reach it through
 * `Group` (../replicated); benchmarks and tests may use it directly.
 */
import { EventEmitter } from 'eventemitter3';
import { ANY_NODE, Endpoint, type PollResult } from '@derecho-ts/rdma-native';
import type { DerechoConfig } from '../config/schema.js';
import { profileSettings } from '../config/validate.js';
import type { DeliverOutput } from '../core/core-io.js';
import type { Version } from '../core/version.js';
import type { GroupSubgroup, GroupView, MemberAddress, SubgroupParams } from '../core/membership/group-view.js';
import type { Hlc } from '../core/hlc.js';
import { describeViewChange, type ViewChange } from '../core/membership/view-change.js';
import { SubgroupAllocator } from '../layout/allocate.js';
import { numberSubgroups, type NumberedSubgroup } from '../layout/allocation.js';
import { nextViewAllocator } from '../layout/next-view-allocation.js';
import { InadequateLayoutError } from '../layout/errors.js';
import type { GroupLayout } from '../layout/spec.js';
import { wallClockUs } from './clock.js';
import { ControlMessageError, type ControlMessage } from '../core/member/control-messages.js';
import { Channel, decodeControl, encodeControl } from './control-codec.js';
import { createLogger, type Logger } from '../util/logger.js';
import { invariant } from '../core/invariant.js';
import { Member } from '../core/member/member.js';
import type { ViewManager } from '../core/membership/view-manager.js';
import type { MemberInput, MemberOutput, MemberShutdownReason } from '../core/member/member-io.js';
import { SendBatcher } from './send-batcher.js';
import { uninitializedChunks } from './uninitialized-chunks.js';
import { ViewFabric } from './view-fabric.js';

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
  appendTrim(trim: { vid: number; subgroup: number; shard: number; shardLeader: number; throughIndex: readonly number[] }): Promise<void>;
}

export interface GroupNodeEvents {
  view: [ViewChange];
  deliver: [DeliverOutput];
  /** This node stopped: the rest of the group removed it, it was on the minority side of a
   *  partition, or it left. Nothing is delivered after this. */
  shutdown: [{ reason: MemberShutdownReason; message: string }];
  peerFailed: [{ nodeId: number; reason: string }];
  /** After each polled batch was handed to the core: send queues may have shrunk. */
  progress: [];
}

const CONTACT_RETRY_MS = 50;

/** Counters of the receive path, for benchmarks that explain where time goes. */
export interface GroupNodeStats {
  /** Wake-ups: batches handed over by the fabric. */
  pollBatches: number;
  /** Remote SST writes applied, over all batches. */
  remoteWrites: number;
  /** Messages delivered to the application. */
  deliveries: number;
}

/** Makes persistent subgroups durable (the RPC layer's replicas' logs). */
export interface PersistenceHandler {
  /** The core asks for `subgroup` to be durable through `version`; answer with `GroupNode.persisted`. */
  persist(subgroup: number, version: Version): void;
  /** Every member of my shard of `subgroup` is durable through `version`. */
  globalPersisted(subgroup: number, version: Version): void;
}

/** Snapshots and installs replica state for state transfer (bytes opaque to the driver). */
export interface StateHandler {
  snapshot(subgroupId: number): Uint8Array | null;
  install(view: GroupView, subgroupId: number, state: Uint8Array | null): void;
}

export class JoinError extends Error {
  override readonly name = 'JoinError';
}

export class GroupNode extends EventEmitter<GroupNodeEvents> {
  readonly nodeId: number;
  readonly endpoint: Endpoint;
  readonly log: Logger;
  private readonly config: DerechoConfig;
  private readonly allocator: SubgroupAllocator;
  /** The protocol: formation, joining and every view, sans-I/O. This class only carries it out. */
  private readonly member: Member;
  /** The fabric resources of the current view (its table, its RDMC groups). */
  private fabric: ViewFabric | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private stateHandler: StateHandler | undefined;
  private persistenceHandler: PersistenceHandler | undefined;
  private joinWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private closed = false;
  readonly stats: GroupNodeStats = { pollBatches: 0, remoteWrites: 0, deliveries: 0 };
  private rpcHandler: ((from: number, frame: Uint8Array) => void) | undefined;
  private readonly sends = new SendBatcher((batch) => this.step(batch));

  private constructor(private readonly options: GroupNodeOptions) {
    super();
    const { config } = options;
    this.config = config;
    this.nodeId = config.node.id;
    this.log = options.logger ?? createLogger(config.logging.level, { node: config.node.id });
    this.allocator = new SubgroupAllocator(options.layout);
    const failureTimeoutUs = config.failure.failureTimeoutMs * 1000;
    this.member = new Member({
      me: this.me(),
      isContact: this.isLeader,
      contact: config.cluster.contact,
      allocateFirst: (ids) => this.allocate(ids),
      allocateNext: nextViewAllocator(this.allocator, (sg) => this.paramsFor(sg)),
      minMembers: options.minMembers,
      joinTimeoutUs: this.joinTimeoutMs * 1000,
      stateTimeoutUs: this.joinTimeoutMs * 1000,
      retryUs: CONTACT_RETRY_MS * 1000,
      joinRetryUs: JOIN_RETRY_MS * 1000,
      joinerConnectTimeoutUs: INSTALL_CONNECT_TIMEOUT_MS * 1000,
      stallReportUs: STALL_REPORT_TIMEOUTS * failureTimeoutUs,
      heartbeatIntervalUs: config.failure.heartbeatMs * 1000,
      partitionSafety: config.failure.partitionSafety,
      payloadChunks: uninitializedChunks,
    });
    this.endpoint = Endpoint.open({
      nodeId: config.node.id,
      host: config.node.bindHost,
      port: config.node.port,
      secret: config.cluster.secret,
      buildHash: buildHashWithSchema(options.schemaHash),
      heartbeatTimeoutMs: config.failure.failureTimeoutMs,
      // The core emits several pushes per step and a poll batch runs many steps: gather them and
      // write each peer's share once at the end of the task instead of one syscall per put.
      batchPuts: true,
      // SST writes are read on this thread, woken straight by the sockets: one wake-up per
      // arrival instead of two (the I/O thread's, then ours). Measured: 1 KiB latency p50 about
      // 160 -> 110 us, 100-byte throughput up by a tenth.
      receiveOnJsThread: true,
    });
    this.endpoint.onPoll((r) => this.onPoll(r));
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
    const { contact } = this.config.cluster;
    return contact.port === this.config.node.port && contact.host === this.config.node.host;
  }

  /**
   * The membership protocol of the installed view, read-only for status and metrics (ops/): its
   * phase, suspicions, stall reason and each shard's SST frontiers. Undefined while joining.
   */
  get protocol(): Pick<ViewManager, 'phase' | 'suspectedIds' | 'stallReason' | 'core' | 'view' | 'vid' | 'myRank'> | undefined {
    return this.closed ? undefined : this.member.viewManager;
  }

  /** The running view (undefined before the first one starts and after shutdown). */
  get view(): GroupView | undefined {
    return this.closed ? undefined : this.member.view;
  }

  private me(): MemberAddress {
    return { id: this.nodeId, host: this.config.node.host, port: this.config.node.port };
  }

  private get joinTimeoutMs(): number {
    return this.options.joinTimeoutMs ?? 30_000;
  }

  /** Joins or forms the group; resolves once a view has started here. Closes the node on failure. */
  async start(): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => {
      this.joinWaiter = { resolve, reject };
    });
    // The protocol's clock: retries and deadlines while joining, heartbeats once running.
    this.tickTimer = setInterval(() => this.step({ kind: 'tick', nowUs: wallClockUs() }), this.config.failure.heartbeatMs);
    this.step({ kind: 'start', nowUs: wallClockUs() });
    try {
      await joined;
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** The subgroups of a candidate view 0, or undefined when it is inadequate. */
  private allocate(memberIds: readonly number[]): GroupSubgroup[] | undefined {
    let allocation;
    try {
      allocation = this.allocator.allocate(memberIds, undefined);
    } catch (err) {
      if (err instanceof InadequateLayoutError) {
        this.log.info({ members: memberIds.length }, 'waiting for more members: %s', err.message);
        return undefined;
      }
      throw err;
    }
    return numberSubgroups(allocation).map((sg) => ({
      type: sg.type,
      index: sg.index,
      shards: sg.shards.map((s) => ({ members: s.members, senders: s.senders, mode: s.mode })),
      params: this.paramsFor(sg),
    }));
  }

  /** The multicast parameters of a subgroup: its shards' profile from the configuration. */
  private paramsFor(sg: NumberedSubgroup): SubgroupParams {
    const p = profileSettings(this.config, sg.shards[0]?.profile ?? 'default');
    return { windowSize: p.windowSize, maxPayloadBytes: p.maxPayloadBytes, maxSmcPayloadBytes: p.maxSmcPayloadBytes, blockBytes: p.blockBytes };
  }

  // ---- inputs ----

  /**
   * The fabric's wake-up. Whatever throws below it (a malformed message a check missed, a handler,
   * a native call) must not escape into the native callback and kill the process: this node fails
   * itself instead, with a `shutdown` event that says why.
   */
  private onPoll(result: PollResult): void {
    try {
      this.handlePoll(result);
    } catch (err) {
      this.fail(`an exception escaped the receive path: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  private handlePoll(result: PollResult): void {
    if (this.closed) return;
    this.stats.pollBatches++;
    this.stats.remoteWrites += result.writes;
    this.logFabricLines(result);
    for (const id of result.connected) this.step({ kind: 'connected', node: id });
    for (const m of result.p2p) this.onP2P(m.from, m.data);
    const fabric = this.fabric;
    if (fabric !== undefined && !this.closed) {
      for (const m of result.rdmc) {
        // Completions of groups of an older view are late: that view's trim already decided.
        const route = fabric.route(m.groupId);
        if (route !== undefined && this.fabric === fabric) this.step({ kind: 'rdmcComplete', subgroup: route.subgroup, senderRow: route.senderRow, message: m.data });
      }
      if (this.fabric === fabric && result.changed.some((c) => c.regionId === fabric.vid)) this.step({ kind: 'rowsChanged' });
    }
    this.emit('progress');
    for (const f of result.failures) {
      if (this.closed) return;
      // While the contact is being dialed, any failure is that dial's: under ANY_NODE when the
      // dial itself failed, under the contact's id when its handshake did.
      if (f.nodeId === ANY_NODE || this.member.phaseName === 'dialing') {
        this.step({ kind: 'contactUnreachable', final: f.refused, reason: f.reason });
        continue;
      }
      if (this.departed(f.nodeId)) this.log.info({ peer: f.nodeId }, 'node %d left the group (%s)', f.nodeId, f.reason);
      else this.log.warn({ peer: f.nodeId }, 'peer failed: %s', f.reason);
      this.step({ kind: 'peerFailed', node: f.nodeId });
      this.emit('peerFailed', f);
    }
  }

  /**
   * Whether the loss of `node` is routine: it left gracefully (its row says so) or is no longer a
   * member of the running view (removed already, or a joiner that was not admitted).
   */
  private departed(node: number): boolean {
    const vm = this.member.viewManager;
    if (vm === undefined) return false;
    return vm.ripIds.includes(node) || !vm.view.members.some((m) => m.id === node);
  }

  /**
   * The data plane's own log lines, at their level, except the connection drops that come with
   * routine events: while the contact is dialed (each failed dial is a retry, summarized at info
   * once the contact answers) and when every peer lost in the batch had left or been removed.
   * Those go to debug: an operator has nothing to do about them.
   */
  private logFabricLines(result: PollResult): void {
    if (result.logs.length === 0) return;
    const routine = this.member.phaseName === 'dialing' || (result.failures.length > 0 && result.failures.every((f) => f.nodeId !== ANY_NODE && this.departed(f.nodeId)));
    for (const l of result.logs) {
      const level = routine && (l.level === 'warn' || l.level === 'error') ? 'debug' : l.level;
      this.log[level]({ fabric: true }, l.message);
    }
  }

  /** Who handles Channel.Rpc messages (the frame without its channel byte); without one they drop the peer. */
  setRpcHandler(handler: (from: number, frame: Uint8Array) => void): void {
    this.rpcHandler = handler;
  }

  private onP2P(from: number, data: Uint8Array): void {
    if (data.length === 0) return this.dropPeer(from, 'an empty P2P message');
    if (data[0] === Channel.Rpc && this.rpcHandler !== undefined) return this.rpcHandler(from, data.subarray(1));
    if (data[0] !== Channel.Control) return this.dropPeer(from, `a P2P message on unknown channel ${data[0]}`);
    let message: ControlMessage;
    try {
      message = decodeControl(data.subarray(1));
    } catch (err) {
      if (!(err instanceof ControlMessageError)) throw err;
      return this.dropPeer(from, err.message);
    }
    this.step({ kind: 'control', from, message });
  }

  /** Drops the connection to a misbehaving peer, with an error log line saying why. */
  dropPeer(peer: number, why: string): void {
    this.log.error({ peer }, 'dropping the connection: %s', why);
    this.endpoint.failPeer(peer, why);
  }

  /**
   * One input to the protocol and its outputs carried out. Nothing thrown here may escape into a
   * poll callback, a timer or a microtask (it would kill the process, and the others would count
   * this node as one more failure at the worst moment): an input the protocol rejects, or an
   * output this driver cannot carry out, ends this node instead (`failed`).
   */
  private step(input: MemberInput): void {
    if (this.closed || this.member.stopped) return;
    let outputs: MemberOutput[];
    try {
      outputs = this.member.step(input);
    } catch (err) {
      this.fail(`the protocol rejected input ${input.kind}${this.where()}: ${errorText(err)}`);
      return;
    }
    this.carryOutAll(outputs);
  }

  private carryOutAll(outputs: readonly MemberOutput[]): void {
    for (const o of outputs) {
      if (this.closed) return;
      try {
        this.carryOut(o);
      } catch (err) {
        this.fail(`invariant violated: cannot carry out ${describeOutput(o)}${this.where()}: ${errorText(err)}`);
        return;
      }
    }
  }

  private where(): string {
    const vm = this.member.viewManager;
    return vm === undefined ? ` while ${this.member.phaseName}` : ` in view ${vm.vid} at rank ${vm.myRank}`;
  }

  // ---- outputs ----

  private carryOut(o: MemberOutput): void {
    switch (o.kind) {
      case 'push':
        this.fabric!.put(o.ranges, o.targets, o.withCompletion);
        break;
      case 'rdmcSend': {
        const fabric = this.fabric!;
        const group = fabric.sendGroup(o.subgroup);
        if (group === undefined) {
          // A singleton shard: RDMC to nobody but me completes at once.
          invariant(o.groupRows.length === 1, 'an RDMC send has a group', () => `subgroup ${o.subgroup} rows ${o.groupRows.join(',')}`);
          queueMicrotask(() => {
            if (this.fabric === fabric) this.step({ kind: 'rdmcComplete', subgroup: o.subgroup, senderRow: fabric.layout.myRank, message: o.message });
          });
        } else group.send(o.message);
        break;
      }
      case 'deliver':
        this.stats.deliveries++;
        this.emit('deliver', o);
        break;
      case 'persist':
        // Without a handler (no typed subgroups) nothing is written: persisted at once.
        if (this.persistenceHandler !== undefined) this.persistenceHandler.persist(o.subgroup, o.version);
        else this.step({ kind: 'persisted', subgroup: o.subgroup, version: o.version });
        break;
      case 'globalPersisted':
        this.persistenceHandler?.globalPersisted(o.subgroup, o.version);
        break;
      case 'logTrim': {
        const restartLog = this.options.restartLog;
        // Without persistent state a restart has nothing to recover: the trim needs no disk.
        if (restartLog === undefined) this.step({ kind: 'trimLogged', vid: o.vid, subgroup: o.subgroup });
        else {
          void restartLog.appendTrim(o).then(
            () => this.step({ kind: 'trimLogged', vid: o.vid, subgroup: o.subgroup }),
            (err: unknown) => this.fail(`cannot log the ragged trim of subgroup ${o.subgroup} in view ${o.vid}: ${errorText(err)}`),
          );
        }
        break;
      }
      case 'inadequate':
        this.inadequateReason = `view ${o.vid} cannot install its successor: ${o.message}`;
        this.log.warn({ vid: o.vid }, 'the next view cannot be provisioned; the group stays wedged until more nodes join: %s', o.message);
        break;
      case 'sendsDropped':
        this.log.warn({ subgroup: o.subgroup, count: o.count }, 'own messages of the closing view could not be re-sent: this node no longer sends in that subgroup');
        break;
      case 'sendState':
        this.sendState(o.subgroup, o.to, o.vid, o.hlc);
        break;
      case 'sendControl':
        this.sendControl(o.to, o.message);
        break;
      case 'dialContact':
        this.endpoint.connectAny(this.config.cluster.contact.host, this.config.cluster.contact.port);
        break;
      case 'connect':
        for (const m of o.peers) this.endpoint.connect(m.id, m.host, m.port);
        break;
      case 'dropPeers':
        for (const id of o.nodes) this.endpoint.failPeer(id, o.reason, { routine: o.misbehaved !== true });
        break;
      case 'createTable': {
        const old = this.fabric;
        this.fabric = new ViewFabric(this.endpoint, o.view);
        old?.close();
        this.step({ kind: 'tableReady', vid: o.view.vid, table: this.fabric.table });
        break;
      }
      case 'installing': {
        this.log.debug({ vid: o.view.vid, removed: o.removed, joined: o.joined.map((j) => j.id) }, 'installing the next view');
        // The closing view still says who left on purpose: routine, not a failure to act on.
        const left = this.member.viewManager?.ripIds ?? [];
        for (const id of o.removed) if (left.includes(id)) this.log.info({ peer: id, vid: o.view.vid }, 'node %d left the group', id);
        break;
      }
      case 'installState':
        this.stateHandler?.install(o.view, o.subgroup, o.state);
        break;
      case 'viewStarted':
        this.inadequateReason = undefined;
        this.log.info({ vid: o.view.vid, members: o.view.members.map((m) => m.id), removed: o.removed }, 'view installed');
        void this.options.restartLog?.appendView(o.view).catch((err: unknown) => this.fail(`cannot log view ${o.view.vid}: ${errorText(err)}`));
        this.emitView(o.view);
        if (o.first) {
          this.joinWaiter?.resolve();
          this.joinWaiter = undefined;
        }
        break;
      case 'joinFailed':
        this.failJoin(new JoinError(o.message));
        break;
      case 'note':
        this.log[o.level](o.message);
        break;
      case 'shutdown':
        this.onShutdown(o.reason, o.message);
        break;
    }
  }

  private sendControl(to: number, message: ControlMessage): void {
    try {
      this.endpoint.sendP2P(to, encodeControl(message));
    } catch (err) {
      this.log.warn({ to, type: message.type }, 'cannot send a control message: %s', (err as Error).message);
    }
  }

  /** As an old shard leader: snapshot the subgroup now (the view boundary), then send it. */
  private sendState(subgroup: number, to: MemberAddress, vid: number, hlc: Hlc): void {
    const state = this.stateHandler?.snapshot(subgroup) ?? null;
    this.endpoint.connect(to.id, to.host, to.port);
    void this.endpoint.waitConnected([to.id], INSTALL_CONNECT_TIMEOUT_MS).then(
      () => this.sendControl(to.id, { type: 'state', vid, subgroup, state, hlc }),
      (err: Error) => this.log.warn({ to: to.id, subgroup }, 'cannot send state to node %d: %s', to.id, err.message),
    );
  }

  /** Who makes persistent subgroups durable (set before the group starts). */
  setPersistenceHandler(handler: PersistenceHandler): void {
    this.persistenceHandler = handler;
  }

  /** This node's log of `subgroup` is durable through `version` (the answer to `persist`). */
  persisted(subgroup: number, version: Version): void {
    this.step({ kind: 'persisted', subgroup, version });
  }

  /** Where subgroup state comes from and goes to (the RPC layer's replicas). */
  setStateHandler(handler: StateHandler): void {
    this.stateHandler = handler;
  }

  private onShutdown(reason: MemberShutdownReason, message: string): void {
    // Leaving is what the application asked for; being removed or partitioned is for an operator.
    if (reason === 'left') this.log.info({ reason }, 'this node is stopping: %s', message);
    else this.log.warn({ reason }, 'this node is stopping: %s', message);
    this.failJoin(new JoinError(message));
    this.emit('shutdown', { reason, message });
    this.close();
  }

  /**
   * This node cannot go on: it leaves (its rip tells the others at once, if the protocol can still
   * write it; otherwise they see its connections close) and says why in its `shutdown`.
   */
  private fail(message: string): void {
    if (this.closed) return;
    this.log.error('this node fails itself: %s', message);
    try {
      const vm = this.member.viewManager;
      if (vm !== undefined && this.fabric !== undefined) for (const o of vm.step({ kind: 'leave' })) if (o.kind === 'push') this.fabric.put(o.ranges, o.targets, o.withCompletion);
    } catch {
      // The protocol is past helping: the closed connections tell the others.
    }
    this.onShutdown('failed', message);
  }

  /** Reports `node` as failed, as the failure detector would (Derecho's report_failure). */
  reportFailure(node: number): void {
    this.requireView('reportFailure');
    // Application mistakes (not a member, myself) throw to the caller, not into the node's failure.
    this.step0({ kind: 'reportFailure', node });
  }

  /** Leaves the group gracefully: the others install a view without this node, then it stops. */
  leave(): void {
    if (this.member.view !== undefined) this.step({ kind: 'leave' });
  }

  private lastView: GroupView | undefined;
  /** Set while the group is wedged because its next view is inadequate; cleared at the next install. */
  inadequateReason: string | undefined;

  private emitView(view: GroupView): void {
    const change = describeViewChange(view, this.lastView, this.nodeId);
    this.lastView = view;
    this.emit('view', change);
  }

  private failJoin(err: Error): void {
    if (!this.joinWaiter) return;
    this.joinWaiter.reject(err);
    this.joinWaiter = undefined;
  }

  private requireView(what: string): GroupView {
    const view = this.view;
    if (view === undefined) throw new Error(`${what}: node ${this.nodeId} has no installed view`);
    return view;
  }

  /** An application input: its errors are the caller's (thrown), its outputs carried out. */
  private step0(input: MemberInput): void {
    this.carryOutAll(this.member.step(input));
  }

  /**
   * Multicasts `payload` to subgroup `subgroupId` (queued in the core when the window is full). A
   * bad payload is refused here, synchronously, before anything is queued. `owned`: the caller
   * never writes `payload` again, so it is kept as is instead of copied.
   */
  send(subgroupId: number, payload: Uint8Array, cooked = false, owned = false): void {
    this.requireView('send');
    const vm = this.member.viewManager!;
    const sendWallUs = wallClockUs();
    vm.core.checkSend(subgroupId, payload, sendWallUs, cooked);
    this.sends.add(subgroupId, payload, sendWallUs, cooked, owned, payload.length > vm.view.subgroups[subgroupId].params.maxSmcPayloadBytes);
  }

  /** Sends not yet published: waiting for the next flush, a window slot, or the next view. */
  queuedSends(subgroup: number): number {
    let inCore = 0;
    try {
      inCore = this.member.viewManager?.core.queuedSends(subgroup) ?? 0;
    } catch {
      // Not in that subgroup in the current view.
    }
    return this.sends.queued(subgroup) + inCore;
  }

  /** Whether this node is a member of some shard of `subgroup` in the installed view. */
  isMember(subgroup: number): boolean {
    const vm = this.member.viewManager;
    return vm !== undefined && vm.core.shardOf(subgroup) !== undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.failJoin(new JoinError('the node was closed while joining'));
    this.fabric?.close();
    this.endpoint.close();
    this.removeAllListeners();
  }
}

/** A join request unanswered this long is asked again (then the contact is dialed anew). */
const JOIN_RETRY_MS = 2000;
/** How long members wait for the connections to joiners while installing a view. */
const INSTALL_CONNECT_TIMEOUT_MS = 5000;
/** How many failure timeouts a view change may take before the node reports what it waits for. */
const STALL_REPORT_TIMEOUTS = 3;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An output as a log line: its kind and fields, payloads and tables by size only. */
export function describeOutput(o: MemberOutput): string {
  const text = JSON.stringify(o, (_, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return `<${v.length} bytes>`;
    if (v instanceof ArrayBuffer) return `<${v.byteLength}-byte table>`;
    return v;
  });
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}
