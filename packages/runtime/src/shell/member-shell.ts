/**
 * The one interpreter of a Member's outputs: it owns the sans-I/O `Member`, runs it over the
 * `Fabric` and `Clock` ports (../io), and connects it to the replicas above (persistence, state
 * transfer, RPC frames, the restart log). The real driver (../driver/group-node.ts) runs it over
 * the native endpoint and the wall clock; the simulator (../sim/membership-cluster.ts) runs the
 * same class over its virtual network and clock. Neither knows the protocol, and this class knows
 * neither world.
 */
import { EventEmitter } from 'eventemitter3';
import type { DeliverOutput } from '../core/core-io.js';
import { invariant } from '../core/invariant.js';
import type { Version } from '../core/version.js';
import type { GroupView } from '../core/membership/group-view.js';
import { describeViewChange, type ViewChange } from '../core/membership/view-change.js';
import { ControlMessageError, type ControlMessage } from '../core/member/control-messages.js';
import { Member, type MemberOptions } from '../core/member/member.js';
import type { ViewManager } from '../core/membership/view-manager.js';
import type { MemberInput, MemberOutput, MemberShutdownReason } from '../core/member/member-io.js';
import type { Clock, ClockTimer } from '../io/clock.js';
import type { Fabric, FabricBatch } from '../io/fabric.js';
import type { Logger } from '../util/logger.js';
import { Channel, decodeControl, encodeControl } from './control-codec.js';
import { describeOutput } from './describe-output.js';
import { JoinError } from './join-error.js';
import type { PersistenceHandler, RestartLogHook, StateHandler } from './replica-hooks.js';
import { SendBatcher } from './send-batcher.js';
import { StateSender } from './state-sender.js';
import { ViewFabric } from './view-fabric.js';

export interface MemberShellOptions {
  /** The protocol's settings (identity, contact, allocators, timeouts). */
  readonly member: MemberOptions;
  readonly fabric: Fabric;
  readonly clock: Clock;
  readonly log: Logger;
  /** The protocol's clock period: join retries and deadlines while joining, heartbeats once running. */
  readonly tickIntervalUs: number;
  /** How long a state transfer waits for the connection to its receiver. */
  readonly connectTimeoutUs: number;
  /** Where views and ragged trims are logged for a total restart; without it trims need no disk. */
  readonly restartLog?: RestartLogHook;
  /**
   * An exception in the protocol or in carrying out an output escapes to the caller instead of
   * stopping this node: the simulator's choice (it is a bug, reported with its seed). A real node
   * must not let one escape into a fabric callback or a timer.
   */
  readonly rethrow?: boolean;
  /** Sees every output before it is carried out, and the end of every step (the simulator's checkers). */
  readonly observer?: ShellObserver;
}

export interface ShellObserver {
  output?(o: MemberOutput): void;
  afterStep?(): void;
}

export interface MemberShellEvents {
  view: [ViewChange];
  deliver: [DeliverOutput];
  /** This node stopped: the rest of the group removed it, it was on the minority side of a
   *  partition, or it left. Nothing is delivered after this. */
  shutdown: [{ reason: MemberShutdownReason; message: string }];
  peerFailed: [{ nodeId: number; reason: string }];
  /** After each fabric batch was handed to the core: send queues may have shrunk. */
  progress: [];
}

/** Counters of the receive path, for benchmarks that explain where time goes. */
export interface ShellStats {
  /** Wake-ups: batches handed over by the fabric. */
  pollBatches: number;
  /** Remote SST writes applied, over all batches. */
  remoteWrites: number;
  /** Messages delivered to the application. */
  deliveries: number;
}

