/**
 * A deterministic simulated driver for the membership protocol: one real ViewManager per member,
 * each over its own copy of its view's SST, on a virtual clock and a simulated network. Members
 * can crash (stop forever), pause past the failure timeout, be partitioned (links cut), join
 * (fresh nodes with fresh state, through the join protocol with redirects and retries) and leave.
 * The failure detector is the driver's: a member that has heard nothing from a peer of its view
 * for `failureTimeoutUs` of virtual time inputs `peerFailed`.
 *
 * The replicated state of every member is modelled as one hash per subgroup over the sequence it
 * delivered (FNV-1a over payloads); joiners receive it by state transfer from the old shard leader.
 */
import type { Hlc } from '../core/hlc.js';
import type { DeliverOutput } from '../core/core-io.js';
import { viewLayoutFor, type GroupView, type MemberAddress } from '../core/membership/group-view.js';
import type { MembershipInput, MembershipOutput, ShutdownReason } from '../core/membership/membership-io.js';
import type { AllocateNextView, StateTransfer } from '../core/membership/next-view.js';
import { ViewManager } from '../core/membership/view-manager.js';
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

export type NodeState = 'joining' | 'member' | 'crashed' | 'stopped';

/** What the simulator reports to the membership checker. */
export interface MembershipObserver {
  onDeliver?(node: number, vid: number, out: DeliverOutput, stateAfter: number): void;
  onSendAccepted?(node: number, subgroup: number, counter: number): void;
  onSendsDropped?(node: number, subgroup: number): void;
  /** `node` handled installView while its manager was in `previous.vid`. */
  onInstall?(node: number, out: Extract<MembershipOutput, { kind: 'installView' }>, deliveredInClosingView: ReadonlyMap<number, number>): void;
  /** `node` starts running view `view` (survivor after viewTableReady, or joiner after state transfer). */
  onViewStart?(node: number, view: GroupView, state: ReadonlyMap<number, number>, joiner: boolean): void;
  /** `vid`: the view the node was in when it stopped. */
  onShutdown?(node: number, reason: ShutdownReason, message: string, vid?: number): void;
  /** A removed node restarts with fresh state and joins again under its old id. */
  onRejoin?(node: number): void;
  onInadequate?(node: number, message: string): void;
  afterEvent?(): void;
}

