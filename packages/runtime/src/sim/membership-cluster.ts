/**
 * A deterministic simulated world for whole members: one `MemberShell` per node, the very shell
 * the real driver runs (the Member: group formation, the joiner side, every view change; and its
 * interpretation of every output), over a simulated Fabric (sim-fabric.ts) and Clock
 * (sim-clock.ts) on a virtual clock and a simulated network. The initial members form the group through the contact
 * (node `initialMembers[0]`), as real processes do. Members can crash (stop forever), pause past
 * the failure timeout, be partitioned (links cut), join (fresh nodes with fresh state, through
 * the contact, with redirects and retries), rejoin after removal, and leave. The failure detector
 * is the simulated fabric's: a member that has heard nothing from a peer of its view for
 * `failureTimeoutUs` of virtual time reports it failed; a joiner whose connection's other end
 * crashed hears of it after the same timeout.
 *
 * The replicated state of every member is modelled as one hash per subgroup over the sequence it
 * delivered (FNV-1a over payloads); members moving into a shard receive it by state transfer
 * from the old shard leader.
 */
import type { DeliverOutput } from '../core/core-io.js';
import type { Member } from '../core/member/member.js';
import type { MemberInput, MemberOutput, MemberShutdownReason } from '../core/member/member-io.js';
import type { AllocateSubgroups } from '../core/membership/formation.js';
import type { GroupView, MemberAddress } from '../core/membership/group-view.js';
import type { MembershipInput, MembershipOutput } from '../core/membership/membership-io.js';
import type { AllocateNextView } from '../core/membership/next-view.js';
import type { ViewManager } from '../core/membership/view-manager.js';
import { MemberShell } from '../shell/member-shell.js';
import { createLogger } from '../util/logger.js';
import { EventQueue } from './event-queue.js';
import { SimClock, type SimClockWorld } from './sim-clock.js';
import { SimFabric, type SimFabricWorld, type SimPacket } from './sim-fabric.js';
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

type SimEvent =
  | { readonly kind: 'arrive'; readonly to: number; readonly packet: SimPacket }
  | { readonly kind: 'appSend'; readonly node: number; readonly subgroup: number }
  | { readonly kind: 'crash'; readonly node: number }
  | { readonly kind: 'pause'; readonly node: number; readonly durationUs: number }
  | { readonly kind: 'resume'; readonly node: number }
  | { readonly kind: 'leave'; readonly node: number }
  | { readonly kind: 'startJoin'; readonly node: number }
  | { readonly kind: 'rejoin'; readonly node: number }
  | { readonly kind: 'partition'; readonly side: readonly number[] }
  | { readonly kind: 'call'; readonly fn: () => void };

/** The shells log through a silent logger: the simulator traces what it needs itself. */
const SILENT = createLogger('silent');

export interface SimNode {
  readonly id: number;
  readonly address: MemberAddress;
  state: NodeState;
  /** The running incarnation's shell, fabric and clock (replaced when a removed node restarts). */
  shell: MemberShell;
  fabric: SimFabric;
  clock: SimClock;
  readonly member: Member;
  /** The running view's manager (undefined before the first view starts). */
  readonly vm: ViewManager | undefined;
  paused: boolean;
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
  private readonly fabricWorld: SimFabricWorld;
  private readonly clockWorld: SimClockWorld;
  eventsRun = 0;
  installs = 0;
  lastInstallUs = 0;

  constructor(private readonly options: MembershipClusterOptions) {
    this.prng = options.prng;
    this.network = new SimNetwork(options.network, options.prng);
    this.observer = options.observer ?? {};
    this.contact = options.initialMembers[0];
    ({ fabric: this.fabricWorld, clock: this.clockWorld } = this.makeWorlds());
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
    n.shell.step(input as MemberInput);
  }

