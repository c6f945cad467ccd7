/**
 * The membership protocol (reference §2.10–2.12) as a sans-I/O state machine that spans views:
 * it owns the current view's MulticastCore and runs the membership predicates over the same SST
 * table (the core owns the multicast columns, this class the membership columns). The driver feeds
 * inputs (`step`) and carries out the outputs in order; see README.md in this folder.
 *
 * Per view, at most one batch of changes is proposed (it ends with `end_of_view`): failures and
 * joins that arrive once a batch exists wait for the next view. Change counters therefore start at
 * 0 in every view (Derecho keeps cumulative counters and queues changes past the marker; we
 * re-derive them in the next view from the carried suspicions and the leader's pending joins).
 */
import type { CoreOutput } from '../core-io.js';
import { invariant } from '../invariant.js';
import { MulticastCore } from '../multicast-core.js';
import type { UndeliveredSend } from '../shard-multicast.js';
import type { ByteRange } from '../sst-layout.js';
import { viewLayoutFor, type GroupView, type MemberAddress } from './group-view.js';
import { MembershipColumns, encodeIpv4, type ChangeProposal } from './membership-columns.js';
import type { MembershipInput, MembershipOutput, ShutdownReason } from './membership-io.js';
import { makeNextView, stateTransfers, type AllocateNextView, type NextView, type StateTransfer } from './next-view.js';
import { findMyShard } from '../view.js';
import type { ChunkAllocator } from '../payload-slab.js';
import type { Hlc } from '../hlc.js';

export interface ViewManagerOptions {
  /** The view this node starts in (view 0 from formation, or the view a joiner was sent). */
  readonly view: GroupView;
  readonly myId: number;
  /** The view's table, already initialized with initializeSstTable(layout, table, view.vid). */
  readonly table: ArrayBuffer;
  /** Subgroup allocation of candidate views; throws InadequateLayoutError when too few members. */
  readonly allocate: AllocateNextView;
  readonly heartbeatIntervalUs?: number;
  /** Shut down when half or more of the view is suspected (default true; Derecho's default is false). */
  readonly partitionSafety?: boolean;
  /** Memory for payload copies (see payload-slab.ts). */
  readonly payloadChunks?: ChunkAllocator;
  /** A joiner's first view: per subgroup it joins, the HLC that came with the shard's state. */
  readonly hlcFloors?: ReadonlyMap<number, Hlc>;
}

export type ViewManagerPhase = 'running' | 'changing' | 'awaitingTable' | 'stopped';

interface TrimState {
  /** The trim I log and then publish (leader) or echo (follower). */
  readonly value: readonly number[];
  published: boolean;
  logged: boolean;
  delivered: boolean;
}

interface QueuedSend {
  readonly subgroup: number;
  readonly payload: Uint8Array;
  readonly sendWallUs: number;
  readonly cooked: boolean;
}

export class ViewManager {
  private currentView: GroupView;
  private currentCore: MulticastCore;
  private cols: MembershipColumns;
  readonly myId: number;
  private readonly allocate: AllocateNextView;
  private readonly heartbeatIntervalUs: number | undefined;
  private readonly partitionSafety: boolean;
  private readonly out: MembershipOutput[] = [];
  private pushRanges: ByteRange[] = [];
  /** Core steps and membership flushes that produced pushes in this step (more than one: merge). */
  private pushSources = 0;
  private stoppedReason: ShutdownReason | undefined;
  private pendingJoins: MemberAddress[] = [];
  /** The committed batch of this view and the view it makes (set once; the batch never changes). */
  private committed: { readonly batch: readonly ChangeProposal[]; readonly next: NextView } | undefined;
  private trims = new Map<number, TrimState>();
  private awaiting:
    | {
        readonly next: NextView;
        readonly resends: Map<number, UndeliveredSend[]>;
        readonly suspects: Set<number>;
        /** Per subgroup: my shard in the closing view and its last delivered HLC. */
        readonly carried: Map<number, { readonly shard: number; readonly hlc: Hlc }>;
        readonly transfers: readonly StateTransfer[];
      }
    | undefined;
  private queuedSends: QueuedSend[] = [];
  private leaveRequested = false;
  private lastInadequate = '';
  /** Why the last candidate view could not be provisioned (cleared when a view installs). */
  private inadequateMessage: string | undefined;
  /** Counts for metrics and for tests that check the swarm covers what it claims. */
  readonly stats = { proposed: 0, adopted: 0, installed: 0, trimsReused: 0 };
  private readonly payloadChunks: ChunkAllocator | undefined;

  constructor(options: ViewManagerOptions) {
    this.myId = options.myId;
    this.allocate = options.allocate;
    this.heartbeatIntervalUs = options.heartbeatIntervalUs;
    this.partitionSafety = options.partitionSafety ?? true;
    this.currentView = options.view;
    this.payloadChunks = options.payloadChunks;
    this.currentCore = new MulticastCore({ view: viewLayoutFor(options.view, options.myId), table: options.table, heartbeatIntervalUs: options.heartbeatIntervalUs, payloadChunks: this.payloadChunks, hlcFloors: options.hlcFloors });
    this.cols = new MembershipColumns(this.currentCore.table);
  }

