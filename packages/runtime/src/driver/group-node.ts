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
import { GroupFormation, type FormationOutput } from '../core/membership/formation.js';
import type { GroupSubgroup, GroupView, MemberAddress, SubgroupParams } from '../core/membership/group-view.js';
import type { ShutdownReason } from '../core/membership/membership-io.js';
import type { StateTransfer } from '../core/membership/next-view.js';
import { describeViewChange, type ViewChange } from '../core/membership/view-change.js';
import { SubgroupAllocator } from '../layout/allocate.js';
import { numberSubgroups, type NumberedSubgroup } from '../layout/allocation.js';
import { nextViewAllocator } from '../layout/next-view-allocation.js';
import { InadequateLayoutError } from '../layout/errors.js';
import type { GroupLayout } from '../layout/spec.js';
import { wallClockUs } from './clock.js';
import { Channel, ControlMessageError, decodeControl, encodeControl, type ControlMessage } from './control-messages.js';
import { createLogger, type Logger } from './logger.js';
import { ViewRuntime } from './view-runtime.js';

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
}

export interface GroupNodeEvents {
  view: [ViewChange];
  deliver: [DeliverOutput];
  /** This node stopped: the rest of the group removed it, it was on the minority side of a
   *  partition, or it left. Nothing is delivered after this. */
  shutdown: [{ reason: ShutdownReason; message: string }];
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
  private formation: GroupFormation | undefined;
  private runtime: ViewRuntime | undefined;
  private contactId: number | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private joinDeadlineMs = 0;
  private stateHandler: StateHandler | undefined;
  private persistenceHandler: PersistenceHandler | undefined;
  /** States received for a view this node is joining, by "vid:subgroup". */
  private readonly receivedStates = new Map<string, Uint8Array | null>();
  private stateWaiters: (() => void)[] = [];
  private joinWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private closed = false;
  readonly stats: GroupNodeStats = { pollBatches: 0, remoteWrites: 0, deliveries: 0 };
  private rpcHandler: ((from: number, frame: Uint8Array) => void) | undefined;
  /** Failed dials to the contact so far, and when joining started: for the retry summary. */
  private contactDialFailures = 0;
  private joinStartedMs = 0;

