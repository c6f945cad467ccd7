/**
 * The protocol running on the real fabric, from view 0 on: the view manager (membership, and the
 * current view's multicast core inside it) over one ViewFabric per view. It turns the manager's
 * outputs into puts, RDMC sends, view installations and callbacks, and feeds it what the fabric
 * polled and which peers failed.
 */
import type { Endpoint, PollResult } from '@derecho-ts/rdma-native';
import type { DeliverOutput, GlobalPersistedOutput, PersistOutput } from '../core/core-io.js';
import { invariant } from '../core/invariant.js';
import type { GroupView, MemberAddress } from '../core/membership/group-view.js';
import type { MembershipOutput, ShutdownReason } from '../core/membership/membership-io.js';
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
  /** This node must stop: partitioned, removed by the others, or left. */
  shutdown(reason: ShutdownReason, message: string): void;
  /** I am the new view's rank 0: send the view and its state-transfer table to joiner `to`. */
  sendView(to: MemberAddress, view: GroupView, stateTransfers: readonly StateTransfer[]): void;
  /** I am the old shard leader: snapshot subgroup `subgroup` now and send it to `to`. */
  sendState(subgroup: number, to: MemberAddress, vid: number): void;
  /** The next view cannot be provisioned: the group stays wedged until enough nodes join. */
  inadequate(vid: number, message: string): void;
  /** Answer a joiner that asked the wrong member, or whose id is taken. */
  joinReply(to: MemberAddress, reply: { kind: 'redirect'; leader: MemberAddress } | { kind: 'refused'; code: string; message: string }): void;
}

/** How long members wait for the connections to joiners while installing a view. */
const INSTALL_CONNECT_TIMEOUT_MS = 5000;

export interface ViewRuntimeOptions {
  readonly heartbeatIntervalUs: number;
  readonly allocate: AllocateNextView;
  readonly partitionSafety: boolean;
  readonly log: Logger;
}

export class ViewRuntime {
  private fabric: ViewFabric;
  private vm: ViewManager | undefined;
  private closed = false;
  /** Between installView and viewTableReady: connecting to joiners before the new table exists. */
  private installing = false;
  /** Sends of this tick, per subgroup (cooked ones under -1 - subgroup). */
  private readonly pendingSends = new Map<number, { subgroup: number; cooked: boolean; payloads: Uint8Array[]; sendWallUs: number; rdmcHeaderRoom: boolean }>();
  private flushScheduled = false;
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

  /** Called when the start barrier releases view 0 (or a joiner's first view): the protocol runs. */
  start(): void {
    invariant(this.vm === undefined, 'a runtime starts once', () => `view ${this.fabric.vid}`);
    this.vm = new ViewManager({
      view: this.fabric.view,
      myId: this.endpoint.nodeId,
      table: this.fabric.table,
      allocate: this.options.allocate,
      heartbeatIntervalUs: this.options.heartbeatIntervalUs,
      partitionSafety: this.options.partitionSafety,
      payloadChunks: uninitializedChunks,
    });
    // Writes that peers made after their own start may already be in the table.
    this.run(this.vm.onRowsChanged());
  }

  get started(): boolean {
    return this.vm !== undefined;
  }

  /**
   * Whether the loss of `node` is routine: it left gracefully (its row says so) or is no longer a
   * member of the installed view (removed already, or a joiner that was not admitted).
   */
  departed(node: number): boolean {
    if (this.vm === undefined) return false;
    return this.vm.ripIds.includes(node) || !this.vm.view.members.some((m) => m.id === node);
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
      this.run(vm.step({ kind: 'rdmcComplete', subgroup: route.subgroup, senderRow: route.senderRow, message: m.data }));
      if (this.closed) return;
    }
    if (result.changed.some((c) => c.regionId === this.fabric.vid)) this.run(vm.onRowsChanged());
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
    this.run(vm.step({ kind: 'persisted', subgroup, version }));
  }

  /** A peer's connection broke or its heartbeat went unacknowledged. */
  onPeerFailed(node: number): void {
    if (this.vm === undefined || this.closed) return;
    this.run(this.vm.step({ kind: 'peerFailed', node }));
  }

  /** A node asked this member to join the group. */
  onJoinRequest(joiner: MemberAddress): void {
    if (this.vm === undefined || this.closed) return;
    this.run(this.vm.step({ kind: 'joinRequest', joiner }));
  }

  /** The application reports `node` as failed (Derecho's report_failure). */
  reportFailure(node: number): void {
    this.run(this.requireVm('reportFailure').step({ kind: 'reportFailure', node }));
  }

  /** Leaves the group gracefully; `shutdown` with reason 'left' follows. */
  leave(): void {
    if (this.vm === undefined || this.closed) return;
    this.run(this.vm.step({ kind: 'leave' }));
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
    for (const b of batches) this.run(this.vm.step({ kind: 'sendBatch', subgroup: b.subgroup, payloads: b.payloads, sendWallUs: b.sendWallUs, cooked: b.cooked, owned: true, rdmcHeaderRoom: b.rdmcHeaderRoom }));
  }

  tick(nowUs: number): void {
    if (this.vm && !this.closed) this.run(this.vm.tick(nowUs));
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

  private run(outputs: readonly MembershipOutput[]): void {
    for (const o of outputs) {
      if (this.closed) return;
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
              if (this.vm && !this.closed && this.fabric.vid === vid) this.run(this.vm.step({ kind: 'rdmcComplete', subgroup: o.subgroup, senderRow: this.fabric.layout.myRank, message: o.message }));
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
          else this.run(this.vm!.step({ kind: 'persisted', subgroup: o.subgroup, version: o.version }));
          break;
        case 'globalPersisted':
          this.handlers.globalPersisted?.(o);
          break;
        case 'logTrim':
          // No persistent types are wired to this driver yet, so there is no restart log to write
          // the trim to: it is as durable as it needs to be at once.
          this.run(this.vm!.step({ kind: 'trimLogged', vid: o.vid, subgroup: o.subgroup }));
          break;
        case 'installView':
          // After the outputs still to handle here and in the runs this one is nested in: they
          // belong to the closing view (pushes to its ranks, through its table), and an install
          // with no joiners to wait for would otherwise switch the table under them.
          this.installing = true;
          queueMicrotask(() => void this.install(o.view, o.removed, o.joined));
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
        case 'sendView':
          this.handlers.sendView(o.to, o.view, o.stateTransfers);
          break;
        case 'sendState':
          this.handlers.sendState(o.subgroup, o.to, o.vid);
          break;
        case 'shutdown':
          this.closed = true;
          this.handlers.shutdown(o.reason, o.message);
          return;
      }
    }
  }

  /**
   * Installs the next view: drop the departed, connect to the joiners and wait for those
   * connections (a put to a peer not yet connected would be lost, and the joiner would miss a
   * message), then create the view's table and let the protocol go on in it.
   */
  private async install(view: GroupView, removed: readonly number[], joined: readonly MemberAddress[]): Promise<void> {
    if (this.closed) return;
    this.installing = true;
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
    if (this.closed) return;
    const old = this.fabric;
    this.fabric = new ViewFabric(this.endpoint, view);
    old.close();
    this.installing = false;
    this.handlers.installed(view, removed, joined);
    this.run(this.vm!.step({ kind: 'viewTableReady', vid: view.vid, table: this.fabric.table }));
    for (const j of joined) if (!this.endpoint.connectedPeers().includes(j.id)) this.onPeerFailed(j.id);
  }

  close(): void {
    this.closed = true;
    this.fabric.close();
  }
}