  get view(): GroupView {
    return this.currentView;
  }
  get vid(): number {
    return this.currentView.vid;
  }
  /** The current view's multicast core (for queries; feed inputs through `step`). */
  get core(): MulticastCore {
    return this.currentCore;
  }
  get myRank(): number {
    return this.currentCore.myRow;
  }
  get shutdownReason(): ShutdownReason | undefined {
    return this.stoppedReason;
  }
  get phase(): ViewManagerPhase {
    if (this.stoppedReason !== undefined) return 'stopped';
    if (this.awaiting) return 'awaitingTable';
    return this.currentCore.isWedged ? 'changing' : 'running';
  }
  /** Rank of the leader as I see it: the lowest rank I do not suspect. */
  get leaderRank(): number {
    for (let r = 0; r < this.cols.numRows; r++) if (!this.cols.suspected(this.myRank, r)) return r;
    return this.myRank;
  }
  get isLeader(): boolean {
    return this.leaderRank === this.myRank;
  }
  /** Joins the leader holds for the next batch. */
  get pendingJoinIds(): number[] {
    return this.pendingJoins.map((j) => j.id);
  }
  /** The committed batch of the current view, if any. */
  get committedBatch(): readonly ChangeProposal[] | undefined {
    return this.committed?.batch;
  }
  /** Node ids whose rows say they left gracefully (rip), as far as I have seen. */
  get ripIds(): number[] {
    return this.currentView.members.filter((_, r) => this.cols.rip(r)).map((m) => m.id);
  }
  /** Subgroups whose trim I published or echoed but have not delivered yet. */
  get trimsInProgress(): number {
    let n = 0;
    for (const t of this.trims.values()) if (t.published && !t.delivered) n++;
    return n;
  }
  /** Node ids I suspect in the current view. */
  get suspectedIds(): number[] {
    return this.currentView.members.filter((_, r) => this.cols.suspected(this.myRank, r)).map((m) => m.id);
  }

  step(input: MembershipInput): MembershipOutput[] {
    invariant(this.out.length === 0 && this.pushRanges.length === 0, 'no membership outputs left over between steps', () => `${this.out.length} outputs`);
    if (this.stoppedReason !== undefined) return [];
    switch (input.kind) {
      case 'send':
      case 'sendBatch':
        if (this.awaiting) {
          const payloads = input.kind === 'send' ? [input.payload] : input.payloads;
          // Kept past this call: copy unless the driver handed the payloads over.
          const owned = input.kind === 'sendBatch' && input.owned === true;
          for (const payload of payloads) this.queuedSends.push({ subgroup: input.subgroup, payload: owned ? payload : payload.slice(), sendWallUs: input.sendWallUs, cooked: input.cooked ?? false });
        } else this.emitCore(this.currentCore.step(input));
        break;
      case 'rowsChanged':
      case 'rdmcComplete':
      case 'tick':
      case 'persisted':
        // Between installView and viewTableReady the old view is over and the new one not built.
        if (!this.awaiting) this.emitCore(this.currentCore.step(input));
        break;
      case 'peerFailed':
        this.onFailure(input.node, false);
        break;
      case 'reportFailure':
        this.onFailure(input.node, true);
        break;
      case 'joinRequest':
        this.onJoinRequest(input.joiner);
        break;
      case 'leave':
        this.leaveRequested = true;
        if (!this.awaiting) this.leave();
        break;
      case 'trimLogged': {
        const t = this.trims.get(input.subgroup);
        if (input.vid === this.vid && !this.awaiting && t) t.logged = true;
        break;
      }
      case 'viewTableReady':
        this.installTable(input.vid, input.table, input.hlcFloors);
        break;
      default: {
        const never: never = input;
        throw new Error(`unknown membership input ${JSON.stringify(never)}`);
      }
    }
    this.evaluate();
    return this.drain();
  }

  // Named helpers, as on the multicast core.
  tick(nowUs: number): MembershipOutput[] {
    return this.step({ kind: 'tick', nowUs });
  }
  onRowsChanged(): MembershipOutput[] {
    return this.step({ kind: 'rowsChanged' });
  }
  send(subgroup: number, payload: Uint8Array, sendWallUs: number, cooked = false): MembershipOutput[] {
    return this.step({ kind: 'send', subgroup, payload, sendWallUs, cooked });
  }

