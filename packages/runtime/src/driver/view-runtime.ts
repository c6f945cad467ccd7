/**
 * The protocol running on the real fabric, from view 0 on: the view manager (membership, and the
 * current view's multicast core inside it) over one ViewFabric per view. It turns the manager's
 * outputs into puts, RDMC sends, view installations and callbacks, and feeds it what the fabric
 * polled and which peers failed.
 */
import type { Endpoint, PollResult } from '@derecho-ts/rdma-native';
import type { DeliverOutput, GlobalPersistedOutput, PersistOutput } from '../core/core-io.js';
import type { Hlc } from '../core/hlc.js';
import { invariant } from '../core/invariant.js';
import type { GroupView, MemberAddress } from '../core/membership/group-view.js';
import type { MembershipInput, MembershipOutput, ShutdownReason } from '../core/membership/membership-io.js';
import type { AllocateNextView, StateTransfer } from '../core/membership/next-view.js';
import { ViewManager } from '../core/membership/view-manager.js';
import { PayloadSlab } from '../core/payload-slab.js';
import { HEADER_BYTES } from '../core/sst-layout.js';
import { findMyShard } from '../core/view.js';
import { formatVersion, versionVid, type Version } from '../core/version.js';
import type { Logger } from './logger.js';
import { uninitializedChunks } from './uninitialized-chunks.js';
import { ViewFabric } from './view-fabric.js';

export interface ViewRuntimeHandlers {
  deliver(d: DeliverOutput): void;
  persist?(p: PersistOutput): void;
  globalPersisted?(p: GlobalPersistedOutput): void;
  /** A new view is installed here (after the closing view delivered its trim). */
  installed(view: GroupView, removed: readonly number[], joined: readonly MemberAddress[]): void;
  /**
   * This node must stop: partitioned, removed by the others, left, or `failed`: it could not
   * carry out the protocol (an invariant violation here or in the core, a native call refused),
   * so it leaves rather than run on in a state nobody can vouch for.
   */
  shutdown(reason: NodeShutdownReason, message: string): void;
  /** I am the new view's rank 0: send the view and its state-transfer table to joiner `to`. */
  sendView(to: MemberAddress, view: GroupView, stateTransfers: readonly StateTransfer[]): void;
  /** I am the old shard leader: snapshot subgroup `subgroup` now and send it, with `hlc`, to `to`. */
  sendState(subgroup: number, to: MemberAddress, vid: number, hlc: Hlc): void;
  /**
   * I move into shards of view `vid` (`transfers` are the state transfers to me): wait for their
   * state, install it, and resolve with the HLC that came with each subgroup's state.
   */
  receiveStates(view: GroupView, transfers: readonly StateTransfer[]): Promise<ReadonlyMap<number, Hlc>>;
  /** The next view cannot be provisioned: the group stays wedged until enough nodes join. */
  inadequate(vid: number, message: string): void;
  /** Answer a joiner that asked the wrong member, or whose id is taken. */
  joinReply(to: MemberAddress, reply: { kind: 'redirect'; leader: MemberAddress } | { kind: 'refused'; code: string; message: string } | { kind: 'deferred'; message: string }): void;
}

/** How long members wait for the connections to joiners while installing a view. */
const INSTALL_CONNECT_TIMEOUT_MS = 5000;

/** Why a node stopped: the protocol's reasons, or its own failure to carry the protocol out. */
export type NodeShutdownReason = ShutdownReason | 'failed';

export interface ViewRuntimeOptions {
  readonly heartbeatIntervalUs: number;
  readonly allocate: AllocateNextView;
  readonly partitionSafety: boolean;
  /** A group that stays wedged for STALL_REPORT_TIMEOUTS of these says why, at warn level. */
  readonly failureTimeoutMs: number;
  readonly log: Logger;
}

/** How many failure timeouts a view change may take before the node reports what it waits for. */
const STALL_REPORT_TIMEOUTS = 3;

export class ViewRuntime {
  private fabric: ViewFabric;
  private vm: ViewManager | undefined;
  private closed = false;
  /** Between installView and viewTableReady: connecting to joiners before the new table exists. */
  private installing = false;
  /** Sends of this tick, per subgroup (cooked ones under -1 - subgroup). */
  private readonly pendingSends = new Map<number, { subgroup: number; cooked: boolean; payloads: Uint8Array[]; sendWallUs: number; rdmcHeaderRoom: boolean }>();
  private flushScheduled = false;
  /** Since when the protocol has been waiting (see watchStall), and the reason last reported. */
  private stall: { sinceUs: number; reported: string | undefined } = { sinceUs: Number.NaN, reported: undefined };
  /** Send copies come out of shared chunks: one allocation per chunk, not per message. */
  private readonly sendSlab = new PayloadSlab(uninitializedChunks);

