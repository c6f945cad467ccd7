/**
 * A deterministic simulated driver for whole members: one real `Member` per node (group
 * formation, the joiner side, every view change), each over its own copy of its view's SST, on a
 * virtual clock and a simulated network. The initial members form the group through the contact
 * (node `initialMembers[0]`), as real processes do. Members can crash (stop forever), pause past
 * the failure timeout, be partitioned (links cut), join (fresh nodes with fresh state, through
 * the contact, with redirects and retries), rejoin after removal, and leave. The failure detector
 * is the driver's: a member that has heard nothing from a peer of its view for
 * `failureTimeoutUs` of virtual time inputs `peerFailed`; a joiner whose connection's other end
 * crashed hears `peerFailed` after the same timeout.
 *
 * The replicated state of every member is modelled as one hash per subgroup over the sequence it
 * delivered (FNV-1a over payloads); members moving into a shard receive it by state transfer
 * from the old shard leader.
 */
import type { DeliverOutput } from '../core/core-io.js';
import type { ControlMessage } from '../core/member/control-messages.js';
import { Member } from '../core/member/member.js';
import type { MemberInput, MemberOutput, MemberShutdownReason } from '../core/member/member-io.js';
import type { AllocateSubgroups } from '../core/membership/formation.js';
import { viewLayoutFor, type GroupView, type MemberAddress } from '../core/membership/group-view.js';
import type { MembershipInput, MembershipOutput } from '../core/membership/membership-io.js';
import type { AllocateNextView } from '../core/membership/next-view.js';
import type { ViewManager } from '../core/membership/view-manager.js';
import { SstLayout } from '../core/sst-layout.js';
import { applyRemoteWrite, initializeSstTable } from '../core/sst-table.js';
import { EventQueue } from './event-queue.js';
import { withHeaderRoom } from './sim-cluster.js';
import { SimNetwork, type NetworkOptions } from './network.js';
import type { Prng } from './prng.js';

export const FNV_OFFSET = 2166136261;

export function fnv1a(hash: number, bytes: Uint8Array): number {
  let h = hash;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

/** The simulated replica state (a hash) as the bytes a state transfer carries. */
function stateBytes(hash: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, hash, true);
  return b;
}

export type NodeState = 'joining' | 'member' | 'crashed' | 'stopped';

/** What the simulator reports to the membership checker. */
export interface MembershipObserver {
  onDeliver?(node: number, vid: number, out: DeliverOutput, stateAfter: number): void;
  onSendAccepted?(node: number, subgroup: number, counter: number): void;
  onSendsDropped?(node: number, subgroup: number): void;
  /** `node`'s closing view delivered its trim; it installs `out.view` next. */
  onInstall?(node: number, out: Extract<MembershipOutput, { kind: 'installView' }>, deliveredInClosingView: ReadonlyMap<number, number>): void;
  /** `node` starts running view `view` (a survivor, a member moving into shards, or a node's first view). */
  onViewStart?(node: number, view: GroupView, state: ReadonlyMap<number, number>, joiner: boolean): void;
  /** `vid`: the view the node was in when it stopped. */
  onShutdown?(node: number, reason: MemberShutdownReason, message: string, vid?: number): void;
  /** A removed node restarts with fresh state and joins again under its old id. */
  onRejoin?(node: number): void;
  onInadequate?(node: number, message: string): void;
  afterEvent?(): void;
}

export interface MembershipClusterOptions {
  /** The nodes that form the group; the first is the contact. */
  readonly initialMembers: readonly MemberAddress[];
  /** Subgroups of a candidate view 0 (undefined while too few). */
  readonly allocateFirst: AllocateSubgroups;
  readonly allocate: AllocateNextView;
  readonly network: NetworkOptions;
  readonly prng: Prng;
  readonly heartbeatIntervalUs: number;
  readonly failureTimeoutUs: number;
  /** Ticks (heartbeats, failure detection, join retries) stop after this virtual time. */
  readonly tickUntilUs: number;
  readonly diskDelayUs: readonly [number, number];
  /** A join request unanswered this long is asked again (see MemberOptions.joinRetryUs). */
  readonly joinRetryUs: number;
  readonly partitionSafety?: boolean;
  /** Per node: delay between writes arriving and its manager seeing them (a slow member's poll latency). */
  readonly processingDelayUs?: ReadonlyMap<number, number>;
  /** Chance that a node removed from the group restarts (fresh state) and joins again. */
  readonly rejoinChance?: number;
  /** Share of sends with payloads too large for SMC (they go by RDMC). */
  readonly rdmcShare?: number;
  readonly observer?: MembershipObserver;
  readonly trace?: (line: string) => void;
  readonly maxEvents?: number;
}