  /**
   * What the protocol is waiting for, in words an operator can act on; undefined while running
   * normally. The driver logs it when the group has not installed a view for a while.
   */
  stallReason(): string | undefined {
    if (this.stoppedReason !== undefined) return undefined;
    if (this.awaiting) return `installing view ${this.awaiting.next.view.vid}: connecting to its joiners and receiving the state of shards this node moves into`;
    // Runs on every tick: nothing to compute while the view runs normally.
    if (!this.currentCore.isWedged) return undefined;
    const ids = (rows: number[]): string => rows.map((r) => this.currentView.members[r].id).join(', ');
    const live = Array.from({ length: this.cols.numRows }, (_, r) => r).filter((r) => !this.failed(r));
    const suspected = this.suspectedIds;
    const prefix = `view ${this.vid} is wedged${suspected.length > 0 ? ` (suspected: ${suspected.join(', ')})` : ''}`;
    if (this.inadequateMessage !== undefined) return `${prefix}; the next view cannot be provisioned, so the group waits for more nodes to join: ${this.inadequateMessage}`;
    if (!this.committed) {
      const leader = this.currentView.members[this.leaderRank].id;
      if (!this.isLeader) return `${prefix}; waiting for the leader (node ${leader}) to propose and commit the view change`;
      const n = this.cols.numChanges(this.myRank);
      const missing = live.filter((r) => r !== this.myRank && (this.cols.numAcked(r) < n || !this.cols.sameChanges(r, this.myRank, false)));
      return `${prefix}; this node leads the change and waits for acknowledgements from nodes ${ids(missing)}`;
    }
    const notWedged = live.filter((r) => !this.cols.wedged(r));
    if (notWedged.length > 0) return `${prefix}; the change is committed, waiting for nodes ${ids(notWedged)} to wedge`;
    for (const [g] of this.currentView.subgroups.entries()) {
      const shard = this.currentCore.shardOf(g);
      if (!shard || shard.numSenders === 0) continue;
      const t = this.trims.get(g);
      const shardLive = shard.memberRows.filter((r) => !this.failed(r));
      if (!t?.delivered) {
        const waiting = shardLive.filter((r) => !this.cols.globalMinReady(r, g));
        return `${prefix}; agreeing on the ragged trim of subgroup ${g}${t && !t.logged ? ' (logging the trim here)' : ''}, waiting for nodes ${ids(waiting)}`;
      }
      if (shard.ordered) {
        const last = this.currentCore.lastDeliveredVersion(g);
        const behind = shardLive.filter((r) => this.currentCore.table.i64('persistedNum', r, g) < last);
        if (behind.length > 0) return `${prefix}; waiting for nodes ${ids(behind)} to persist subgroup ${g} through the trimmed prefix`;
      }
    }
    return `${prefix}; the change is committed and the trims delivered, installing the next view`;
  }

  checkInvariants(): void {
    if (this.stoppedReason !== undefined || this.awaiting) return;
    this.currentCore.checkInvariants();
    const me = this.myRank;
    const n = this.cols.numChanges(me);
    invariant(this.cols.numAcked(me) <= n, 'num_acked <= num_changes', () => `${this.cols.numAcked(me)} > ${n}`);
    invariant(this.cols.numCommitted(me) <= this.cols.numAcked(me), 'num_committed <= num_acked', () => `${this.cols.numCommitted(me)} > ${this.cols.numAcked(me)}`);
    if (this.committed) invariant(this.currentCore.isWedged, 'a committed view change has wedged the view', () => `vid ${this.vid}`);
  }

  // ---- inputs ----

  private onFailure(node: number, fromApplication: boolean): void {
    if (this.awaiting) {
      if (this.awaiting.next.view.members.some((m) => m.id === node) && node !== this.myId) this.awaiting.suspects.add(node);
      return;
    }
    const rank = this.currentView.members.findIndex((m) => m.id === node);
    if (rank < 0) {
      if (fromApplication) throw new Error(`reportFailure: node ${node} is not a member of view ${this.vid} (members: ${this.currentView.members.map((m) => m.id).join(', ')})`);
      return; // a late signal about a node that already left
    }
    if (rank === this.myRank) {
      if (fromApplication) throw new Error(`reportFailure: node ${node} is this node; use leave() to leave the group`);
      return;
    }
    this.suspect(rank);
  }

  private onJoinRequest(joiner: MemberAddress): void {
    if (!Number.isInteger(joiner.id) || joiner.id < 0 || joiner.id > 0xffffffff) throw new Error(`joinRequest: joiner.id must be a u32 node id, got ${String(joiner.id)}`);
    if (!Number.isInteger(joiner.port) || joiner.port < 1 || joiner.port > 65535) throw new Error(`joinRequest: joiner.port must be in [1, 65535], got ${String(joiner.port)}`);
    encodeIpv4(joiner.host); // throws a clear error for a non-IPv4 host
    if (this.leaveRequested) {
      this.out.push({ kind: 'joinRefused', to: joiner, code: 'shuttingDown', message: `node ${this.myId} is leaving the group; contact another member` });
      return;
    }
    const view = this.awaiting ? this.awaiting.next.view : this.currentView;
    if (!this.awaiting && !this.isLeader) {
      this.out.push({ kind: 'joinRedirect', to: joiner, leader: view.members[this.leaderRank] });
      return;
    }
    const same = (a: MemberAddress): boolean => a.host === joiner.host && a.port === joiner.port;
    const member = view.members.find((m) => m.id === joiner.id);
    const pending = this.pendingJoins.find((m) => m.id === joiner.id);
    const proposed = this.awaiting ? undefined : this.cols.changes(this.myRank).find((c) => c.node === joiner.id && c.address !== undefined)?.address;
    const holder = member ?? pending ?? proposed;
    if (holder !== undefined) {
      // A joiner that repeats its request (same address) while its join is under way is not refused.
      if ((pending !== undefined || proposed !== undefined) && same(holder)) return;
      this.out.push({ kind: 'joinRefused', to: joiner, code: 'idInUse', message: `node id ${joiner.id} is already in use${member ? ` by a member of view ${view.vid}` : ' by a pending joiner'}` });
      return;
    }
    this.pendingJoins.push(joiner);
  }