  constructor(
    private readonly endpoint: Endpoint,
    view: GroupView,
    private readonly handlers: ViewRuntimeHandlers,
    private readonly options: ViewRuntimeOptions,
  ) {
    this.fabric = new ViewFabric(endpoint, view);
  }

  /**
   * Called when the start barrier releases view 0 (or a joiner's first view): the protocol runs.
   * `hlcFloors`: a joiner's first view, the HLC that came with each shard state it received.
   */
  start(hlcFloors?: ReadonlyMap<number, Hlc>): void {
    invariant(this.vm === undefined, 'a runtime starts once', () => `view ${this.fabric.vid}`);
    this.vm = new ViewManager({
      view: this.fabric.view,
      myId: this.endpoint.nodeId,
      table: this.fabric.table,
      allocate: this.options.allocate,
      heartbeatIntervalUs: this.options.heartbeatIntervalUs,
      partitionSafety: this.options.partitionSafety,
      payloadChunks: uninitializedChunks,
      hlcFloors,
    });
    // Writes that peers made after their own start may already be in the table.
    this.step({ kind: 'rowsChanged' });
  }

  get started(): boolean {
    return this.vm !== undefined;
  }

  /** The installed view. */
  get view(): GroupView {
    return this.vm?.view ?? this.fabric.view;
  }

  /** Hands one polled batch to the protocol: completed RDMC messages, then the table changes once. */
  onPoll(result: PollResult): void {
    const vm = this.vm;
    // While installing, the closing view is over (its trim is delivered) and the next table does
    // not exist yet: its writes are held by the fabric and applied when it is created.
    if (vm === undefined || this.closed || this.installing) return;
    for (const m of result.rdmc) {
      // Completions of groups of an older view are late: that view's trim already decided.
      const route = this.fabric.route(m.groupId);
      if (route === undefined) continue;
      this.step({ kind: 'rdmcComplete', subgroup: route.subgroup, senderRow: route.senderRow, message: m.data });
      if (this.closed) return;
    }
    if (result.changed.some((c) => c.regionId === this.fabric.vid)) this.step({ kind: 'rowsChanged' });
  }

  /**
   * The answer to a `persist` output: this node's log of `subgroup` is durable through
   * `version`. A report for an earlier view is dropped (that view waited for it before ending,
   * so it cannot be one the protocol still needs).
   */
  persisted(subgroup: number, version: Version): void {
    const vm = this.vm;
    if (vm === undefined || this.closed) return;
    if (versionVid(version) !== vm.view.vid) {
      this.options.log.debug({ subgroup, version: formatVersion(version), vid: vm.view.vid }, 'a persistence report for an earlier view; dropped');
      return;
    }
    this.step({ kind: 'persisted', subgroup, version });
  }

  /** A peer's connection broke or its heartbeat went unacknowledged. */
  onPeerFailed(node: number): void {
    if (this.vm === undefined || this.closed) return;
    this.step({ kind: 'peerFailed', node });
  }

  /** A node asked this member to join the group. */
  onJoinRequest(joiner: MemberAddress): void {
    if (this.vm === undefined || this.closed) return;
    this.step({ kind: 'joinRequest', joiner });
  }

  /** The application reports `node` as failed (Derecho's report_failure). */
  reportFailure(node: number): void {
    this.run(this.requireVm('reportFailure').step({ kind: 'reportFailure', node }));
  }

  /** Leaves the group gracefully; `shutdown` with reason 'left' follows. */
  leave(): void {
    if (this.vm === undefined || this.closed) return;
    this.step({ kind: 'leave' });
  }