interface RowWrite {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

type Item =
  | { readonly kind: 'writes'; readonly vid: number; readonly from: number; readonly writes: readonly RowWrite[] }
  | { readonly kind: 'rdmc'; readonly vid: number; readonly from: number; readonly subgroup: number; readonly senderRow: number; readonly message: Uint8Array }
  | { readonly kind: 'control'; readonly from: number; readonly message: ControlMessage };

type SimEvent =
  | { readonly kind: 'arrive'; readonly to: number; readonly item: Item }
  | { readonly kind: 'process'; readonly node: number }
  | { readonly kind: 'tick'; readonly node: number; readonly incarnation: number }
  | { readonly kind: 'appSend'; readonly node: number; readonly subgroup: number }
  | { readonly kind: 'input'; readonly node: number; readonly incarnation: number; readonly input: MemberInput }
  | { readonly kind: 'tableReady'; readonly node: number; readonly incarnation: number; readonly vid: number }
  | { readonly kind: 'crash'; readonly node: number }
  | { readonly kind: 'pause'; readonly node: number; readonly durationUs: number }
  | { readonly kind: 'resume'; readonly node: number }
  | { readonly kind: 'leave'; readonly node: number }
  | { readonly kind: 'startJoin'; readonly node: number }
  | { readonly kind: 'rejoin'; readonly node: number }
  | { readonly kind: 'partition'; readonly side: readonly number[] }
  | { readonly kind: 'call'; readonly fn: () => void };

export interface SimNode {
  readonly id: number;
  readonly address: MemberAddress;
  state: NodeState;
  member: Member;
  /** The running view's manager (undefined before the first view starts). */
  readonly vm: ViewManager | undefined;
  /** The view whose table was asked for (createTable) and is about to be ready. */
  pendingTable: GroupView | undefined;
  /** The table of the view being set up or run, once created. */
  table: { readonly vid: number; readonly layout: SstLayout; readonly bytes: Uint8Array } | undefined;
  inbox: Item[];
  processScheduled: boolean;
  paused: boolean;
  lastHeardUs: Map<number, number>;
  /** Nodes this one holds a connection with. */
  links: Set<number>;
  /** Writes for views this node has not installed yet, by vid. */
  futureWrites: Map<number, Item[]>;
  /** Replicated state per subgroup (hash over the delivered sequence). */
  appState: Map<number, number>;
  /** Delivered count per subgroup in the current view. */
  deliveredInView: Map<number, number>;
  sendCounter: Map<number, number>;
  /** Bumped when a removed node restarts: its messages and deliveries are a new stream. */
  incarnation: number;
  shutdown: MemberShutdownReason | undefined;
}

export class MembershipCluster {
  readonly nodes = new Map<number, SimNode>();
  readonly queue = new EventQueue<SimEvent>();
  private readonly network: SimNetwork;
  private readonly prng: Prng;
  private readonly observer: MembershipObserver;
  private readonly cut = new Set<string>();
  private readonly contact: MemberAddress;
  eventsRun = 0;
  installs = 0;
  lastInstallUs = 0;

  constructor(private readonly options: MembershipClusterOptions) {
    this.prng = options.prng;
    this.network = new SimNetwork(options.network, options.prng);
    this.observer = options.observer ?? {};
    this.contact = options.initialMembers[0];
    for (const m of options.initialMembers) {
      this.makeNode(m);
      this.queue.schedule(0, { kind: 'startJoin', node: m.id });
    }
  }

  get nowUs(): number {
    return this.queue.nowUs;
  }