  private leave(): void {
    this.cols.setRip();
    this.cols.setSuspected(this.myRank);
    this.emitCore(this.currentCore.step({ kind: 'wedge' }));
    // rip before suspected: a reader that sees me suspect myself already knows I left.
    this.mark(this.cols.range('rip'));
    this.mark(this.cols.range('suspected'));
    this.stop('left', `node ${this.myId} left the group gracefully in view ${this.vid}`);
  }

  private installTable(vid: number, table: ArrayBuffer, transferredFloors: ReadonlyMap<number, Hlc> | undefined): void {
    const a = this.awaiting;
    if (!a || vid !== a.next.view.vid) throw new Error(`viewTableReady: expected the table of view ${a ? a.next.view.vid : '(none: no view change is being installed)'}, got vid ${vid}`);
    const view = a.next.view;
    const layout = viewLayoutFor(view, this.myId);
    // Every member of a new shard starts from the same HLC: the old shard's last delivery, which
    // survivors of that shard hold and members moving in received with its state.
    const hlcFloors = new Map<number, Hlc>();
    layout.subgroups.forEach((_, g) => {
      const mine = findMyShard(layout, g);
      if (!mine) return;
      const carried = a.carried.get(g);
      if (carried !== undefined && carried.shard === mine.shardIndex) hlcFloors.set(g, carried.hlc);
      else if (a.transfers.some((t) => t.subgroup === g && t.to === this.myId)) {
        const floor = transferredFloors?.get(g);
        invariant(floor !== undefined, 'a member moving into a shard gets its HLC with its state', () => `vid ${vid}, node ${this.myId}, subgroup ${g}`);
        hlcFloors.set(g, floor);
      }
    });
    this.currentCore = new MulticastCore({ view: layout, table, heartbeatIntervalUs: this.heartbeatIntervalUs, payloadChunks: this.payloadChunks, hlcFloors });
    this.cols = new MembershipColumns(this.currentCore.table);
    this.currentView = view;
    this.awaiting = undefined;
    this.committed = undefined;
    this.trims = new Map();
    this.lastInadequate = '';
    this.inadequateMessage = undefined;
    // Own messages of the closing view that were not delivered there, re-sent first (FIFO).
    for (const [g, msgs] of a.resends) {
      const shard = this.currentCore.shardOf(g);
      if (!shard || shard.mySenderRank < 0) {
        if (msgs.length > 0) this.out.push({ kind: 'sendsDropped', subgroup: g, count: msgs.length });
        continue;
      }
      for (const m of msgs) this.emitCore(this.currentCore.send(g, m.payload, m.sendWallUs, m.cooked));
    }
    const queued = this.queuedSends;
    this.queuedSends = [];
    for (const q of queued) this.emitCore(this.currentCore.send(q.subgroup, q.payload, q.sendWallUs, q.cooked));
    for (const node of a.suspects) {
      const rank = view.members.findIndex((m) => m.id === node);
      if (rank >= 0 && rank !== this.myRank) this.suspect(rank);
    }
    if (this.stoppedReason !== undefined) return;
    if (this.leaveRequested) {
      this.leave();
      return;
    }
    if (!this.isLeader) {
      for (const j of this.pendingJoins) this.out.push({ kind: 'joinRedirect', to: j, leader: view.members[this.leaderRank] });
      this.pendingJoins = [];
    }
  }

  // ---- the predicates ----

  private evaluate(): void {
    for (let pass = 0; ; pass++) {
      invariant(pass < 10_000, 'membership evaluation reaches quiescence', () => `vid ${this.vid}`);
      if (this.stoppedReason !== undefined || this.awaiting) return;
      let progress = this.mergeSuspicions();
      if (this.stoppedReason !== undefined) return;
      // Steady state (nobody suspected, no proposal anywhere, no join waiting): nothing to do.
      if (!progress && pass === 0 && this.pendingJoins.length === 0 && !this.committed && !this.cols.suspectedBytes(this.myRank).includes(1) && !this.cols.anyProposal()) return;
      if (this.isLeader) {
        if (this.propose()) progress = true;
        if (this.commit()) progress = true;
      } else if (this.acknowledge()) progress = true;
      if (this.observeCommit()) progress = true;
      if (this.raggedTrim()) progress = true;
      if (this.install()) progress = true;
      if (!progress) return;
    }
  }

  /** §2.10 (3): OR every row's suspicions (and departures) into mine. */
  private mergeSuspicions(): boolean {
    const me = this.myRank;
    const n = this.cols.numRows;
    const mine = this.cols.suspectedBytes(me);
    let changed = false;
    // Runs after every input: read the columns as raw bytes (n^2 of them), not through accessors.
    for (let r = 0; r < n; r++) {
      if (r === me) continue;
      if (mine[r] === 0 && this.cols.rip(r)) changed = this.suspect(r, false) || changed;
      const theirs = this.cols.suspectedBytes(r);
      for (let i = 0; i < n; i++) if (theirs[i] !== 0 && mine[i] === 0) changed = this.suspect(i, false) || changed;
    }
    if (changed) this.checkSuspicions();
    return changed;
  }