  private constructor(private readonly options: GroupNodeOptions) {
    super();
    const { config } = options;
    this.config = config;
    this.nodeId = config.node.id;
    this.log = options.logger ?? createLogger(config.logging.level, { node: config.node.id });
    this.allocator = new SubgroupAllocator(options.layout);
    this.endpoint = Endpoint.open({
      nodeId: config.node.id,
      host: config.node.host,
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

  get view(): GroupView | undefined {
    return this.runtime?.started ? this.runtime.view : undefined;
  }

  get currentRuntime(): ViewRuntime | undefined {
    return this.runtime?.started ? this.runtime : undefined;
  }

  private me(): MemberAddress {
    return { id: this.nodeId, host: this.config.node.host, port: this.config.node.port };
  }

  /** Joins or forms the group; resolves once a view has started here. Closes the node on failure. */
  async start(): Promise<void> {
    try {
      await this.joinOrForm();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private joinOrForm(): Promise<void> {
    const timeoutMs = this.joinTimeoutMs;
    const joined = new Promise<void>((resolve, reject) => {
      this.joinWaiter = { resolve, reject };
    });
    const timer = setTimeout(() => this.failJoin(new JoinError(`node ${this.nodeId} did not join within ${timeoutMs} ms (contact ${this.config.cluster.contact.host}:${this.config.cluster.contact.port})`)), timeoutMs);
    if (this.isLeader) {
      this.formation = new GroupFormation({ leader: this.me(), allocate: (ids) => this.allocate(ids), minMembers: this.options.minMembers });
      this.log.info({ port: this.endpoint.port }, 'forming the group as its initial leader');
      this.apply(this.formation.start());
    } else {
      const { host, port } = this.config.cluster.contact;
      this.log.info({ contact: `${host}:${port}` }, 'joining through the contact');
      this.joinStartedMs = Date.now();
      this.joinDeadlineMs = this.joinStartedMs + timeoutMs;
      this.endpoint.connectAny(host, port);
    }
    return joined.finally(() => clearTimeout(timer));
  }

  private formationStep(f: (formation: GroupFormation) => FormationOutput[]): FormationOutput[] {
    return this.formation ? f(this.formation) : [];
  }

  /** The subgroups of a candidate view, or undefined when it is inadequate. */
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

  private apply(outputs: readonly FormationOutput[]): void {
    for (const o of outputs) {
      switch (o.kind) {
        case 'refuse':
          this.log.warn({ joiner: o.to, code: o.code }, 'refusing a join: %s', o.message);
          this.sendControl(o.to, { type: 'refused', code: o.code, message: o.message });
          break;
        case 'announce':
          this.sendControl(o.to, { type: 'view', view: o.view });
          break;
        case 'start':
          this.sendControl(o.to, { type: 'start', vid: o.vid });
          break;
      }
    }
  }

  private sendControl(to: number, message: ControlMessage): void {
    if (to === this.nodeId) {
      // Loop back asynchronously, as if it came over the wire, to keep handlers non-reentrant.
      queueMicrotask(() => this.onControl(this.nodeId, message));
      return;
    }
    try {
      this.endpoint.sendP2P(to, encodeControl(message));
    } catch (err) {
      this.log.warn({ to, type: message.type }, 'cannot send a control message: %s', (err as Error).message);
    }
  }

  private onPoll(result: PollResult): void {
    if (this.closed) return;
    this.stats.pollBatches++;
    this.stats.remoteWrites += result.writes;
    this.logFabricLines(result);
    if (this.contactId === undefined && !this.isLeader && result.connected.length > 0) {
      this.contactId = result.connected[0];
      if (this.contactDialFailures > 0) {
        const { host, port } = this.config.cluster.contact;
        this.log.info({ contact: `${host}:${port}` }, 'reached the contact at %s:%d after %d attempts (%d ms)', host, port, this.contactDialFailures + 1, Date.now() - this.joinStartedMs);
      }
      this.sendControl(this.contactId, { type: 'join', member: this.me() });
    }
    for (const m of result.p2p) this.onP2P(m.from, m.data);
    this.runtime?.onPoll(result);
    this.emit('progress');
    for (const f of result.failures) {
      // While joining, before the contact answered, any failure is the dial to the contact: under
      // ANY_NODE when the dial itself failed, under the contact's id when its handshake did.
      if (f.nodeId === ANY_NODE || this.dialingContact()) {
        this.onContactDialFailed(f.reason);
        continue;
      }
      if (this.runtime?.departed(f.nodeId)) this.log.info({ peer: f.nodeId }, 'node %d left the group (%s)', f.nodeId, f.reason);
      else this.log.warn({ peer: f.nodeId }, 'peer failed: %s', f.reason);
      this.apply(this.formationStep((fm) => fm.onJoinerLost(f.nodeId)));
      if (!this.runtime?.started && f.nodeId === this.contactId) this.failJoin(new JoinError(`lost the contact (node ${f.nodeId}) while joining: ${f.reason}`));
      if (this.runtime?.started) this.runtime.onPeerFailed(f.nodeId);
      this.emit('peerFailed', f);
    }
  }

  /** Before the contact answered, a joiner's failures are dials to it (retried until the deadline). */
  private dialingContact(): boolean {
    return !this.isLeader && this.contactId === undefined && this.runtime === undefined;
  }

  /**
   * The data plane's own log lines, at their level, except the connection drops that come with
   * routine events: while the contact is dialed (each failed dial is a retry, summarized at info
   * once the contact answers) and when every peer lost in the batch had left or been removed.
   * Those go to debug: an operator has nothing to do about them.
   */
  private logFabricLines(result: PollResult): void {
    if (result.logs.length === 0) return;
    const routine =
      (this.dialingContact() && this.joinWaiter !== undefined) ||
      (result.failures.length > 0 && result.failures.every((f) => f.nodeId !== ANY_NODE && this.runtime?.departed(f.nodeId) === true));
    for (const l of result.logs) {
      const level = routine && (l.level === 'warn' || l.level === 'error') ? 'debug' : l.level;
      this.log[level]({ fabric: true }, l.message);
    }
  }

  /**
   * The contact may simply not be listening yet (members start in any order): retry until the join
   * deadline. A refusal in the handshake (wrong secret or build) is final.
   */
  private onContactDialFailed(reason: string): void {
    const { host, port } = this.config.cluster.contact;
    const final = /refused our connection|secret|hash mismatch|version mismatch|in use/.test(reason);
    if (final || Date.now() + CONTACT_RETRY_MS > this.joinDeadlineMs) {
      this.failJoin(new JoinError(`cannot join through the contact at ${host}:${port}: ${reason}`));
      return;
    }
    // The first failure says what is going on, once; each retry after it is debug.
    if (this.contactDialFailures++ === 0) {
      this.log.info({ contact: `${host}:${port}` }, 'the contact at %s:%d is not reachable yet (%s); retrying every %d ms until the join deadline', host, port, reason, CONTACT_RETRY_MS);
    } else {
      this.log.debug({ contact: `${host}:${port}`, attempt: this.contactDialFailures }, 'contact not reachable yet (%s); retrying', reason);
    }
    setTimeout(() => {
      if (!this.closed && this.joinWaiter && this.contactId === undefined) this.endpoint.connectAny(host, port);
    }, CONTACT_RETRY_MS);
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
    this.onControl(from, message);
  }

  /** Drops the connection to a misbehaving peer, with an error log line saying why. */
  dropPeer(peer: number, why: string): void {
    this.log.error({ peer }, 'dropping the connection: %s', why);
    this.endpoint.failPeer(peer, why);
  }

  private onControl(from: number, m: ControlMessage): void {
    if (this.closed) return;
    switch (m.type) {
      case 'join':
        if (from !== m.member.id) return this.dropPeer(from, `node ${from} asked to join as node ${m.member.id}`);
        this.log.info({ joiner: m.member.id }, 'join request');
        // A running group: the membership protocol decides (it redirects to the leader, or
        // proposes the join). Still forming: the formation collects joiners.
        if (this.runtime?.started) this.runtime.onJoinRequest(m.member);
        else if (this.formation && !this.formation.formedView) this.apply(this.formation.onJoinRequest(m.member));
        else this.sendControl(from, { type: 'refused', code: 'busy', message: `node ${this.nodeId} is not running a view yet; try again` });
        break;
      case 'redirect':
        if (this.runtime !== undefined) return;
        this.log.info({ leader: m.leader.id }, 'redirected to the leader');
        this.contactId = m.leader.id;
        this.endpoint.connect(m.leader.id, m.leader.host, m.leader.port);
        void this.endpoint.waitConnected([m.leader.id], 5000).then(
          () => this.sendControl(m.leader.id, { type: 'join', member: this.me() }),
          (err: Error) => this.failJoin(new JoinError(`cannot reach the leader node ${m.leader.id} at ${m.leader.host}:${m.leader.port}: ${err.message}`)),
        );
        break;
      case 'state':
        this.receivedStates.set(`${m.vid}:${m.subgroup}`, m.state);
        this.stateWaiters.splice(0).forEach((w) => w());
        break;
      case 'refused':
        if (m.code === 'busy' && this.joinWaiter) {
          setTimeout(() => this.joinWaiter && this.sendControl(from, { type: 'join', member: this.me() }), CONTACT_RETRY_MS);
          break;
        }
        this.failJoin(new JoinError(`node ${from} refused the join (${m.code}): ${m.message}`));
        break;
      case 'view':
        if (m.view.vid === 0 && m.stateTransfers === undefined) void this.installView(m.view, from);
        else void this.installJoinedView(m.view, m.stateTransfers ?? []);
        break;
      case 'ready':
        this.apply(this.formationStep((f) => f.onReady(from, m.vid)));
        break;
      case 'start':
        this.startView(m.vid);
        break;
    }
  }

  private async installView(view: GroupView, leaderId: number): Promise<void> {
    try {
      if (this.runtime !== undefined) throw new JoinError(`received view ${view.vid} but view ${this.runtime.view.vid} is installed (view changes come with membership)`);
      await this.connectToMembers(view);
      this.runtime = this.createRuntime(view);
      this.sendControl(leaderId, { type: 'ready', vid: view.vid });
    } catch (err) {
      this.failJoin(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * A joiner's first view (a view change of a running group): connect to every member, receive
   * the state of each shard it joins from that shard's old leader, install it, and start. The
   * members already run this view; their writes wait in the fabric until the table exists.
   */
  private async installJoinedView(view: GroupView, stateTransfers: readonly StateTransfer[]): Promise<void> {
    if (this.runtime !== undefined || !this.joinWaiter) return;
    try {
      await this.connectToMembers(view);
      const mine = stateTransfers.filter((t) => t.to === this.nodeId);
      await this.waitForStates(view.vid, mine.map((t) => t.subgroup), this.joinTimeoutMs);
      for (const t of mine) this.stateHandler?.install(view, t.subgroup, this.receivedStates.get(`${view.vid}:${t.subgroup}`) ?? null);
      this.runtime = this.createRuntime(view);
      this.startView(view.vid);
    } catch (err) {
      this.failJoin(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private get joinTimeoutMs(): number {
    return this.options.joinTimeoutMs ?? 30_000;
  }

  /** Dials every other member of `view` and waits until all are connected (one connection per pair). */
  private async connectToMembers(view: GroupView): Promise<void> {
    const others = view.members.filter((m) => m.id !== this.nodeId);
    for (const m of others) this.endpoint.connect(m.id, m.host, m.port);
    await this.endpoint.waitConnected(others.map((m) => m.id), this.joinTimeoutMs);
  }

  private waitForStates(vid: number, subgroups: readonly number[], timeoutMs: number): Promise<void> {
    const have = (): boolean => subgroups.every((g) => this.receivedStates.has(`${vid}:${g}`));
    if (have()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new JoinError(`the state of subgroups ${subgroups.join(', ')} for view ${vid} did not arrive within ${timeoutMs} ms`)), timeoutMs);
      const check = (): void => {
        if (have()) {
          clearTimeout(timer);
          resolve();
        } else this.stateWaiters.push(check);
      };
      this.stateWaiters.push(check);
    });
  }

  /** As an old shard leader: snapshot the subgroup now (the view boundary), then send it. */
  private sendState(subgroup: number, to: MemberAddress, vid: number): void {
    const state = this.stateHandler?.snapshot(subgroup) ?? null;
    this.endpoint.connect(to.id, to.host, to.port);
    void this.endpoint.waitConnected([to.id], 5000).then(
      () => this.sendControl(to.id, { type: 'state', vid, subgroup, state }),
      (err: Error) => this.log.warn({ joiner: to.id, subgroup }, 'cannot send state to the joiner: %s', err.message),
    );
  }

  private createRuntime(view: GroupView): ViewRuntime {
    return new ViewRuntime(
      this.endpoint,
      view,
      {
        deliver: (d) => {
          this.stats.deliveries++;
          this.emit('deliver', d);
        },
        // Without a handler (no typed subgroups) nothing is written: persisted at once.
        persist: (p) => {
          if (this.persistenceHandler !== undefined) this.persistenceHandler.persist(p.subgroup, p.version);
          else this.runtime?.persisted(p.subgroup, p.version);
        },
        globalPersisted: (p) => this.persistenceHandler?.globalPersisted(p.subgroup, p.version),
        inadequate: (vid, message) => {
          this.inadequateReason = `view ${vid} cannot install its successor: ${message}`;
        },
        installed: (v, removed) => {
          this.inadequateReason = undefined;
          this.log.info({ vid: v.vid, members: v.members.map((m) => m.id), removed }, 'view installed');
          this.emitView(v);
        },
        shutdown: (reason, message) => this.onShutdown(reason, message),
        sendView: (to, v, stateTransfers) => this.sendControl(to.id, { type: 'view', view: v, stateTransfers }),
        sendState: (subgroup, to, vid) => this.sendState(subgroup, to, vid),
        joinReply: (to, reply) =>
          this.sendControl(to.id, reply.kind === 'redirect' ? { type: 'redirect', leader: reply.leader } : { type: 'refused', code: reply.code, message: reply.message }),
      },
      {
        heartbeatIntervalUs: this.config.failure.heartbeatMs * 1000,
        allocate: nextViewAllocator(this.allocator, (sg) => this.paramsFor(sg)),
        partitionSafety: this.config.failure.partitionSafety,
        log: this.log,
      },
    );
  }

  /** Who makes persistent subgroups durable (set before the group starts). */
  setPersistenceHandler(handler: PersistenceHandler): void {
    this.persistenceHandler = handler;
  }

  /** This node's log of `subgroup` is durable through `version` (the answer to `persist`). */
  persisted(subgroup: number, version: Version): void {
    if (!this.closed) this.runtime?.persisted(subgroup, version);
  }

  /** Where subgroup state comes from and goes to (the RPC layer's replicas). */
  setStateHandler(handler: StateHandler): void {
    this.stateHandler = handler;
  }

  private startView(vid: number): void {
    const runtime = this.runtime;
    if (runtime === undefined || runtime.view.vid !== vid || runtime.started) return;
    runtime.start();
    const heartbeatMs = this.config.failure.heartbeatMs;
    this.tickTimer = setInterval(() => this.runtime?.tick(wallClockUs()), heartbeatMs);
    this.log.info({ vid, members: runtime.view.members.map((m) => m.id) }, 'view installed');
    this.emitView(runtime.view);
    this.joinWaiter?.resolve();
    this.joinWaiter = undefined;
  }

  private onShutdown(reason: ShutdownReason, message: string): void {
    // Leaving is what the application asked for; being removed or partitioned is for an operator.
    if (reason === 'left') this.log.info({ reason }, 'this node is stopping: %s', message);
    else this.log.warn({ reason }, 'this node is stopping: %s', message);
    this.emit('shutdown', { reason, message });
    this.close();
  }

  /** Reports `node` as failed, as the failure detector would (Derecho's report_failure). */
  reportFailure(node: number): void {
    const runtime = this.currentRuntime;
    if (runtime === undefined) throw new Error(`node ${this.nodeId} has no installed view`);
    runtime.reportFailure(node);
  }

  /** Leaves the group gracefully: the others install a view without this node, then it stops. */
  leave(): void {
    this.currentRuntime?.leave();
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

  /** Multicasts `payload` to subgroup `subgroupId` (queued in the core when the window is full). */
  /** `owned`: the caller never writes `payload` again, so it is kept as is instead of copied. */
  send(subgroupId: number, payload: Uint8Array, cooked = false, owned = false): void {
    const runtime = this.currentRuntime;
    if (runtime === undefined) throw new Error(`node ${this.nodeId} has no installed view to send in`);
    runtime.send(subgroupId, payload, wallClockUs(), cooked, owned);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.failJoin(new JoinError('the node was closed while joining'));
    this.runtime?.close();
    this.endpoint.close();
    this.removeAllListeners();
  }
}