  crashNow(id: number): void {
    const n = this.nodes.get(id);
    if (!n || n.state === 'crashed') return;
    this.log(`n${id} CRASH`);
    n.state = 'crashed';
    n.fabric.close();
    n.clock.stop();
    // A joiner's connection to a crashed node breaks once its heartbeats stop (members detect
    // the silence themselves, from the SST).
    for (const other of n.fabric.links) {
      const o = this.nodes.get(other);
      if (o && o.state === 'joining') this.notify(o.fabric, this.nowUs + this.options.failureTimeoutUs, { kind: 'failure', failure: { nodeId: id, reason: `node ${id} stopped answering`, refused: false } });
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
   * A fresh incarnation of a node: its shell over a new simulated fabric and clock. Only the
   * contact's first incarnation forms the group: a restarted contact joins the running group like
   * any node (a real one would form a second group: issue 12).
   */
  private incarnate(n: Pick<SimNode, 'id' | 'address'>, isContact: boolean): { shell: MemberShell; fabric: SimFabric; clock: SimClock } {
    const o = this.options;
    const fabric = new SimFabric(n.id, this.fabricWorld);
    const clock = new SimClock(this.clockWorld, () => {
      const node = this.nodes.get(n.id);
      if (node?.state === 'member' && node.fabric === fabric) fabric.detectFailures(o.failureTimeoutUs);
    });
    const shell = new MemberShell({
      member: {
        me: n.address,
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
      },
      fabric,
      clock,
      log: SILENT,
      tickIntervalUs: o.heartbeatIntervalUs,
      connectTimeoutUs: 2 * o.failureTimeoutUs,
      restartLog: {
        appendView: (_view, done) => done(),
        appendTrim: (trim, done) => {
          this.log(`n${n.id} log trim v${trim.vid} g${trim.subgroup} [${trim.throughIndex.join(',')}] (shard leader n${trim.shardLeader})`);
          clock.after(this.diskDelayUs(), () => done());
        },
      },
      rethrow: true,
      observer: {
        output: (out) => this.observe(this.node(n.id), out),
        afterStep: () => {
          const node = this.node(n.id);
          // The manager's and the core's own invariants, after every step (as the multicast swarm does).
          if (node.shell === shell && this.alive(node)) node.vm?.checkInvariants();
        },
      },
    });
    shell.setPersistenceHandler({
      persist: (subgroup, version) => void clock.after(this.diskDelayUs(), () => shell.persisted(subgroup, version)),
      globalPersisted: () => {},
    });
    shell.setStateHandler({
      snapshot: (subgroup) => stateBytes(this.node(n.id).appState.get(subgroup) ?? FNV_OFFSET),
      install: (_view, subgroup, state) => void this.node(n.id).appState.set(subgroup, new DataView(state!.buffer, state!.byteOffset, 4).getUint32(0, true)),
    });
    shell.on('deliver', (out) => {
      const node = this.node(n.id);
      const h = fnv1a(node.appState.get(out.subgroup) ?? FNV_OFFSET, out.payload);
      node.appState.set(out.subgroup, h);
      node.deliveredInView.set(out.subgroup, (node.deliveredInView.get(out.subgroup) ?? 0) + 1);
      this.log(`n${n.id} deliver v${node.vm!.vid} g${out.subgroup} from n${out.senderNode} #${out.index}`);
      this.observer.onDeliver?.(n.id, node.vm!.vid, out, h);
    });
    return { shell, fabric, clock };
  }

  private diskDelayUs(): number {
    const [lo, hi] = this.options.diskDelayUs;
    return this.prng.int(lo, hi);
  }

  private makeNode(address: MemberAddress): SimNode {
    const { shell, fabric, clock } = this.incarnate({ id: address.id, address }, address.id === this.contact.id);
    const node: SimNode = {
      id: address.id,
      address,
      state: 'joining',
      shell,
      fabric,
      clock,
      get member() {
        return this.shell.member;
      },
      get vm() {
        return this.shell.member.viewManager;
      },
      paused: false,
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
        n.fabric.arrive(e.packet);
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
        n.shell.step(
          batch
            ? { kind: 'sendBatch', subgroup: e.subgroup, payloads: [room ? withHeaderRoom(payload) : payload], sendWallUs: this.nowUs, owned, rdmcHeaderRoom: room }
            : { kind: 'send', subgroup: e.subgroup, payload, sendWallUs: this.nowUs },
        );
        return;
      }
      case 'crash':
        this.crashNow(e.node);
        return;
      case 'pause': {
        const n = this.node(e.node);
        if (!this.alive(n) || n.paused) return;
        n.paused = true;
        n.fabric.pause();
        n.clock.paused = true;
        this.log(`n${n.id} paused for ${e.durationUs}us`);
        this.queue.schedule(this.nowUs + e.durationUs, { kind: 'resume', node: n.id });
        return;
      }
      case 'resume': {
        const n = this.node(e.node);
        if (!this.alive(n)) return;
        n.paused = false;
        n.clock.paused = false;
        this.log(`n${n.id} resumed (${n.fabric.inboxLength} inbox items)`);
        // The node's timers were frozen too: process what arrived, then restart the detector.
        n.fabric.resume();
        return;
      }
      case 'leave': {
        const n = this.node(e.node);
        if (n.state !== 'member') return;
        this.log(`n${n.id} LEAVE`);
        n.shell.leave();
        return;
      }
      case 'startJoin': {
        const n = this.node(e.node);
        if (n.state !== 'joining') return;
        this.log(`n${n.id} starts${n.id === this.contact.id && n.incarnation === 0 ? ' as the contact' : ', joining'}`);
        n.shell.begin();
        return;
      }
      case 'rejoin': {
        const n = this.node(e.node);
        if (n.state !== 'stopped') return;
        this.log(`n${n.id} RESTARTS with fresh state and joins again`);
        n.clock.stop();
        n.fabric.close();
        Object.assign(n, this.incarnate(n, false));
        n.state = 'joining';
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

  /** Whether `from` can reach `to` (no partition cut the link). */
  linkUp(from: number, to: number): boolean {
    return !this.cut.has(`${from}>${to}`);
  }

  /** What the simulator records of each output, before the shell carries it out. */
  private observe(n: SimNode, out: MemberOutput): void {
    switch (out.kind) {
      case 'rdmcSend':
        this.log(`n${n.id} rdmc send v${n.vm!.vid} g${out.subgroup} #${out.index} ${out.message.length}B`);
        break;
      case 'installing':
        this.installs++;
        this.lastInstallUs = this.nowUs;
        this.log(`n${n.id} install view ${out.view.vid} [${out.view.members.map((m) => m.id).join(',')}] removed [${out.removed.join(',')}] joined [${out.joined.map((j) => j.id).join(',')}]`);
        this.observer.onInstall?.(n.id, { ...out, kind: 'installView' }, new Map(n.deliveredInView));
        break;
      case 'createTable':
        n.deliveredInView = new Map();
        break;
      case 'sendControl':
        this.log(`n${n.id} sends ${out.message.type} to n${out.to}`);
        break;
      case 'viewStarted': {
        const view = out.view;
        n.state = 'member';
        n.fabric.resetSilence(view.members.map((m) => m.id));
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
        this.observer.onShutdown?.(n.id, out.reason, out.message, n.vm?.vid);
        if (out.reason === 'removed' && this.prng.chance(this.options.rejoinChance ?? 0)) {
          const at = this.nowUs + this.prng.int(500, 5000);
          if (at <= this.options.tickUntilUs) this.queue.schedule(at, { kind: 'rejoin', node: n.id });
        }
        break;
      default:
        break;
    }
  }

  private notify(fabric: SimFabric, atUs: number, packet: SimPacket): void {
    this.queue.schedule(atUs, { kind: 'call', fn: () => fabric.arrive(packet) });
  }

  /** The simulated world as each node's fabric and clock see it. */
  private makeWorlds(): { fabric: SimFabricWorld; clock: SimClockWorld } {
    const self = this;
    const at = (atUs: number, fn: () => void): void => this.queue.schedule(atUs, { kind: 'call', fn });
    const fabric: SimFabricWorld = {
      get nowUs() {
        return self.nowUs;
      },
      transmit: (from, to, packet, bytes, channel) => {
        if (!this.linkUp(from, to)) return undefined;
        const arrival = this.network.arrivalUs(this.nowUs, channel, from, to, bytes);
        this.queue.schedule(arrival, { kind: 'arrive', to, packet });
        return arrival;
      },
      notify: (f, atUs, packet) => this.notify(f, atUs, packet),
      at,
      dialContact: (f) => this.dialContact(this.node(f.nodeId)),
      connect: (f, peer) => this.connect(this.node(f.nodeId), peer),
      disconnect: (f, peer) => this.disconnect(this.node(f.nodeId), peer),
      processingDelayUs: (node) => this.options.processingDelayUs?.get(node) ?? 0,
      trace: (line) => this.log(line),
    };
    const clock: SimClockWorld = {
      get nowUs() {
        return self.nowUs;
      },
      at,
      firstTickDelayUs: (intervalUs) => this.prng.int(1, intervalUs),
      tickUntilUs: this.options.tickUntilUs,
    };
    return { fabric, clock };
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
      this.notify(n.fabric, this.nowUs + 2 * this.options.network.baseDelayUs + 50, { kind: 'failure', failure: { nodeId: n.fabric.unknownPeer, reason: `node ${target.id} does not answer`, refused: false } });
      return;
    }
    this.connect(n, target.id);
  }

  /** A connection between `n` and `peer`, both told once the handshake's round trip is over. */
  private connect(n: SimNode, peer: number): void {
    const p = this.nodes.get(peer);
    if (!p || !this.alive(p) || !this.linkUp(n.id, peer) || !this.linkUp(peer, n.id)) {
      // The dial fails: after the handshake timeout, as the real fabric reports it.
      this.notify(n.fabric, this.nowUs + this.options.failureTimeoutUs, { kind: 'failure', failure: { nodeId: peer, reason: `cannot reach node ${peer}`, refused: false } });
      return;
    }
    const rttUs = 2 * (this.network.arrivalUs(this.nowUs, 'rdmc', n.id, peer, 64) - this.nowUs);
    const first = !n.fabric.links.has(peer);
    n.fabric.links.add(peer);
    p.fabric.links.add(n.id);
    this.notify(n.fabric, this.nowUs + rttUs, { kind: 'connected', node: peer });
    if (first) this.notify(p.fabric, this.nowUs + rttUs / 2, { kind: 'connected', node: n.id });
  }

  /** `n` closes its connection to `peer`; the other end hears of it. */
  private disconnect(n: SimNode, peer: number): void {
    if (!n.fabric.links.delete(peer)) return;
    const p = this.nodes.get(peer);
    if (!p) return;
    p.fabric.links.delete(n.id);
    if (this.alive(p) && this.linkUp(n.id, peer)) this.notify(p.fabric, this.network.arrivalUs(this.nowUs, 'rdmc', n.id, peer, 64), { kind: 'failure', failure: { nodeId: n.id, reason: `node ${n.id} closed the connection`, refused: false } });
  }
}