  private suspect(rank: number, check = true): boolean {
    if (this.cols.suspected(this.myRank, rank)) return false;
    this.cols.setSuspected(rank);
    this.mark(this.cols.range('suspected'));
    // A suspicion ends the view: stop delivering so survivors can agree on the trim.
    if (!this.currentCore.isWedged) this.emitCore(this.currentCore.step({ kind: 'wedge' }));
    if (check) this.checkSuspicions();
    return true;
  }

  /** Removal and partition checks (§2.10 (2), (3)). */
  private checkSuspicions(): void {
    if (this.stoppedReason !== undefined) return;
    const me = this.myRank;
    if (this.cols.suspected(me, me)) {
      this.stop('removed', `node ${this.myId} was suspected by other members of view ${this.vid} and removed from the group`);
      return;
    }
    if (!this.partitionSafety) return;
    let rip = 0;
    let suspected = 0;
    for (let r = 0; r < this.cols.numRows; r++) {
      if (this.cols.rip(r)) rip++;
      else if (this.cols.suspected(me, r)) suspected++;
    }
    const live = this.cols.numRows - rip;
    if (suspected > 0 && suspected >= Math.floor((live + 1) / 2)) {
      this.stop('partitioned', `node ${this.myId} suspects ${suspected} of the ${live} members of view ${this.vid} that did not leave (half or more): it may be in a minority partition, so it shuts down rather than risk a split brain`);
    }
  }

  private failed(rank: number): boolean {
    return this.cols.suspected(this.myRank, rank);
  }

  private stampedBy(row: number, leaderId: number): boolean {
    const changes = this.cols.changes(row);
    return changes.length > 0 && changes.every((c) => c.leader === leaderId);
  }

  /** §2.11 (a) and leader failure: adopt a complete batch if any row holds one, else propose. */
  private propose(): boolean {
    const me = this.myRank;
    if (this.stampedBy(me, this.myId) && this.cols.hasCompleteBatch(me)) return false;
    let source: number | undefined;
    if (this.cols.hasCompleteBatch(me)) source = me;
    else {
      for (let r = 0; r < this.cols.numRows; r++) {
        if (r === me || this.failed(r) || !this.cols.hasCompleteBatch(r)) continue;
        if (source === undefined || this.cols.numChanges(r) > this.cols.numChanges(source)) source = r;
      }
    }
    let batch: ChangeProposal[];
    const adopting = source !== undefined;
    if (source !== undefined) {
      batch = this.cols.changes(source).map((c) => ({ ...c, leader: this.myId }));
    } else {
      const removals: ChangeProposal[] = [];
      for (let r = 0; r < this.cols.numRows; r++) if (this.failed(r)) removals.push({ leader: this.myId, node: this.currentView.members[r].id, endOfView: false });
      const room = this.cols.layout.changesCapacity - removals.length;
      const joins = this.pendingJoins.slice(0, Math.max(0, room)).map((j): ChangeProposal => ({ leader: this.myId, node: j.id, endOfView: false, address: j }));
      batch = [...removals, ...joins];
      if (batch.length === 0) return false;
      batch[batch.length - 1] = { ...batch[batch.length - 1], endOfView: true };
    }
    let next: NextView;
    try {
      next = makeNextView(this.currentView, batch, this.allocate);
    } catch (e) {
      if (!(e instanceof Error) || e.name !== 'InadequateLayoutError') throw e;
      const key = batch.map((c) => c.node).join(',');
      if (key !== this.lastInadequate) {
        this.lastInadequate = key;
        this.inadequateMessage = e.message;
        this.out.push({ kind: 'inadequate', vid: this.vid + 1, message: e.message });
        // Joiners in this batch cannot be admitted until more nodes come: tell them why, so a
        // join that times out says what it waited for.
        for (const j of this.pendingJoins) this.out.push({ kind: 'joinDeferred', to: j, message: `the group cannot install view ${this.vid + 1} yet: ${e.message}` });
      }
      // Stay wedged (no proposal pushed) until more joins make the next view adequate.
      if (!this.currentCore.isWedged) this.emitCore(this.currentCore.step({ kind: 'wedge' }));
      return false;
    }
    invariant(next.view.members.length > 0, 'next view is not empty', () => `batch ${batch.map((c) => c.node).join(',')}`);
    if (this.committed) invariant(sameContent(batch, this.committed.batch), 'a new leader re-proposes the committed batch unchanged', () => `vid ${this.vid}`);
    const joined = new Set(next.joined.map((j) => j.id));
    this.pendingJoins = this.pendingJoins.filter((j) => !joined.has(j.id));
    this.cols.writeChanges(batch);
    this.cols.setNumAcked(batch.length);
    for (const r of this.cols.changesRanges(batch.length)) this.mark(r);
    this.mark(this.cols.range('numAcked'));
    if (!this.currentCore.isWedged) this.emitCore(this.currentCore.step({ kind: 'wedge' }));
    if (adopting) this.stats.adopted++;
    else this.stats.proposed++;
    return true;
  }