export interface MembershipClusterOptions {
  readonly view0: GroupView;
  readonly allocate: AllocateNextView;
  readonly network: NetworkOptions;
  readonly prng: Prng;
  readonly heartbeatIntervalUs: number;
  readonly failureTimeoutUs: number;
  /** Ticks (heartbeats, failure detection, join retries) stop after this virtual time. */
  readonly tickUntilUs: number;
  readonly diskDelayUs: readonly [number, number];
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

type Control =
  | { readonly kind: 'joinRequest'; readonly joiner: MemberAddress }
  | { readonly kind: 'joinRedirect'; readonly leader: MemberAddress }
  | { readonly kind: 'joinRefused'; readonly message: string }
  | { readonly kind: 'view'; readonly view: GroupView; readonly transfers: readonly StateTransfer[] }
  | { readonly kind: 'state'; readonly vid: number; readonly subgroup: number; readonly hash: number; readonly hlc: Hlc };

type Item =
  | { readonly kind: 'writes'; readonly vid: number; readonly from: number; readonly writes: readonly RowWrite[] }
  | { readonly kind: 'rdmc'; readonly vid: number; readonly from: number; readonly subgroup: number; readonly senderRow: number; readonly message: Uint8Array }
  | { readonly kind: 'control'; readonly from: number; readonly msg: Control };

type SimEvent =
  | { readonly kind: 'arrive'; readonly to: number; readonly item: Item }
  | { readonly kind: 'process'; readonly node: number }
  | { readonly kind: 'tick'; readonly node: number }
  | { readonly kind: 'appSend'; readonly node: number; readonly subgroup: number }
  | { readonly kind: 'trimLogged'; readonly node: number; readonly vid: number; readonly subgroup: number }
  | { readonly kind: 'persisted'; readonly node: number; readonly vid: number; readonly subgroup: number; readonly version: bigint }
  | { readonly kind: 'tableReady'; readonly node: number; readonly vid: number }
  | { readonly kind: 'crash'; readonly node: number }
  | { readonly kind: 'pause'; readonly node: number; readonly durationUs: number }
  | { readonly kind: 'resume'; readonly node: number }
  | { readonly kind: 'leave'; readonly node: number }
  | { readonly kind: 'startJoin'; readonly node: number }
  | { readonly kind: 'joinRetry'; readonly node: number }
  | { readonly kind: 'rejoin'; readonly node: number }
  | { readonly kind: 'partition'; readonly side: readonly number[] }
  | { readonly kind: 'call'; readonly fn: () => void };

export interface SimNode {
  readonly id: number;
  readonly address: MemberAddress;
  state: NodeState;
  vm: ViewManager | undefined;
  layout: SstLayout | undefined;
  bytes: Uint8Array | undefined;
  /** The table of the view being installed (between installView and viewTableReady). */
  nextTable: { vid: number; layout: SstLayout; buffer: ArrayBuffer; transfers: readonly StateTransfer[]; sinceUs: number } | undefined;
  inbox: Item[];
  processScheduled: boolean;
  paused: boolean;
  lastHeardUs: Map<number, number>;
  /** Writes for views this node has not installed yet, by vid. */
  futureWrites: Map<number, Item[]>;
  /** Replicated state per subgroup (hash over the delivered sequence). */
  appState: Map<number, number>;
  /** Delivered count per subgroup in the current view. */
  deliveredInView: Map<number, number>;
  sendCounter: Map<number, number>;
  /** Bumped when a removed node restarts: its messages and deliveries are a new stream. */
  incarnation: number;
  shutdown: ShutdownReason | undefined;
  // Joiner side.
  pendingView: { view: GroupView; transfers: readonly StateTransfer[] } | undefined;
  receivedState: Map<string, { readonly hash: number; readonly hlc: Hlc }>;
  leaveRequested: boolean;
}

export class MembershipCluster {
  readonly nodes = new Map<number, SimNode>();
  readonly queue = new EventQueue<SimEvent>();
  private readonly network: SimNetwork;
  private readonly prng: Prng;
  private readonly observer: MembershipObserver;
  private readonly cut = new Set<string>();
  eventsRun = 0;
  installs = 0;
  lastInstallUs = 0;