export class MemberShell extends EventEmitter<MemberShellEvents> {
  readonly nodeId: number;
  readonly log: Logger;
  readonly stats: ShellStats = { pollBatches: 0, remoteWrites: 0, deliveries: 0 };
  /** Set while the group is wedged because its next view is inadequate; cleared at the next install. */
  inadequateReason: string | undefined;
  /** The protocol: formation, joining and every view, sans-I/O. This class only carries it out. */
  readonly member: Member;
  protected readonly fabric: Fabric;
  protected readonly clock: Clock;
  /** The fabric resources of the current view (its table, its RDMC groups). */
  private viewFabric: ViewFabric | undefined;
  private tickTimer: ClockTimer | undefined;
  private stateHandler: StateHandler | undefined;
  private persistenceHandler: PersistenceHandler | undefined;
  private rpcHandler: ((from: number, frame: Uint8Array) => void) | undefined;
  private joinWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private closed = false;
  private lastView: GroupView | undefined;
  private readonly sends: SendBatcher;
  private readonly states: StateSender;
  private readonly observer: ShellObserver | undefined;

  constructor(private readonly shellOptions: MemberShellOptions) {
    super();
    this.fabric = shellOptions.fabric;
    this.clock = shellOptions.clock;
    this.log = shellOptions.log;
    this.nodeId = shellOptions.member.me.id;
    this.observer = shellOptions.observer;
    this.member = new Member(shellOptions.member);
    this.sends = new SendBatcher(this.clock, shellOptions.member.payloadChunks, (batch) => this.step(batch));
    this.states = new StateSender(this.fabric, this.clock, this.log, shellOptions.connectTimeoutUs, (to, m) => this.sendControl(to, m));
    this.fabric.onBatch((b) => this.onBatch(b));
  }