  /** §2.11 (c): every row I do not suspect acknowledged exactly my batch. */
  private commit(): boolean {
    const me = this.myRank;
    const n = this.cols.numChanges(me);
    if (n === 0 || this.cols.numCommitted(me) >= n || !this.stampedBy(me, this.myId)) return false;
    for (let r = 0; r < this.cols.numRows; r++) {
      if (r === me || this.failed(r)) continue;
      // The same batch acknowledged under an earlier leader's stamp counts: that member may
      // already have installed the next view (its row here is final) after the earlier leader
      // committed, and will never acknowledge again in this view.
      if (this.cols.numAcked(r) < n || !this.cols.sameChanges(r, me, false)) return false;
    }
    this.cols.setNumCommitted(n);
    this.mark(this.cols.range('numCommitted'));
    return true;
  }

  /** §2.11 (b): copy the leader's batch, acknowledge it, wedge. */
  private acknowledge(): boolean {
    const me = this.myRank;
    const leader = this.leaderRank;
    const leaderId = this.currentView.members[leader].id;
    const n = this.cols.numChanges(leader);
    // Only a whole batch the leader stamped itself (a leader that is still adopting has not restamped yet).
    if (n === 0 || !this.cols.hasCompleteBatch(leader) || !this.stampedBy(leader, leaderId)) return false;
    if (this.cols.numAcked(me) === n && this.cols.sameChanges(me, leader)) return false;
    const batch = this.cols.changes(leader);
    if (this.committed) invariant(sameContent(batch, this.committed.batch), 'a committed batch never changes', () => `vid ${this.vid}: leader ${leaderId} proposes ${batch.map((c) => c.node).join(',')}, committed ${this.committed!.batch.map((c) => c.node).join(',')}`);
    this.cols.writeChanges(batch);
    this.cols.setNumAcked(n);
    for (const r of this.cols.changesRanges(n)) this.mark(r);
    this.mark(this.cols.range('numAcked'));
    if (!this.currentCore.isWedged) this.emitCore(this.currentCore.step({ kind: 'wedge' }));
    return true;
  }

  /**
   * §2.11 (d): a leader committed the batch. Evidence from any row counts, not only from the
   * leader I see now: only a leader sets num_committed, a committed batch is final (every later
   * leader adopts it), and a leader that committed and then installed the next view leaves its
   * final row here. Without this, a slow member that suspects that leader and whose new leader
   * already moved on would wait forever.
   */
  private observeCommit(): boolean {
    if (this.committed) return false;
    const me = this.myRank;
    let source: number | undefined;
    for (let r = 0; r < this.cols.numRows; r++) {
      const n = this.cols.numChanges(r);
      if (n > 0 && this.cols.numCommitted(r) >= n && this.cols.hasCompleteBatch(r) && this.stampedBy(r, this.currentView.members[r].id)) {
        source = r;
        break;
      }
    }
    if (source === undefined) return false;
    const n = this.cols.numChanges(source);
    if (source !== me && (this.cols.numAcked(me) !== n || !this.cols.sameChanges(me, source, false))) {
      // I had not acknowledged it yet (or held an older proposal): take the committed batch.
      this.cols.writeChanges(this.cols.changes(source));
      this.cols.setNumAcked(n);
      for (const r of this.cols.changesRanges(n)) this.mark(r);
      this.mark(this.cols.range('numAcked'));
    }
    const batch = this.cols.changes(me);
    invariant(batch.length > 0 && batch[batch.length - 1].endOfView, 'a committed batch ends the view', () => `vid ${this.vid}`);
    this.committed = { batch, next: makeNextView(this.currentView, batch, this.allocate) };
    if (!this.currentCore.isWedged) this.emitCore(this.currentCore.step({ kind: 'wedge' }));
    return true;
  }

  /** §2.11 (f), (g): per shard, agree on the ragged trim and deliver exactly it. */
  private raggedTrim(): boolean {
    if (!this.committed) return false;
    // Every row I do not suspect must have wedged (its num_received is final).
    for (let r = 0; r < this.cols.numRows; r++) if (!this.failed(r) && !this.cols.wedged(r)) return false;
    let progress = false;
    this.currentView.subgroups.forEach((_, g) => {
      const shard = this.currentCore.shardOf(g);
      if (!shard || shard.numSenders === 0) return;
      const rows = shard.memberRows;
      const live = rows.filter((r) => !this.failed(r));
      const shardLeader = Math.min(...live);
      let t = this.trims.get(g);
      if (!t) {
        let value: number[];
        if (shardLeader === this.myRank) {
          // A shard leader that replaces a failed one reuses a trim already published.
          const publisher = rows.filter((r) => this.cols.globalMinReady(r, g)).sort((a, b) => a - b)[0];
          if (publisher !== undefined) this.stats.trimsReused++;
          value =
            publisher !== undefined
              ? this.cols.globalMin(publisher, g, shard.numSenders)
              : Array.from({ length: shard.numSenders }, (_, k) => Math.min(...live.map((r) => this.cols.numReceived(r, g, k))));
        } else if (this.cols.globalMinReady(shardLeader, g)) value = this.cols.globalMin(shardLeader, g, shard.numSenders);
        else return;
        for (const [k, v] of value.entries()) invariant(v <= this.currentCore.receivedThrough(g, k), 'the trim never exceeds what I received', () => `g${g} sender ${k}: trim ${v} > received ${this.currentCore.receivedThrough(g, k)}`);
        t = { value, published: false, logged: false, delivered: false };
        this.trims.set(g, t);
        this.out.push({ kind: 'logTrim', vid: this.vid, subgroup: g, shard: shard.shardIndex, shardLeader: this.currentView.members[shardLeader].id, throughIndex: value });
        // The shard leader publishes at once (then logs); a follower echoes only once logged.
        if (shardLeader === this.myRank) this.publish(g, t, shard.numSenders);
        progress = true;
      }
      if (!t.published && t.logged) {
        this.publish(g, t, shard.numSenders);
        progress = true;
      }
      if (t.published && t.logged && !t.delivered && live.every((r) => this.cols.globalMinReady(r, g))) {
        // Every live shard member published or echoed a trim; deliver their element-wise minimum,
        // which is the same at every survivor even if a replaced shard leader's trim and its
        // successor's differ (any survivor's echo of the earlier one bounds everyone's minimum).
        const trim = t.value.map((v, k) => Math.min(v, ...live.map((r) => this.cols.globalMin(r, g, shard.numSenders)[k])));
        t.delivered = true;
        this.emitCore(this.currentCore.deliverTrim(g, trim));
        progress = true;
      }
    });
    return progress;
  }