  constructor(private readonly options: MembershipClusterOptions) {
    this.prng = options.prng;
    this.network = new SimNetwork(options.network, options.prng);
    this.observer = options.observer ?? {};
    for (const m of options.view0.members) {
      const node = this.makeNode(m);
      this.startView(node, options.view0, new Map(), false);
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
  /** A fresh node `id` starts joining at `atUs`, contacting a random member. */
  scheduleJoin(atUs: number, id: number, address: MemberAddress): void {
    if (this.nodes.has(id)) throw new Error(`node id ${id} already simulated`);
    this.makeNode(address).state = 'joining';
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

  /** Feeds `input` to node `id`'s manager now (as its application or driver would). */
  inputNow(id: number, input: MembershipInput): void {
    const n = this.nodes.get(id);
    if (!n || n.state !== 'member' || n.paused) return;
    this.log(`n${id} input ${input.kind}${'node' in input ? ` n${input.node}` : ''}`);
    this.stepNode(n, () => n.vm!.step(input));
  }

  crashNow(id: number): void {
    const n = this.nodes.get(id);
    if (!n || n.state === 'crashed') return;
    this.log(`n${id} CRASH`);
    n.state = 'crashed';
    n.inbox = [];
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

  private makeNode(address: MemberAddress): SimNode {
    const node: SimNode = {
      id: address.id,
      address,
      state: 'member',
      vm: undefined,
      layout: undefined,
      bytes: undefined,
      nextTable: undefined,
      inbox: [],
      processScheduled: false,
      paused: false,
      lastHeardUs: new Map(),
      futureWrites: new Map(),
      appState: new Map(),
      deliveredInView: new Map(),
      sendCounter: new Map(),
      incarnation: 0,
      shutdown: undefined,
      pendingView: undefined,
      receivedState: new Map(),
      leaveRequested: false,
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

  /** A fresh member of `view` (view 0, or a joiner that has its state). */
  private startView(node: SimNode, view: GroupView, state: ReadonlyMap<number, { readonly hash: number; readonly hlc: Hlc }>, joiner: boolean): void {
    const layout = SstLayout.forView(viewLayoutFor(view, node.id));
    const buffer = new ArrayBuffer(layout.tableBytes);
    initializeSstTable(layout, buffer, view.vid);
    node.vm = new ViewManager({
      view,
      myId: node.id,
      table: buffer,
      allocate: this.options.allocate,
      heartbeatIntervalUs: this.options.heartbeatIntervalUs,
      partitionSafety: this.options.partitionSafety,
      hlcFloors: new Map([...state].map(([g, x]) => [g, x.hlc])),
    });
    node.layout = layout;
    node.bytes = new Uint8Array(buffer);
    node.state = 'member';
    node.appState = new Map(view.subgroups.map((_, g) => [g, state.get(g)?.hash ?? FNV_OFFSET]));
    node.deliveredInView = new Map();
    for (const m of view.members) node.lastHeardUs.set(m.id, this.nowUs);
    this.log(`n${node.id} starts view ${view.vid} [${view.members.map((m) => m.id).join(',')}]${joiner ? ' (joiner)' : ''}`);
    this.observer.onViewStart?.(node.id, view, node.appState, joiner);
    this.queue.schedule(this.nowUs + this.prng.int(1, this.options.heartbeatIntervalUs), { kind: 'tick', node: node.id });
    this.applyFutureWrites(node);
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
        if (n.state !== 'member') return;
        if (this.nowUs + this.options.heartbeatIntervalUs <= this.options.tickUntilUs) this.queue.schedule(this.nowUs + this.options.heartbeatIntervalUs, e);
        if (n.paused) return;
        this.stepNode(n, () => n.vm!.tick(this.nowUs));
        this.detectFailures(n);
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
        this.stepNode(n, () =>
          batch ? vm.step({ kind: 'sendBatch', subgroup: e.subgroup, payloads: [room ? withHeaderRoom(payload) : payload], sendWallUs: this.nowUs, owned, rdmcHeaderRoom: room }) : vm.send(e.subgroup, payload, this.nowUs),
        );
        return;
      }
      case 'trimLogged': {
        const n = this.node(e.node);
        if (n.state !== 'member') return;
        this.stepNode(n, () => n.vm!.step({ kind: 'trimLogged', vid: e.vid, subgroup: e.subgroup }));
        return;
      }
      case 'persisted': {
        const n = this.node(e.node);
        if (n.state !== 'member' || n.vm!.vid !== e.vid || n.vm!.phase === 'awaitingTable') return;
        this.stepNode(n, () => n.vm!.step({ kind: 'persisted', subgroup: e.subgroup, version: e.version }));
        return;
      }
      case 'tableReady': {
        const n = this.node(e.node);
        const t = n.nextTable;
        if (n.state !== 'member' || !t || t.vid !== e.vid) return;
        if (n.paused) {
          this.queue.schedule(this.nowUs + 10, e);
          return;
        }
        // A survivor that moves into a shard gets that shard's state first (like a joiner).
        const mine = t.transfers.filter((x) => x.to === n.id);
        const missing = mine.filter((x) => !n.receivedState.has(`${t.vid}/${x.subgroup}`));
        if (missing.length > 0) {
          const senderSilent = missing.some((x) => this.nowUs - (n.lastHeardUs.get(x.from) ?? 0) > this.options.failureTimeoutUs && this.nowUs - t.sinceUs > this.options.failureTimeoutUs);
          if (senderSilent) {
            // The state source failed mid-transfer: this node cannot start the view (Derecho throws).
            this.log(`n${n.id} SHUTDOWN: state transfer source failed`);
            n.state = 'stopped';
            n.shutdown = 'removed';
            this.observer.onShutdown?.(n.id, 'removed', 'state transfer source failed');
          } else this.queue.schedule(this.nowUs + 10, e);
          return;
        }
        const hlcFloors = new Map<number, Hlc>();
        for (const x of mine) {
          const received = n.receivedState.get(`${t.vid}/${x.subgroup}`)!;
          n.appState.set(x.subgroup, received.hash);
          hlcFloors.set(x.subgroup, received.hlc);
        }
        n.nextTable = undefined;
        n.layout = t.layout;
        n.bytes = new Uint8Array(t.buffer);
        n.deliveredInView = new Map();
        const view = n.vm!.view;
        this.stepNode(n, () => n.vm!.step({ kind: 'viewTableReady', vid: e.vid, table: t.buffer, hlcFloors }));
        if (n.state !== 'member') return;
        const newView = n.vm!.view;
        invariantSim(newView.vid === e.vid, () => `n${n.id} installed ${newView.vid}, expected ${e.vid} (was ${view.vid})`);
        for (const m of newView.members) n.lastHeardUs.set(m.id, this.nowUs);
        this.log(`n${n.id} starts view ${newView.vid} [${newView.members.map((m) => m.id).join(',')}]`);
        this.observer.onViewStart?.(n.id, newView, n.appState, false);
        this.applyFutureWrites(n);
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
        n.leaveRequested = true;
        this.stepNode(n, () => n.vm!.step({ kind: 'leave' }));
        return;
      }
      case 'startJoin':
      case 'joinRetry': {
        const n = this.node(e.node);
        if (n.state !== 'joining') return;
        if (this.nowUs + this.options.joinRetryUs <= this.options.tickUntilUs) this.queue.schedule(this.nowUs + this.options.joinRetryUs, { kind: 'joinRetry', node: n.id });
        if (n.paused) return;
        const contacts = [...this.nodes.values()].filter((m) => m.state === 'member' || m.state === 'stopped' || m.state === 'crashed').filter((m) => m.vm !== undefined);
        if (contacts.length === 0) return;
        const to = this.prng.pick(contacts);
        this.log(`n${n.id} join request to n${to.id}`);
        this.sendControl(n.id, to.id, { kind: 'joinRequest', joiner: n.address });
        return;
      }
      case 'rejoin': {
        const n = this.node(e.node);
        if (n.state !== 'stopped') return;
        this.log(`n${n.id} RESTARTS with fresh state and joins again`);
        n.state = 'joining';
        n.vm = undefined;
        n.layout = undefined;
        n.bytes = undefined;
        n.nextTable = undefined;
        n.inbox = [];
        n.futureWrites = new Map();
        n.appState = new Map();
        n.deliveredInView = new Map();
        n.shutdown = undefined;
        n.pendingView = undefined;
        n.receivedState = new Map();
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

  /** Whether `from` can reach `to` (no partition cut the link). */
  linkUp(from: number, to: number): boolean {
    return !this.cut.has(`${from}>${to}`);
  }

  private sendControl(from: number, to: number, msg: Control): void {
    if (!this.linkUp(from, to)) return;
    this.queue.schedule(this.network.arrivalUs(this.nowUs, 'rdmc', from, to, 64), { kind: 'arrive', to, item: { kind: 'control', from, msg } });
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
      this.stepNode(n, () => vm.step({ kind: 'peerFailed', node: m.id }));
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
    const controls: Item[] = [];
    const data: Item[] = [];
    for (const it of items) (it.kind === 'control' ? controls : data).push(it);
    if (data.length > 0) this.applyWrites(n, data);
    for (const c of controls) {
      if (!this.alive(n)) return;
      if (c.kind === 'control') this.handleControl(n, c.from, c.msg);
    }
  }

  /**
   * Applies SST writes of the current view as one batch (then one rowsChanged), then RDMC
   * completions; keeps both for views this node has not installed yet, in arrival order.
   */
  private applyWrites(n: SimNode, items: readonly Item[]): void {
    const vm = n.vm;
    let applied = 0;
    const rdmc: Extract<Item, { kind: 'rdmc' }>[] = [];
    for (const it of items) {
      if (it.kind === 'control') continue;
      const current = vm && vm.phase !== 'awaitingTable' && n.state === 'member' ? vm.vid : undefined;
      if (current === undefined || it.vid > current) {
        if (vm === undefined || it.vid > vm.vid) {
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
      const row = vm!.view.members.findIndex((m) => m.id === it.from);
      if (row < 0) continue;
      for (const w of it.writes) applyRemoteWrite(n.layout!, n.bytes!, vm!.myRank, row, w.offset, w.bytes);
      applied++;
    }
    if (applied > 0 && n.state === 'member') this.stepNode(n, () => vm!.onRowsChanged());
    for (const r of rdmc) {
      if (n.state !== 'member' || vm!.vid !== r.vid || vm!.phase === 'awaitingTable') return;
      this.log(`n${n.id} rdmc complete v${r.vid} g${r.subgroup} from row ${r.senderRow} ${r.message.length}B`);
      this.stepNode(n, () => vm!.step({ kind: 'rdmcComplete', subgroup: r.subgroup, senderRow: r.senderRow, message: r.message }));
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

  private handleControl(n: SimNode, from: number, msg: Control): void {
    switch (msg.kind) {
      case 'joinRequest': {
        if (n.state !== 'member') return;
        this.log(`n${n.id} gets join request of n${msg.joiner.id}`);
        this.stepNode(n, () => n.vm!.step({ kind: 'joinRequest', joiner: msg.joiner }));
        return;
      }
      case 'joinRedirect':
        if (n.state !== 'joining') return;
        this.log(`n${n.id} redirected to n${msg.leader.id}`);
        this.sendControl(n.id, msg.leader.id, { kind: 'joinRequest', joiner: n.address });
        return;
      case 'joinRefused':
        this.log(`n${n.id} join refused: ${msg.message}`);
        return;
      case 'view': {
        if (n.state !== 'joining') return;
        if (n.pendingView && n.pendingView.view.vid >= msg.view.vid) return;
        this.log(`n${n.id} receives view ${msg.view.vid} from n${from}`);
        n.pendingView = { view: msg.view, transfers: msg.transfers };
        this.maybeStartJoiner(n);
        return;
      }
      case 'state':
        n.receivedState.set(`${msg.vid}/${msg.subgroup}`, { hash: msg.hash, hlc: msg.hlc });
        if (n.state === 'joining') this.maybeStartJoiner(n);
        return;
    }
  }

  private maybeStartJoiner(n: SimNode): void {
    const p = n.pendingView;
    if (!p) return;
    const mine = p.transfers.filter((t) => t.to === n.id);
    if (!mine.every((t) => n.receivedState.has(`${p.view.vid}/${t.subgroup}`))) return;
    const state = new Map(mine.map((t) => [t.subgroup, n.receivedState.get(`${p.view.vid}/${t.subgroup}`)!]));
    n.pendingView = undefined;
    this.startView(n, p.view, state, true);
  }

  /** Runs one step of a node's manager and carries out its outputs. */
  private stepNode(n: SimNode, step: () => MembershipOutput[]): void {
    const vidBefore = n.vm!.vid;
    const outputs = step();
    this.handleOutputs(n, vidBefore, outputs);
    // The manager's and the core's own invariants, after every step (as the multicast swarm does).
    n.vm?.checkInvariants();
  }

  private handleOutputs(n: SimNode, vid: number, outputs: readonly MembershipOutput[]): void {
    const vm = n.vm!;
    for (const out of outputs) {
      switch (out.kind) {
        case 'push': {
          const layout = n.layout!;
          const base = vm.myRank * layout.rowBytes;
          const writes = out.ranges.map((r) => ({ offset: r.offset, bytes: n.bytes!.slice(base + r.offset, base + r.offset + r.length) }));
          const bytes = writes.reduce((s, w) => s + w.bytes.length, 0);
          for (const row of out.targets) {
            const to = vm.view.members[row].id;
            if (!this.linkUp(n.id, to)) continue;
            this.queue.schedule(this.network.arrivalUs(this.nowUs, 'sst', n.id, to, bytes), { kind: 'arrive', to, item: { kind: 'writes', vid: vm.vid, from: n.id, writes } });
          }
          break;
        }
        case 'rdmcSend': {
          this.log(`n${n.id} rdmc send v${vm.vid} g${out.subgroup} #${out.index} ${out.message.length}B`);
          let lastUs = this.nowUs + 1;
          for (const row of out.groupRows.slice(1)) {
            const to = vm.view.members[row].id;
            if (!this.linkUp(n.id, to)) continue;
            const at = this.network.arrivalUs(this.nowUs, 'rdmc', n.id, to, out.message.length);
            lastUs = Math.max(lastUs, at);
            this.queue.schedule(at, { kind: 'arrive', to, item: { kind: 'rdmc', vid: vm.vid, from: n.id, subgroup: out.subgroup, senderRow: vm.myRank, message: out.message.slice() } });
          }
          // The sender's own completion once every receiver has it.
          this.queue.schedule(lastUs, { kind: 'arrive', to: n.id, item: { kind: 'rdmc', vid: vm.vid, from: n.id, subgroup: out.subgroup, senderRow: vm.myRank, message: out.message } });
          break;
        }
        case 'deliver': {
          const h = fnv1a(n.appState.get(out.subgroup) ?? FNV_OFFSET, out.payload);
          n.appState.set(out.subgroup, h);
          n.deliveredInView.set(out.subgroup, (n.deliveredInView.get(out.subgroup) ?? 0) + 1);
          this.log(`n${n.id} deliver v${vm.vid} g${out.subgroup} from n${out.senderNode} #${out.index}`);
          this.observer.onDeliver?.(n.id, vm.vid, out, h);
          break;
        }
        case 'persist': {
          const [lo, hi] = this.options.diskDelayUs;
          this.queue.schedule(this.nowUs + this.prng.int(lo, hi), { kind: 'persisted', node: n.id, vid: vm.vid, subgroup: out.subgroup, version: out.version });
          break;
        }
        case 'globalPersisted':
          break;
        case 'logTrim': {
          const [lo, hi] = this.options.diskDelayUs;
          this.log(`n${n.id} log trim v${out.vid} g${out.subgroup} [${out.throughIndex.join(',')}] (shard leader n${out.shardLeader})`);
          this.queue.schedule(this.nowUs + this.prng.int(lo, hi), { kind: 'trimLogged', node: n.id, vid: out.vid, subgroup: out.subgroup });
          break;
        }
        case 'installView': {
          this.installs++;
          this.lastInstallUs = this.nowUs;
          this.log(`n${n.id} install view ${out.view.vid} [${out.view.members.map((m) => m.id).join(',')}] removed [${out.removed.join(',')}] joined [${out.joined.map((j) => j.id).join(',')}]`);
          this.observer.onInstall?.(n.id, out, new Map(n.deliveredInView));
          const layout = SstLayout.forView(viewLayoutFor(out.view, n.id));
          const buffer = new ArrayBuffer(layout.tableBytes);
          initializeSstTable(layout, buffer, out.view.vid);
          n.nextTable = { vid: out.view.vid, layout, buffer, transfers: out.stateTransfers, sinceUs: this.nowUs };
          this.queue.schedule(this.nowUs + 1, { kind: 'tableReady', node: n.id, vid: out.view.vid });
          break;
        }
        case 'sendView':
          this.log(`n${n.id} sends view ${out.view.vid} to joiner n${out.to.id}`);
          this.sendControl(n.id, out.to.id, { kind: 'view', view: out.view, transfers: out.stateTransfers });
          break;
        case 'sendState':
          this.sendControl(n.id, out.to.id, { kind: 'state', vid: out.vid, subgroup: out.subgroup, hash: n.appState.get(out.subgroup) ?? FNV_OFFSET, hlc: out.hlc });
          break;
        case 'joinRedirect':
          this.sendControl(n.id, out.to.id, { kind: 'joinRedirect', leader: out.leader });
          break;
        case 'joinRefused':
          this.sendControl(n.id, out.to.id, { kind: 'joinRefused', message: out.message });
          break;
        case 'joinDeferred':
          this.log(`n${n.id} tells joiner n${out.to.id}: ${out.message}`);
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
          this.observer.onShutdown?.(n.id, out.reason, out.message, vm.vid);
          if (out.reason === 'removed' && this.prng.chance(this.options.rejoinChance ?? 0)) {
            const at = this.nowUs + this.prng.int(500, 5000);
            if (at <= this.options.tickUntilUs) this.queue.schedule(at, { kind: 'rejoin', node: n.id });
          }
          break;
      }
    }
    void vid;
  }
}

function invariantSim(cond: boolean, detail: () => string): void {
  if (!cond) throw new Error(`simulator: ${detail()}`);
}