  /** The running view (undefined before the first one starts and after shutdown). */
  get view(): GroupView | undefined {
    return this.closed ? undefined : this.member.view;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Joins or forms the group; resolves once a view has started here. Closes the node on failure. */
  async start(): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => {
      this.joinWaiter = { resolve, reject };
    });
    this.begin();
    try {
      await joined;
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Starts the protocol's clock and the join (or formation), without waiting for it. */
  begin(): void {
    this.tickTimer = this.clock.every(this.shellOptions.tickIntervalUs, () => this.step({ kind: 'tick', nowUs: this.clock.nowUs() }));
    this.step({ kind: 'start', nowUs: this.clock.nowUs() });
  }

  // ---- inputs ----

  /**
   * The fabric's batch. Whatever throws below it (a malformed message a check missed, a handler,
   * a native call) must not escape into the fabric's callback and kill the process: this node
   * fails itself instead, with a `shutdown` event that says why.
   */
  private onBatch(batch: FabricBatch): void {
    if (this.shellOptions.rethrow === true) return this.handleBatch(batch);
    try {
      this.handleBatch(batch);
    } catch (err) {
      this.fail(`an exception escaped the receive path: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  private handleBatch(batch: FabricBatch): void {
    if (this.closed) return;
    this.stats.pollBatches++;
    this.stats.remoteWrites += batch.writes;
    this.logFabricLines(batch);
    for (const id of batch.connected) {
      this.step({ kind: 'connected', node: id });
      this.states.connected(id);
    }
    for (const m of batch.p2p) this.onP2P(m.from, m.data);
    const viewFabric = this.viewFabric;
    if (viewFabric !== undefined && !this.closed) {
      for (const m of batch.rdmc) {
        // Completions of groups of an older view are late: that view's trim already decided.
        const route = viewFabric.route(m.groupId);
        if (route !== undefined && this.viewFabric === viewFabric) this.step({ kind: 'rdmcComplete', subgroup: route.subgroup, senderRow: route.senderRow, message: m.data });
      }
      if (this.viewFabric === viewFabric && batch.changed.some((c) => c.regionId === viewFabric.vid)) this.step({ kind: 'rowsChanged' });
    }
    this.emit('progress');
    for (const f of batch.failures) {
      if (this.closed) return;
      this.states.failed(f.nodeId, f.reason);
      // While the contact is being dialed, any failure is that dial's: under `unknownPeer` when
      // the dial itself failed, under the contact's id when its handshake did.
      if (f.nodeId === this.fabric.unknownPeer || this.member.phaseName === 'dialing') {
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
   * The fabric's own log lines, at their level, except the connection drops that come with
   * routine events: while the contact is dialed (each failed dial is a retry, summarized at info
   * once the contact answers) and when every peer lost in the batch had left or been removed.
   * Those go to debug: an operator has nothing to do about them.
   */
  private logFabricLines(batch: FabricBatch): void {
    if (batch.logs.length === 0) return;
    const routine = this.member.phaseName === 'dialing' || (batch.failures.length > 0 && batch.failures.every((f) => f.nodeId !== this.fabric.unknownPeer && this.departed(f.nodeId)));
    for (const l of batch.logs) {
      const level = routine && (l.level === 'warn' || l.level === 'error') ? 'debug' : l.level;
      this.log[level]({ fabric: true }, l.message);
    }
  }

  /** Who handles Channel.Rpc messages (the frame without its channel byte); without one they drop the peer. */
  setRpcHandler(handler: (from: number, frame: Uint8Array) => void): void {
    this.rpcHandler = handler;
  }

  /** Who makes persistent subgroups durable (set before the group starts). */
  setPersistenceHandler(handler: PersistenceHandler): void {
    this.persistenceHandler = handler;
  }

  /** Where subgroup state comes from and goes to (the RPC layer's replicas). */
  setStateHandler(handler: StateHandler): void {
    this.stateHandler = handler;
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
    this.fabric.failPeer(peer, why, { routine: false });
  }

  /** Sends a P2P message (an RPC frame with its channel byte) to `to`; throws without a connection. */
  sendP2P(to: number, data: Uint8Array | readonly Uint8Array[]): void {
    this.fabric.sendP2P(to, data);
  }

  /**
   * One input to the protocol and its outputs carried out. Nothing thrown here may escape into a
   * fabric callback, a timer or a deferred call (it would kill the process, and the others would
   * count this node as one more failure at the worst moment): an input the protocol rejects, or
   * an output this shell cannot carry out, ends this node instead (`fail`).
   */
  step(input: MemberInput): void {
    if (this.closed || this.member.stopped) return;
    if (this.shellOptions.rethrow === true) {
      this.carryOutAll(this.member.step(input));
      this.observer?.afterStep?.();
      return;
    }
    let outputs: MemberOutput[];
    try {
      outputs = this.member.step(input);
    } catch (err) {
      this.fail(`the protocol rejected input ${input.kind}${this.where()}: ${errorText(err)}`);
      return;
    }
    this.carryOutAll(outputs);
    this.observer?.afterStep?.();
  }

  private carryOutAll(outputs: readonly MemberOutput[]): void {
    const observer = this.observer;
    for (const o of outputs) {
      if (this.closed) return;
      observer?.output?.(o);
      if (this.shellOptions.rethrow === true) {
        this.carryOut(o);
        continue;
      }
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
        this.viewFabric!.put(o.ranges, o.targets, o.withCompletion);
        break;
      case 'rdmcSend': {
        const viewFabric = this.viewFabric!;
        const group = viewFabric.sendGroup(o.subgroup);
        if (group === undefined) {
          // A singleton shard: RDMC to nobody but me completes at once.
          invariant(o.groupRows.length === 1, 'an RDMC send has a group', () => `subgroup ${o.subgroup} rows ${o.groupRows.join(',')}`);
          this.clock.defer(() => {
            if (this.viewFabric === viewFabric) this.step({ kind: 'rdmcComplete', subgroup: o.subgroup, senderRow: viewFabric.layout.myRank, message: o.message });
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
        const restartLog = this.shellOptions.restartLog;
        // Without persistent state a restart has nothing to recover: the trim needs no disk.
        if (restartLog === undefined) this.step({ kind: 'trimLogged', vid: o.vid, subgroup: o.subgroup });
        else {
          restartLog.appendTrim(o, (err) => {
            if (err === undefined) this.step({ kind: 'trimLogged', vid: o.vid, subgroup: o.subgroup });
            else this.fail(`cannot log the ragged trim of subgroup ${o.subgroup} in view ${o.vid}: ${errorText(err)}`);
          });
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
      case 'sendState': {
        // Snapshot now, at the view boundary, even if the connection to the receiver is not up yet.
        const state = this.stateHandler?.snapshot(o.subgroup) ?? null;
        this.states.send(o.to, { type: 'state', vid: o.vid, subgroup: o.subgroup, state, hlc: o.hlc });
        break;
      }
      case 'sendControl':
        this.sendControl(o.to, o.message);
        break;
      case 'dialContact':
        this.fabric.dialAddress(this.shellOptions.member.contact.host, this.shellOptions.member.contact.port);
        break;
      case 'connect':
        for (const m of o.peers) this.fabric.connect(m.id, m.host, m.port);
        break;
      case 'dropPeers':
        for (const id of o.nodes) this.fabric.failPeer(id, o.reason, { routine: o.misbehaved !== true });
        break;
      case 'createTable': {
        const old = this.viewFabric;
        this.viewFabric = new ViewFabric(this.fabric, o.view);
        old?.close();
        this.step({ kind: 'tableReady', vid: o.view.vid, table: this.viewFabric.table });
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
        this.shellOptions.restartLog?.appendView(o.view, (err) => {
          if (err !== undefined) this.fail(`cannot log view ${o.view.vid}: ${errorText(err)}`);
        });
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
      this.fabric.sendP2P(to, encodeControl(message));
    } catch (err) {
      this.log.warn({ to, type: message.type }, 'cannot send a control message: %s', errorText(err));
    }
  }

  /** This node's log of `subgroup` is durable through `version` (the answer to `persist`). */
  persisted(subgroup: number, version: Version): void {
    this.step({ kind: 'persisted', subgroup, version });
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
      if (vm !== undefined && this.viewFabric !== undefined) for (const o of vm.step({ kind: 'leave' })) if (o.kind === 'push') this.viewFabric.put(o.ranges, o.targets, o.withCompletion);
    } catch {
      // The protocol is past helping: the closed connections tell the others.
    }
    this.onShutdown('failed', message);
  }

  /** Reports `node` as failed, as the failure detector would (Derecho's report_failure). */
  reportFailure(node: number): void {
    this.requireView('reportFailure');
    // Application mistakes (not a member, myself) throw to the caller, not into the node's failure.
    this.carryOutAll(this.member.step({ kind: 'reportFailure', node }));
  }

  /** Leaves the group gracefully: the others install a view without this node, then it stops. */
  leave(): void {
    if (this.member.view !== undefined) this.step({ kind: 'leave' });
  }

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

  /**
   * Multicasts `payload` to subgroup `subgroupId` (queued in the core when the window is full). A
   * bad payload is refused here, synchronously, before anything is queued. `owned`: the caller
   * never writes `payload` again, so it is kept as is instead of copied.
   */
  send(subgroupId: number, payload: Uint8Array, cooked = false, owned = false): void {
    this.requireView('send');
    const vm = this.member.viewManager!;
    const sendWallUs = this.clock.nowUs();
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

  /**
   * The membership protocol of the installed view, read-only for status and metrics (ops/): its
   * phase, suspicions, stall reason and each shard's SST frontiers. Undefined while joining.
   */
  get protocol(): Pick<ViewManager, 'phase' | 'suspectedIds' | 'stallReason' | 'core' | 'view' | 'vid' | 'myRank'> | undefined {
    return this.closed ? undefined : this.member.viewManager;
  }

  /**
   * The stability frontier (wall-clock µs) of my shard of `subgroup` in the installed view: no
   * version with an earlier HLC can still be delivered here. Undefined outside its shards.
   */
  stabilityFrontierUs(subgroup: number): number | undefined {
    return this.member.viewManager?.core.shardOf(subgroup)?.shardStabilityFrontierUs();
  }

  /** Whether this node is a member of some shard of `subgroup` in the installed view. */
  isMember(subgroup: number): boolean {
    const vm = this.member.viewManager;
    return vm !== undefined && vm.core.shardOf(subgroup) !== undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tickTimer?.cancel();
    this.states.close();
    this.failJoin(new JoinError('the node was closed while joining'));
    this.viewFabric?.close();
    this.fabric.close();
    this.removeAllListeners();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