  /**
   * Queues a multicast. Sends made in the same tick reach the protocol together (one `sendBatch`
   * per subgroup at the next microtask), so one push carries many slots instead of one each. A bad
   * payload is refused here, synchronously, before anything is queued.
   */
  send(subgroup: number, payload: Uint8Array, sendWallUs: number, cooked = false, owned = false): void {
    const vm = this.requireVm('send');
    vm.core.checkSend(subgroup, payload, sendWallUs, cooked);
    const key = cooked ? -1 - subgroup : subgroup;
    let batch = this.pendingSends.get(key);
    if (batch === undefined) this.pendingSends.set(key, (batch = { subgroup, cooked, payloads: [], sendWallUs, rdmcHeaderRoom: !owned }));
    // Copied now (unless handed over): the batch reaches the core at the next microtask, and the
    // caller may reuse its buffer as soon as send() returns. The core takes the copy as its own.
    // A copy that will travel by RDMC gets room for the message header in front of it, so the
    // core need not copy it again into a header + payload message.
    if (owned && !batch.rdmcHeaderRoom) batch.payloads.push(payload);
    else if (payload.length > this.fabric.layout.subgroups[subgroup].params.maxSmcPayloadBytes) batch.payloads.push(this.sendSlab.copyWithRoom(payload, HEADER_BYTES));
    else batch.payloads.push(this.sendSlab.copy(payload));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flushSends());
    }
  }

  private flushSends(): void {
    this.flushScheduled = false;
    if (this.vm === undefined || this.closed) return;
    const batches = [...this.pendingSends.values()];
    this.pendingSends.clear();
    for (const b of batches) this.step({ kind: 'sendBatch', subgroup: b.subgroup, payloads: b.payloads, sendWallUs: b.sendWallUs, cooked: b.cooked, owned: true, rdmcHeaderRoom: b.rdmcHeaderRoom });
  }

  tick(nowUs: number): void {
    if (!this.vm || this.closed) return;
    this.step({ kind: 'tick', nowUs });
    if (!this.closed) this.watchStall(nowUs);
  }

  /**
   * A wedged group is never silent: once a view change has taken several failure timeouts, say
   * (once per distinct reason) what the protocol waits for; say so again when it moves on.
   */
  private watchStall(nowUs: number): void {
    const reason = this.vm!.stallReason();
    if (reason === undefined) {
      if (this.stall.reported !== undefined) this.options.log.info({ vid: this.vm!.vid }, 'the group is moving again');
      this.stall = { sinceUs: nowUs, reported: undefined };
      return;
    }
    if (Number.isNaN(this.stall.sinceUs)) this.stall.sinceUs = nowUs;
    const stalledMs = (nowUs - this.stall.sinceUs) / 1000;
    if (stalledMs < STALL_REPORT_TIMEOUTS * this.options.failureTimeoutMs || reason === this.stall.reported) return;
    this.stall.reported = reason;
    this.options.log.warn({ vid: this.vm!.vid, stalledMs: Math.round(stalledMs) }, 'no new view for %d ms: %s', Math.round(stalledMs), reason);
  }

  /** Sends not yet published: waiting for the next flush, a window slot, or the next view. */
  queuedSends(subgroup: number): number {
    const pending = (this.pendingSends.get(subgroup)?.payloads.length ?? 0) + (this.pendingSends.get(-1 - subgroup)?.payloads.length ?? 0);
    let inCore = 0;
    try {
      inCore = this.vm?.core.queuedSends(subgroup) ?? 0;
    } catch {
      // Not in that subgroup in the current view.
    }
    return pending + inCore;
  }

  /** Whether this node is a member of some shard of `subgroup` in the installed view. */
  isMember(subgroup: number): boolean {
    return findMyShard(this.fabric.layout, subgroup) !== undefined;
  }

  get phase(): string {
    return this.vm?.phase ?? 'forming';
  }

  private requireVm(what: string): ViewManager {
    if (this.vm === undefined) throw new Error(`${what}: view ${this.fabric.vid} has not started yet`);
    if (this.closed) throw new Error(`${what}: this node has left the group`);
    return this.vm;
  }

  /**
   * One input to the protocol and its outputs carried out. Nothing thrown here may escape into a
   * poll callback, a timer or a microtask (it would kill the process, and the others would count
   * this node as one more failure at the worst moment): an input the protocol rejects, or an
   * output this driver cannot carry out, ends this node instead (`failed`).
   */
  private step(input: MembershipInput): void {
    const vm = this.vm;
    if (vm === undefined || this.closed) return;
    let outputs: MembershipOutput[];
    try {
      outputs = vm.step(input);
    } catch (err) {
      this.fail(`the protocol rejected input ${input.kind} in view ${vm.vid} at rank ${vm.myRank}: ${errorText(err)}`);
      return;
    }
    this.run(outputs);
  }

  private run(outputs: readonly MembershipOutput[]): void {
    const vm = this.vm!;
    for (const o of outputs) {
      if (this.closed) return;
      try {
        this.carryOut(o);
      } catch (err) {
        this.fail(`invariant violated: cannot carry out ${describeOutput(o)} in view ${vm.vid} at rank ${vm.myRank}: ${errorText(err)}`);
        return;
      }
    }
  }

  private carryOut(o: MembershipOutput): void {
    switch (o.kind) {
      case 'push':
        this.fabric.put(o.ranges, o.targets, o.withCompletion);
        break;
      case 'rdmcSend': {
        const group = this.fabric.sendGroup(o.subgroup);
        if (group === undefined) {
          // A singleton shard: RDMC to nobody but me completes at once.
          invariant(o.groupRows.length === 1, 'an RDMC send has a group', () => `subgroup ${o.subgroup} rows ${o.groupRows.join(',')}`);
          const vid = this.fabric.vid;
          queueMicrotask(() => {
            if (this.fabric.vid === vid) this.step({ kind: 'rdmcComplete', subgroup: o.subgroup, senderRow: this.fabric.layout.myRank, message: o.message });
          });
        } else {
          group.send(o.message);
        }
        break;
      }
      case 'deliver':
        this.handlers.deliver(o);
        break;
      case 'persist':
        if (this.handlers.persist) this.handlers.persist(o);
        else this.step({ kind: 'persisted', subgroup: o.subgroup, version: o.version });
        break;
      case 'globalPersisted':
        this.handlers.globalPersisted?.(o);
        break;
      case 'logTrim':
        // No persistent types are wired to this driver yet, so there is no restart log to write
        // the trim to: it is as durable as it needs to be at once.
        this.step({ kind: 'trimLogged', vid: o.vid, subgroup: o.subgroup });
        break;
      case 'installView':
        // The closing view's step is over (installView is its last output): from here on the
        // fabric is the next view's, so nothing of the closing view may be carried out after it.
        this.installing = true;
        void this.install(o.view, o.removed, o.joined, o.stateTransfers);
        break;
      case 'inadequate':
        this.options.log.warn({ vid: o.vid }, 'the next view cannot be provisioned; the group stays wedged until more nodes join: %s', o.message);
        this.handlers.inadequate(o.vid, o.message);
        break;
      case 'sendsDropped':
        this.options.log.warn({ subgroup: o.subgroup, count: o.count }, 'own messages of the closing view could not be re-sent: this node no longer sends in that subgroup');
        break;
      case 'joinRedirect':
        this.handlers.joinReply(o.to, { kind: 'redirect', leader: o.leader });
        break;
      case 'joinRefused':
        this.handlers.joinReply(o.to, { kind: 'refused', code: o.code, message: o.message });
        break;
      case 'joinDeferred':
        this.handlers.joinReply(o.to, { kind: 'deferred', message: o.message });
        break;
      case 'sendView':
        this.handlers.sendView(o.to, o.view, o.stateTransfers);
        break;
      case 'sendState':
        this.handlers.sendState(o.subgroup, o.to, o.vid, o.hlc);
        break;
      case 'shutdown':
        this.closed = true;
        this.handlers.shutdown(o.reason, o.message);
        return;
    }
  }

  /**
   * This node cannot go on: it leaves (its rip tells the others at once, if the protocol can still
   * write it; otherwise they see its connections close) and says why in its `shutdown`.
   */
  fail(message: string): void {
    if (this.closed) return;
    this.options.log.error({ vid: this.vm?.vid }, 'this node fails itself: %s', message);
    try {
      for (const o of this.vm?.step({ kind: 'leave' }) ?? []) if (o.kind === 'push') this.fabric.put(o.ranges, o.targets, o.withCompletion);
    } catch {
      // The protocol is past helping: the closed connections tell the others.
    }
    this.closed = true;
    this.handlers.shutdown('failed', message);
  }

  /**
   * Installs the next view: drop the departed, connect to the joiners and wait for those
   * connections (a put to a peer not yet connected would be lost, and the joiner would miss a
   * message), receive the state of shards this node moves into, then create the view's table and
   * let the protocol go on in it.
   */
  private async install(view: GroupView, removed: readonly number[], joined: readonly MemberAddress[], transfers: readonly StateTransfer[]): Promise<void> {
    try {
      for (const id of removed) this.endpoint.failPeer(id, `removed from the group in view ${view.vid}`);
      for (const j of joined) this.endpoint.connect(j.id, j.host, j.port);
      if (joined.length > 0) {
        try {
          await this.endpoint.waitConnected(joined.map((j) => j.id), INSTALL_CONNECT_TIMEOUT_MS);
        } catch (err) {
          // A joiner that cannot be reached is suspected in the new view like any failed member.
          this.options.log.warn({ vid: view.vid }, 'a joiner could not be reached: %s', (err as Error).message);
        }
      }
      const mine = transfers.filter((t) => t.to === this.endpoint.nodeId);
      const hlcFloors = mine.length > 0 ? await this.handlers.receiveStates(view, mine) : undefined;
      if (this.closed) return;
      const old = this.fabric;
      this.fabric = new ViewFabric(this.endpoint, view);
      old.close();
      this.installing = false;
      this.handlers.installed(view, removed, joined);
      this.step({ kind: 'viewTableReady', vid: view.vid, table: this.fabric.table, hlcFloors });
      for (const j of joined) if (!this.endpoint.connectedPeers().includes(j.id)) this.onPeerFailed(j.id);
    } catch (err) {
      this.fail(`cannot install view ${view.vid}: ${errorText(err)}`);
    }
  }

  close(): void {
    this.closed = true;
    this.fabric.close();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An output as a log line: its kind and fields, payloads and tables by size only. */
export function describeOutput(o: MembershipOutput): string {
  const text = JSON.stringify(o, (_, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return `<${v.length} bytes>`;
    if (v instanceof ArrayBuffer) return `<${v.byteLength}-byte table>`;
    return v;
  });
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}