  private publish(g: number, t: TrimState, numSenders: number): void {
    this.cols.publishGlobalMin(g, t.value);
    for (const r of this.cols.globalMinRanges(g, numSenders)) this.mark(r);
    t.published = true;
  }

  /** §2.11 (h): the trim is delivered everywhere I am; hand the next view to the driver. */
  private install(): boolean {
    const c = this.committed;
    if (!c || this.awaiting) return false;
    for (const [g] of this.currentView.subgroups.entries()) {
      const shard = this.currentCore.shardOf(g);
      if (!shard || shard.numSenders === 0) continue;
      if (!this.trims.get(g)?.delivered) return false;
      // §2.11 (g): the trimmed prefix is persisted at every live shard member before the view
      // ends, so a total restart never finds it on fewer logs than delivered it.
      if (shard.ordered) {
        const last = this.currentCore.lastDeliveredVersion(g);
        for (const r of shard.memberRows) if (!this.failed(r) && this.currentCore.table.i64('persistedNum', r, g) < last) return false;
      }
    }
    const next = c.next;
    invariant(next.view.members.some((m) => m.id === this.myId), 'an installing member is in the next view', () => `node ${this.myId} not in view ${next.view.vid}`);
    const transfers = stateTransfers(this.currentView, next.view);
    const resends = new Map<number, UndeliveredSend[]>();
    this.currentView.subgroups.forEach((_, g) => {
      const shard = this.currentCore.shardOf(g);
      if (shard && shard.mySenderRank >= 0) resends.set(g, this.currentCore.undeliveredOwnSends(g));
    });
    const addressOf = new Map(next.view.members.map((m) => [m.id, m]));
    if (next.view.members[0].id === this.myId) for (const j of next.joined) this.out.push({ kind: 'sendView', to: j, view: next.view, stateTransfers: transfers });
    const carried = new Map<number, { shard: number; hlc: Hlc }>();
    this.currentView.subgroups.forEach((_, g) => {
      const shard = this.currentCore.shardOf(g);
      if (shard) carried.set(g, { shard: shard.shardIndex, hlc: shard.lastDeliveredHlc });
    });
    for (const t of transfers) {
      if (t.from !== this.myId) continue;
      const mine = carried.get(t.subgroup);
      const hlc = mine?.shard === t.shard ? mine.hlc : undefined;
      invariant(hlc !== undefined, 'a state transfer comes from a member of the old shard', () => `vid ${this.vid}, node ${this.myId}, subgroup ${t.subgroup}`);
      this.out.push({ kind: 'sendState', subgroup: t.subgroup, shard: t.shard, to: addressOf.get(t.to)!, vid: next.view.vid, hlc });
    }
    this.out.push({ kind: 'installView', view: next.view, previous: this.currentView, removed: next.removed, joined: next.joined, stateTransfers: transfers });
    const suspects = new Set<number>();
    for (let r = 0; r < this.cols.numRows; r++) if (this.failed(r) && addressOf.has(this.currentView.members[r].id)) suspects.add(this.currentView.members[r].id);
    this.awaiting = { next, resends, suspects, carried, transfers };
    this.stats.installed++;
    return true;
  }

  // ---- outputs ----

  private stop(reason: ShutdownReason, message: string): void {
    this.stoppedReason = reason;
    this.out.push({ kind: 'shutdown', reason, message });
  }

  private mark(range: ByteRange): void {
    // Keep the LAST mark of a range: bytes are read when the push is handled, so a range must be
    // pushed after everything marked before it that it depends on.
    this.pushRanges = this.pushRanges.filter((r) => r.offset !== range.offset);
    this.pushRanges.push(range);
  }

  private emitCore(outputs: CoreOutput[]): void {
    // Membership writes marked so far go before the core's pushes (e.g. suspected before wedged).
    this.flushPushes();
    if (outputs.some((o) => o.kind === 'push')) this.pushSources++;
    for (const o of outputs) this.out.push(o);
  }

  private flushPushes(): void {
    if (this.pushRanges.length === 0) return;
    this.pushSources++;
    const targets = this.currentView.members.map((_, r) => r).filter((r) => r !== this.myRank);
    const ranges = this.pushRanges;
    this.pushRanges = [];
    if (targets.length > 0) this.out.push({ kind: 'push', ranges, targets, withCompletion: false });
  }