  node(id: number): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no simulated node ${id}`);
    return n;
  }

  /** Nodes that run a view (not crashed, not shut down, not still joining). */
  liveMembers(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.state === 'member');
  }

  scheduleAppSend(atUs: number, node: number, subgroup: number): void {
    this.queue.schedule(atUs, { kind: 'appSend', node, subgroup });
  }
  scheduleCrash(atUs: number, node: number): void {
    this.queue.schedule(atUs, { kind: 'crash', node });
  }
  schedulePause(atUs: number, node: number, durationUs: number): void {
    this.queue.schedule(atUs, { kind: 'pause', node, durationUs });
  }
  scheduleLeave(atUs: number, node: number): void {
    this.queue.schedule(atUs, { kind: 'leave', node });
  }
  /** A fresh node `id` starts joining at `atUs`, through the contact. */
  scheduleJoin(atUs: number, id: number, address: MemberAddress): void {
    if (this.nodes.has(id)) throw new Error(`node id ${id} already simulated`);
    this.makeNode(address);
    this.queue.schedule(atUs, { kind: 'startJoin', node: id });
  }
  /** Cuts every link between `side` and everyone else, both ways, for good. */
  schedulePartition(atUs: number, side: readonly number[]): void {
    this.queue.schedule(atUs, { kind: 'partition', side });
  }
  /** Runs `fn` at `atUs` (fault choices that depend on the state at that time). */
  scheduleCall(atUs: number, fn: () => void): void {
    this.queue.schedule(atUs, { kind: 'call', fn });
  }

  /** Feeds `input` to node `id`'s member now (as its application or driver would). */
  inputNow(id: number, input: MembershipInput): void {
    const n = this.nodes.get(id);
    if (!n || n.state !== 'member' || n.paused) return;
    this.log(`n${id} input ${input.kind}${'node' in input ? ` n${input.node}` : ''}`);
    this.stepNode(n, input as MemberInput);
  }

  crashNow(id: number): void {
    const n = this.nodes.get(id);
    if (!n || n.state === 'crashed') return;
    this.log(`n${id} CRASH`);
    n.state = 'crashed';
    n.inbox = [];
    // A joiner's connection to a crashed node breaks once its heartbeats stop (members detect
    // the silence themselves, from the SST).
    for (const other of n.links) {
      const o = this.nodes.get(other);
      if (o && o.state === 'joining') this.queue.schedule(this.nowUs + this.options.failureTimeoutUs, { kind: 'input', node: other, incarnation: o.incarnation, input: { kind: 'peerFailed', node: id } });
    }
  }

  run(): void {
    const max = this.options.maxEvents ?? 5_000_000;
    for (;;) {
      const next = this.queue.pop();
      if (!next) return;
      if (++this.eventsRun > max) throw new Error(`membership simulation did not quiesce within ${max} events (livelock?)`);
      this.handle(next.event);
      this.observer.afterEvent?.();
    }
  }

  /**
   * A fresh member. Only the contact's first incarnation forms the group: a restarted contact
   * joins the running group like any node (a real one would form a second group: issue 12).
   */
  private newMember(address: MemberAddress, isContact: boolean): Member {
    const o = this.options;
    return new Member({
      me: address,
      isContact,
      contact: this.contact,
      allocateFirst: o.allocateFirst,
      allocateNext: o.allocate,
      minMembers: o.initialMembers.length,
      // Joins may wait long for an adequate layout; the run ends first.
      joinTimeoutUs: 10 * o.tickUntilUs,
      stateTimeoutUs: 3 * o.failureTimeoutUs,
      retryUs: 500,
      joinRetryUs: o.joinRetryUs,
      joinerConnectTimeoutUs: 2 * o.failureTimeoutUs,
      stallReportUs: 3 * o.failureTimeoutUs,
      heartbeatIntervalUs: o.heartbeatIntervalUs,
      partitionSafety: o.partitionSafety ?? true,
    });
  }

  private makeNode(address: MemberAddress): SimNode {
    const node: SimNode = {
      id: address.id,
      address,
      state: 'joining',
      member: this.newMember(address, address.id === this.contact.id),
      get vm() {
        return this.member.viewManager;
      },
      pendingTable: undefined,
      table: undefined,
      inbox: [],
      processScheduled: false,
      paused: false,
      lastHeardUs: new Map(),
      links: new Set(),
      futureWrites: new Map(),
      appState: new Map(),
      deliveredInView: new Map(),
      sendCounter: new Map(),
      incarnation: 0,
      shutdown: undefined,
    };
    this.nodes.set(address.id, node);
    return node;
  }

  private log(line: string): void {
    this.options.trace?.(`${String(this.nowUs).padStart(8)}us ${line}`);
  }

  private alive(n: SimNode): boolean {
    return n.state === 'member' || n.state === 'joining';
  }

  private handle(e: SimEvent): void {
    switch (e.kind) {
      case 'arrive': {
        const n = this.node(e.to);
        if (!this.alive(n)) return;
        n.lastHeardUs.set(e.item.from, this.nowUs);
        n.inbox.push(e.item);
        this.scheduleProcess(n);
        return;
      }
      case 'process':
        this.process(this.node(e.node));
        return;
      case 'tick': {
        const n = this.node(e.node);
        if (!this.alive(n) || n.incarnation !== e.incarnation) return;
        if (this.nowUs + this.options.heartbeatIntervalUs <= this.options.tickUntilUs) this.queue.schedule(this.nowUs + this.options.heartbeatIntervalUs, e);
        if (n.paused) return;
        this.stepNode(n, { kind: 'tick', nowUs: this.nowUs });
        if (n.state === 'member') this.detectFailures(n);
        return;
      }
      case 'appSend': {
        const n = this.node(e.node);
        if (n.state !== 'member' || n.paused) return;
        const vm = n.vm!;
        // Only a sender of a shard of this subgroup in its current (or next) view sends.
        const view = vm.phase === 'awaitingTable' ? undefined : vm.view;
        const shard = view?.subgroups[e.subgroup]?.shards.find((s) => s.members.includes(n.id));
        if (!shard || !shard.senders[shard.members.indexOf(n.id)]) return;
        const counter = n.sendCounter.get(e.subgroup) ?? 0;
        n.sendCounter.set(e.subgroup, counter + 1);
        // Some payloads exceed the SMC limit and travel by RDMC.
        const payload = new Uint8Array(this.prng.chance(this.options.rdmcShare ?? 0) ? 200 : 16);
        const dv = new DataView(payload.buffer);
        dv.setUint32(0, n.id, true);
        dv.setUint32(4, e.subgroup, true);
        dv.setUint32(8, counter, true);
        dv.setUint32(12, n.incarnation, true);
        this.log(`n${n.id} send g${e.subgroup} #${counter}`);
        this.observer.onSendAccepted?.(n.id, e.subgroup, counter);
        // Half the sends go through sendBatch, as the real driver sends.
        const batch = this.prng.chance(0.5);
        const owned = this.prng.chance(0.5);
        const room = owned && counter % 2 === 0;
        this.stepNode(
          n,
          batch
            ? { kind: 'sendBatch', subgroup: e.subgroup, payloads: [room ? withHeaderRoom(payload) : payload], sendWallUs: this.nowUs, owned, rdmcHeaderRoom: room }
            : { kind: 'send', subgroup: e.subgroup, payload, sendWallUs: this.nowUs },
        );
        return;
      }
      case 'input': {
        const n = this.node(e.node);
        if (!this.alive(n) || n.incarnation !== e.incarnation) return;
        if (n.paused) {
          this.queue.schedule(this.nowUs + 10, e);
          return;
        }
        this.stepNode(n, e.input);
        return;
      }
      case 'tableReady': {
        const n = this.node(e.node);
        if (!this.alive(n) || n.incarnation !== e.incarnation) return;
        if (n.paused) {
          this.queue.schedule(this.nowUs + 10, e);
          return;
        }
        const layout = SstLayout.forView(viewLayoutFor(this.pendingTableView(n, e.vid), n.id));
        const buffer = new ArrayBuffer(layout.tableBytes);
        initializeSstTable(layout, buffer, e.vid);
        n.table = { vid: e.vid, layout, bytes: new Uint8Array(buffer) };
        n.deliveredInView = new Map();
        this.stepNode(n, { kind: 'tableReady', vid: e.vid, table: buffer });
        return;
      }
      case 'crash':
        this.crashNow(e.node);
        return;
      case 'pause': {
        const n = this.node(e.node);
        if (!this.alive(n) || n.paused) return;
        n.paused = true;
        this.log(`n${n.id} paused for ${e.durationUs}us`);
        this.queue.schedule(this.nowUs + e.durationUs, { kind: 'resume', node: n.id });
        return;
      }
      case 'resume': {
        const n = this.node(e.node);
        if (!this.alive(n)) return;
        n.paused = false;
        this.log(`n${n.id} resumed (${n.inbox.length} inbox items)`);
        // The driver's timers were frozen too: process what arrived, then restart the detector.
        this.process(n);
        for (const id of n.lastHeardUs.keys()) n.lastHeardUs.set(id, this.nowUs);
        return;
      }
      case 'leave': {
        const n = this.node(e.node);
        if (n.state !== 'member') return;
        this.log(`n${n.id} LEAVE`);
        this.stepNode(n, { kind: 'leave' });
        return;
      }
      case 'startJoin': {
        const n = this.node(e.node);
        if (n.state !== 'joining') return;
        this.log(`n${n.id} starts${n.id === this.contact.id && n.incarnation === 0 ? ' as the contact' : ', joining'}`);
        this.stepNode(n, { kind: 'start', nowUs: this.nowUs });
        this.queue.schedule(this.nowUs + this.prng.int(1, this.options.heartbeatIntervalUs), { kind: 'tick', node: n.id, incarnation: n.incarnation });
        return;
      }
      case 'rejoin': {
        const n = this.node(e.node);
        if (n.state !== 'stopped') return;
        this.log(`n${n.id} RESTARTS with fresh state and joins again`);
        n.state = 'joining';
        n.member = this.newMember(n.address, false);
        n.table = undefined;
        n.pendingTable = undefined;
        n.inbox = [];
        n.links = new Set();
        n.futureWrites = new Map();
        n.appState = new Map();
        n.deliveredInView = new Map();
        n.shutdown = undefined;
        n.paused = false;
        n.incarnation++;
        n.sendCounter = new Map();
        this.observer.onRejoin?.(n.id);
        this.queue.schedule(this.nowUs, { kind: 'startJoin', node: n.id });
        return;
      }
      case 'partition': {
        const side = new Set(e.side);
        for (const a of this.nodes.keys())
          for (const b of this.nodes.keys())
            if (side.has(a) !== side.has(b)) this.cut.add(`${a}>${b}`);
        this.log(`PARTITION [${e.side.join(',')}] | rest`);
        return;
      }
      case 'call':
        e.fn();
        return;
    }
  }

  /** The view whose table node `n` asked for (the one it installs or enters). */
  private pendingTableView(n: SimNode, vid: number): GroupView {
    const v = n.pendingTable;
    if (v === undefined || v.vid !== vid) throw new Error(`simulator: n${n.id} has no table request for view ${vid}`);
    return v;
  }

  /** Whether `from` can reach `to` (no partition cut the link). */
  linkUp(from: number, to: number): boolean {
    return !this.cut.has(`${from}>${to}`);
  }

  private sendItem(from: number, to: number, item: Item, bytes: number, channel: 'sst' | 'rdmc'): number | undefined {
    if (!this.linkUp(from, to)) return undefined;
    const at = this.network.arrivalUs(this.nowUs, channel, from, to, bytes);
    this.queue.schedule(at, { kind: 'arrive', to, item });
    return at;
  }

  private detectFailures(n: SimNode): void {
    const vm = n.vm!;
    if (vm.phase === 'stopped' || vm.phase === 'awaitingTable') return;
    for (const m of vm.view.members) {
      if (m.id === n.id) continue;
      const heard = n.lastHeardUs.get(m.id) ?? 0;
      if (this.nowUs - heard <= this.options.failureTimeoutUs) continue;
      if (vm.suspectedIds.includes(m.id)) continue;
      this.log(`n${n.id} detects n${m.id} failed (silent ${this.nowUs - heard}us)`);
      this.stepNode(n, { kind: 'peerFailed', node: m.id });
      if (n.state !== 'member') return;
    }
  }

  private scheduleProcess(n: SimNode): void {
    if (n.paused || n.processScheduled || n.inbox.length === 0) return;
    n.processScheduled = true;
    this.queue.schedule(this.nowUs + (this.options.processingDelayUs?.get(n.id) ?? 0), { kind: 'process', node: n.id });
  }

  private process(n: SimNode): void {
    n.processScheduled = false;
    if (n.paused || !this.alive(n)) return;
    const items = n.inbox;
    n.inbox = [];
    const controls: Extract<Item, { kind: 'control' }>[] = [];
    const data: Item[] = [];
    for (const it of items) (it.kind === 'control' ? controls : data).push(it as Extract<Item, { kind: 'control' }>);
    if (data.length > 0) this.applyWrites(n, data);
    for (const c of controls) {
      if (!this.alive(n)) return;
      this.log(`n${n.id} gets ${c.message.type} from n${c.from}`);
      this.stepNode(n, { kind: 'control', from: c.from, message: c.message });
    }
  }

  /** The vid of the table node `n` runs now (writes of other views wait or are late). */
  private runningVid(n: SimNode): number | undefined {
    const vm = n.vm;
    return vm && vm.phase !== 'awaitingTable' && n.state === 'member' && n.table?.vid === vm.vid ? vm.vid : undefined;
  }

  /**
   * Applies SST writes of the current view as one batch (then one rowsChanged), then RDMC
   * completions; keeps both for views this node has not installed yet, in arrival order.
   */
  private applyWrites(n: SimNode, items: readonly Item[]): void {
    let applied = 0;
    const rdmc: Extract<Item, { kind: 'rdmc' }>[] = [];
    const current = this.runningVid(n);
    for (const it of items) {
      if (it.kind === 'control') continue;
      if (current === undefined || it.vid > current) {
        if (n.vm === undefined || it.vid > n.vm.vid) {
          const list = n.futureWrites.get(it.vid) ?? [];
          list.push(it);
          n.futureWrites.set(it.vid, list);
        }
        continue;
      }
      if (it.vid < current) continue;
      if (it.kind === 'rdmc') {
        rdmc.push(it);
        continue;
      }
      const vm = n.vm!;
      const row = vm.view.members.findIndex((m) => m.id === it.from);
      if (row < 0) continue;
      for (const w of it.writes) applyRemoteWrite(n.table!.layout, n.table!.bytes, vm.myRank, row, w.offset, w.bytes);
      applied++;
    }
    if (applied > 0 && n.state === 'member') this.stepNode(n, { kind: 'rowsChanged' });
    for (const r of rdmc) {
      if (this.runningVid(n) !== r.vid) return;
      this.log(`n${n.id} rdmc complete v${r.vid} g${r.subgroup} from row ${r.senderRow} ${r.message.length}B`);
      this.stepNode(n, { kind: 'rdmcComplete', subgroup: r.subgroup, senderRow: r.senderRow, message: r.message });
    }
  }

  private applyFutureWrites(n: SimNode): void {
    const vid = n.vm!.vid;
    for (const v of [...n.futureWrites.keys()]) if (v < vid) n.futureWrites.delete(v);
    const pending = n.futureWrites.get(vid);
    if (!pending) return;
    n.futureWrites.delete(vid);
    this.applyWrites(n, pending);
  }

  /** Runs one step of a node's member and carries out its outputs. */
  private stepNode(n: SimNode, input: MemberInput): void {
    if (n.member.stopped) return;
    const vmBefore = n.vm;
    const closingVid = vmBefore?.vid;
    const outputs = n.member.step(input);
    this.handleOutputs(n, closingVid, outputs);
    // Writes for a view that arrived before it ran here apply now, before anything later arrives
    // (the real driver's regions take them as initial contents).
    if (this.alive(n) && outputs.some((o) => o.kind === 'viewStarted')) this.applyFutureWrites(n);
    // The manager's and the core's own invariants, after every step (as the multicast swarm does).
    if (this.alive(n)) n.vm?.checkInvariants();
  }

  private handleOutputs(n: SimNode, closingVid: number | undefined, outputs: readonly MemberOutput[]): void {
    for (const out of outputs) {
      if (!this.alive(n)) return;
      const vm = n.vm;
      switch (out.kind) {
        case 'push': {
          const table = n.table!;
          const base = vm!.myRank * table.layout.rowBytes;
          const writes = out.ranges.map((r) => ({ offset: r.offset, bytes: table.bytes.slice(base + r.offset, base + r.offset + r.length) }));
          const bytes = writes.reduce((s, w) => s + w.bytes.length, 0);
          for (const row of out.targets) {
            const to = vm!.view.members[row].id;
            this.sendItem(n.id, to, { kind: 'writes', vid: vm!.vid, from: n.id, writes }, bytes, 'sst');
          }
          break;
        }
        case 'rdmcSend': {
          this.log(`n${n.id} rdmc send v${vm!.vid} g${out.subgroup} #${out.index} ${out.message.length}B`);
          let lastUs = this.nowUs + 1;
          for (const row of out.groupRows.slice(1)) {
            const to = vm!.view.members[row].id;
            const at = this.sendItem(n.id, to, { kind: 'rdmc', vid: vm!.vid, from: n.id, subgroup: out.subgroup, senderRow: vm!.myRank, message: out.message.slice() }, out.message.length, 'rdmc');
            if (at !== undefined) lastUs = Math.max(lastUs, at);
          }
          // The sender's own completion once every receiver has it.
          this.queue.schedule(lastUs, { kind: 'arrive', to: n.id, item: { kind: 'rdmc', vid: vm!.vid, from: n.id, subgroup: out.subgroup, senderRow: vm!.myRank, message: out.message } });
          break;
        }
        case 'deliver': {
          const h = fnv1a(n.appState.get(out.subgroup) ?? FNV_OFFSET, out.payload);
          n.appState.set(out.subgroup, h);
          n.deliveredInView.set(out.subgroup, (n.deliveredInView.get(out.subgroup) ?? 0) + 1);
          this.log(`n${n.id} deliver v${vm!.vid} g${out.subgroup} from n${out.senderNode} #${out.index}`);
          this.observer.onDeliver?.(n.id, vm!.vid, out, h);
          break;
        }
        case 'persist': {
          const [lo, hi] = this.options.diskDelayUs;
          this.queue.schedule(this.nowUs + this.prng.int(lo, hi), { kind: 'input', node: n.id, incarnation: n.incarnation, input: { kind: 'persisted', subgroup: out.subgroup, version: out.version } });
          break;
        }
        case 'globalPersisted':
          break;
        case 'logTrim': {
          const [lo, hi] = this.options.diskDelayUs;
          this.log(`n${n.id} log trim v${out.vid} g${out.subgroup} [${out.throughIndex.join(',')}] (shard leader n${out.shardLeader})`);
          this.queue.schedule(this.nowUs + this.prng.int(lo, hi), { kind: 'input', node: n.id, incarnation: n.incarnation, input: { kind: 'trimLogged', vid: out.vid, subgroup: out.subgroup } });
          break;
        }
        case 'installing':
          this.installs++;
          this.lastInstallUs = this.nowUs;
          this.log(`n${n.id} install view ${out.view.vid} [${out.view.members.map((m) => m.id).join(',')}] removed [${out.removed.join(',')}] joined [${out.joined.map((j) => j.id).join(',')}]`);
          this.observer.onInstall?.(n.id, { ...out, kind: 'installView' }, new Map(n.deliveredInView));
          void closingVid;
          break;
        case 'sendState':
          this.sendControl(n.id, out.to.id, { type: 'state', vid: out.vid, subgroup: out.subgroup, state: stateBytes(n.appState.get(out.subgroup) ?? FNV_OFFSET), hlc: out.hlc });
          break;
        case 'sendControl':
          this.sendControl(n.id, out.to, out.message);
          break;
        case 'dialContact':
          this.dialContact(n);
          break;
        case 'connect':
          for (const p of out.peers) this.connect(n, p.id);
          break;
        case 'dropPeers':
          for (const id of out.nodes) this.disconnect(n, id);
          break;
        case 'createTable':
          n.pendingTable = out.view;
          this.queue.schedule(this.nowUs + 1, { kind: 'tableReady', node: n.id, incarnation: n.incarnation, vid: out.view.vid });
          break;
        case 'installState':
          n.appState.set(out.subgroup, new DataView(out.state!.buffer, out.state!.byteOffset, 4).getUint32(0, true));
          break;
        case 'viewStarted': {
          const view = out.view;
          n.state = 'member';
          for (const m of view.members) n.lastHeardUs.set(m.id, this.nowUs);
          if (out.first) for (const [g] of view.subgroups.entries()) if (!n.appState.has(g)) n.appState.set(g, FNV_OFFSET);
          this.log(`n${n.id} starts view ${view.vid} [${view.members.map((m) => m.id).join(',')}]${out.first ? ' (its first)' : ''}`);
          this.observer.onViewStart?.(n.id, view, n.appState, out.first && view.vid > 0);
          break;
        }
        case 'joinFailed':
          this.log(`n${n.id} JOIN FAILED: ${out.message}`);
          n.state = 'stopped';
          break;
        case 'note':
          this.log(`n${n.id} ${out.level}: ${out.message}`);
          break;
        case 'inadequate':
          this.log(`n${n.id} inadequate: ${out.message}`);
          this.observer.onInadequate?.(n.id, out.message);
          break;
        case 'sendsDropped':
          this.observer.onSendsDropped?.(n.id, out.subgroup);
          break;
        case 'shutdown':
          this.log(`n${n.id} SHUTDOWN ${out.reason}: ${out.message}`);
          n.state = 'stopped';
          n.shutdown = out.reason;
          this.observer.onShutdown?.(n.id, out.reason, out.message, vm?.vid);
          if (out.reason === 'removed' && this.prng.chance(this.options.rejoinChance ?? 0)) {
            const at = this.nowUs + this.prng.int(500, 5000);
            if (at <= this.options.tickUntilUs) this.queue.schedule(at, { kind: 'rejoin', node: n.id });
          }
          break;
      }
    }
  }

  private sendControl(from: number, to: number, message: ControlMessage): void {
    this.sendItem(from, to, { kind: 'control', from, message }, 64, 'rdmc');
  }

  /**
   * The contact's address: the configured contact while the group forms; afterwards a name that
   * resolves to any node that ever ran a view (dead ones too: the dial then fails).
   */
  private dialContact(n: SimNode): void {
    const formed = [...this.nodes.values()].some((m) => m.vm !== undefined || m.state === 'crashed' || m.state === 'stopped');
    const candidates = formed ? [...this.nodes.values()].filter((m) => m.id !== n.id && (m.vm !== undefined || m.state === 'crashed')) : [this.node(this.contact.id)];
    if (candidates.length === 0) return;
    const target = this.prng.pick(candidates);
    this.log(`n${n.id} dials the contact: n${target.id}`);
    if (!this.alive(target) || !this.linkUp(n.id, target.id) || !this.linkUp(target.id, n.id) || target.id === n.id) {
      // A refused or unanswered dial: reported after about a round trip.
      this.queue.schedule(this.nowUs + 2 * this.options.network.baseDelayUs + 50, {
        kind: 'input',
        node: n.id,
        incarnation: n.incarnation,
        input: { kind: 'contactUnreachable', final: false, reason: `node ${target.id} does not answer` },
      });
      return;
    }
    this.connect(n, target.id);
  }

  /** A connection between `n` and `peer`, both told once the handshake's round trip is over. */
  private connect(n: SimNode, peer: number): void {
    const p = this.nodes.get(peer);
    if (!p || !this.alive(p) || !this.linkUp(n.id, peer) || !this.linkUp(peer, n.id)) {
      // The dial fails: after the handshake timeout, as the real fabric reports it.
      this.queue.schedule(this.nowUs + this.options.failureTimeoutUs, { kind: 'input', node: n.id, incarnation: n.incarnation, input: { kind: 'peerFailed', node: peer } });
      return;
    }
    const rttUs = 2 * (this.network.arrivalUs(this.nowUs, 'rdmc', n.id, peer, 64) - this.nowUs);
    const first = !n.links.has(peer);
    n.links.add(peer);
    p.links.add(n.id);
    this.queue.schedule(this.nowUs + rttUs, { kind: 'input', node: n.id, incarnation: n.incarnation, input: { kind: 'connected', node: peer } });
    if (first) this.queue.schedule(this.nowUs + rttUs / 2, { kind: 'input', node: peer, incarnation: p.incarnation, input: { kind: 'connected', node: n.id } });
  }

  /** `n` closes its connection to `peer`; the other end hears of it. */
  private disconnect(n: SimNode, peer: number): void {
    if (!n.links.delete(peer)) return;
    const p = this.nodes.get(peer);
    if (!p) return;
    p.links.delete(n.id);
    if (this.alive(p) && this.linkUp(n.id, peer)) this.queue.schedule(this.network.arrivalUs(this.nowUs, 'rdmc', n.id, peer, 64), { kind: 'input', node: peer, incarnation: p.incarnation, input: { kind: 'peerFailed', node: n.id } });
  }
}