  private drain(): MembershipOutput[] {
    this.flushPushes();
    // One source of pushes (the common multicast step) is already in dependency order; pushes
    // always go first. A membership write marked late in a step (a leader outside every shard
    // commits and installs in one step: its num_committed is flushed here) belongs to the view
    // the step ran in: after `installView` a driver may already be in the next view, where these
    // rows are other members or none (issue 10: a push to an SST row outside the new view).
    const outs = this.pushSources > 1 ? mergePushes(this.out.splice(0, this.out.length)) : pushesFirst(this.out.splice(0, this.out.length));
    this.pushSources = 0;
    // A shutdown is the last thing the driver does: move it to the end.
    const i = outs.findIndex((o) => o.kind === 'shutdown');
    if (i >= 0 && i !== outs.length - 1) outs.push(...outs.splice(i, 1));
    this.checkOutputs(outs);
    return outs;
  }

  /**
   * What the driver relies on when it carries out a step's outputs: pushes name rows of the
   * current view other than mine and come before everything else; `installView` ends the step
   * (only a shutdown may follow it), so nothing computed in the closing view is carried out in
   * the next one.
   */
  private checkOutputs(outs: readonly MembershipOutput[]): void {
    const rows = this.currentView.members.length;
    let seenOther = false;
    for (const [i, o] of outs.entries()) {
      if (o.kind === 'push') {
        invariant(!seenOther, 'pushes come before every other output of a step', () => `vid ${this.vid}, rank ${this.myRank}: push at ${i} of [${outs.map((x) => x.kind).join(', ')}]`);
        for (const t of o.targets) invariant(Number.isInteger(t) && t >= 0 && t < rows && t !== this.myRank, 'a push names only other rows of its view', () => `vid ${this.vid} (${rows} rows), rank ${this.myRank}: target ${t}`);
      } else seenOther = true;
      if (o.kind === 'installView') {
        invariant(i === outs.length - 1 || (i === outs.length - 2 && outs[i + 1].kind === 'shutdown'), 'installView is the last output of its step', () => `vid ${this.vid}, rank ${this.myRank}: [${outs.map((x) => x.kind).join(', ')}]`);
      }
    }
  }
}

/**
 * The driver reads the bytes of a pushed range when it handles the output, i.e. after the whole
 * step. One step of the manager may run several core steps (wedge then trim, or several re-sends),
 * each with its own dependency-ordered pushes: "slot 0, index" then "slot 1, index" would be read
 * as index = 1 with only slot 0 before it. So all pushes of a step are merged: per target, each
 * range once, at the position of its LAST occurrence (after everything it depends on), and they
 * go first, before the step's other outputs (as the core's own outputs do).
 */
function mergePushes(outs: MembershipOutput[]): MembershipOutput[] {
  let count = 0;
  for (const o of outs) if (o.kind === 'push') count++;
  if (count <= 1) return outs;
  const perTarget = new Map<number, { ranges: ByteRange[]; withCompletion: boolean }>();
  for (const o of outs) {
    if (o.kind !== 'push') continue;
    for (const t of o.targets) {
      let e = perTarget.get(t);
      if (!e) perTarget.set(t, (e = { ranges: [], withCompletion: false }));
      for (const r of o.ranges) e.ranges.push(r);
      e.withCompletion ||= o.withCompletion;
    }
  }
  const groups = new Map<string, { ranges: ByteRange[]; targets: number[]; withCompletion: boolean }>();
  for (const [t, e] of perTarget) {
    const seen = new Set<string>();
    const kept: ByteRange[] = [];
    for (let i = e.ranges.length - 1; i >= 0; i--) {
      const key = `${e.ranges[i].offset}+${e.ranges[i].length}`;
      if (seen.has(key)) continue;
      seen.add(key);
      kept.push(e.ranges[i]);
    }
    kept.reverse();
    const key = `${e.withCompletion}|${kept.map((r) => `${r.offset}+${r.length}`).join(',')}`;
    const g = groups.get(key);
    if (g) g.targets.push(t);
    else groups.set(key, { ranges: kept, targets: [t], withCompletion: e.withCompletion });
  }
  const merged: MembershipOutput[] = [...groups.values()].map((g) => ({ kind: 'push', ranges: g.ranges, targets: g.targets, withCompletion: g.withCompletion }));
  return [...merged, ...outs.filter((o) => o.kind !== 'push')];
}

/** The step's pushes (already in dependency order among themselves) before its other outputs. */
function pushesFirst(outs: MembershipOutput[]): MembershipOutput[] {
  const firstOther = outs.findIndex((o) => o.kind !== 'push');
  if (firstOther < 0 || !outs.slice(firstOther).some((o) => o.kind === 'push')) return outs;
  return [...outs.filter((o) => o.kind === 'push'), ...outs.filter((o) => o.kind !== 'push')];
}

function sameContent(a: readonly ChangeProposal[], b: readonly ChangeProposal[]): boolean {
  return a.length === b.length && a.every((c, i) => c.node === b[i].node && c.endOfView === b[i].endOfView);
}
