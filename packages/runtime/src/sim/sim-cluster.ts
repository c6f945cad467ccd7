/**
 * A deterministic simulated driver: one real MulticastCore per member, each over its own copy of
 * the SST, a virtual clock, and a simulated network. It plays the role the native driver plays in
 * production: it owns the table memory, applies remote writes exactly as the NIC/TCP thread would
 * (copy the writer's bytes to the same offsets of the writer's row in the reader's table), then
 * tells the core in one batch; it carries RDMC messages and reports their completion; it ticks.
 */
import { HEADER_BYTES } from '../core/sst-layout.js';
import type { CoreInput, CoreOutput, DeliverOutput } from '../core/core-io.js';
import { MulticastCore } from '../core/multicast-core.js';
import { SstLayout } from '../core/sst-layout.js';
import { applyRemoteWrite, initializeSstTable } from '../core/sst-table.js';
import { formatVersion, type Version } from '../core/version.js';
import type { ViewLayout } from '../core/view.js';
import { EventQueue } from './event-queue.js';
import { SimNetwork, type NetworkOptions } from './network.js';
import type { Prng } from './prng.js';

/** What the simulator reports to invariant checkers. */
export interface SimObserver {
  onSend?(row: number, subgroup: number, index: number, payload: Uint8Array, cooked: boolean): void;
  onDeliver?(row: number, out: DeliverOutput): void;
  onPersistRequest?(row: number, subgroup: number, version: Version): void;
  onGlobalPersisted?(row: number, subgroup: number, version: Version): void;
  onWedge?(row: number): void;
  /** After every event; `row` is the member whose core ran (if any). */
  afterEvent?(row: number | undefined): void;
}

export interface SimClusterOptions {
  /** The view; `myRank` is ignored (each member gets its own). */
  readonly view: Omit<ViewLayout, 'myRank'>;
  readonly network: NetworkOptions;
  readonly prng: Prng;
  /** Per-row delay between a write arriving and the member's core seeing it (its poll latency). */
  readonly processingDelayUs?: readonly number[];
  readonly heartbeatIntervalUs?: number;
  /** Ticks stop after this virtual time so a quiet run ends. */
  readonly tickUntilUs?: number;
  /** Simulated disk: persistence completes after a delay in this range. */
  readonly persistDelayUs?: readonly [number, number];
  readonly observer?: SimObserver;
  readonly trace?: (line: string) => void;
  /** A run with more events than this is declared stuck (livelock). */
  readonly maxEvents?: number;
}

interface RowWrite {
  readonly from: number;
  readonly offset: number;
  readonly bytes: Uint8Array;
}

type InboxItem = { readonly kind: 'writes'; readonly writes: readonly RowWrite[] } | { readonly kind: 'rdmc'; readonly subgroup: number; readonly senderRow: number; readonly message: Uint8Array };

type SimEvent =
  | { readonly kind: 'arrive'; readonly to: number; readonly item: InboxItem }
  | { readonly kind: 'process'; readonly row: number }
  | { readonly kind: 'appSend'; readonly row: number; readonly subgroup: number; readonly payload: Uint8Array; readonly cooked: boolean }
  | { readonly kind: 'tick'; readonly row: number }
  | { readonly kind: 'persistDone'; readonly row: number; readonly subgroup: number; readonly version: Version }
  | { readonly kind: 'pause'; readonly row: number; readonly durationUs: number }
  | { readonly kind: 'resume'; readonly row: number }
  | { readonly kind: 'wedge'; readonly row: number };

interface Member {
  readonly row: number;
  readonly node: number;
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  readonly core: MulticastCore;
  inbox: InboxItem[];
  processScheduled: boolean;
  paused: boolean;
  deferredSends: { subgroup: number; payload: Uint8Array; cooked: boolean }[];
  lastPersistDoneUs: Map<number, number>;
}

export class SimCluster {
  readonly layout: SstLayout;
  readonly members: Member[];
  readonly queue = new EventQueue<SimEvent>();
  private readonly network: SimNetwork;
  private readonly prng: Prng;
  private readonly processingDelayUs: readonly number[];
  private readonly heartbeatIntervalUs: number;
  private readonly tickUntilUs: number;
  private readonly persistDelayUs: readonly [number, number];
  private readonly observer: SimObserver;
  private readonly trace: ((line: string) => void) | undefined;
  private readonly maxEvents: number;
  eventsRun = 0;
  pushesSent = 0;
  rdmcSent = 0;

  constructor(options: SimClusterOptions) {
    this.prng = options.prng;
    this.network = new SimNetwork(options.network, options.prng);
    this.processingDelayUs = options.processingDelayUs ?? [];
    this.heartbeatIntervalUs = options.heartbeatIntervalUs ?? 1000;
    this.tickUntilUs = options.tickUntilUs ?? 0;
    this.persistDelayUs = options.persistDelayUs ?? [1, 100];
    this.observer = options.observer ?? {};
    this.trace = options.trace;
    this.maxEvents = options.maxEvents ?? 2_000_000;
    const view0: ViewLayout = { ...options.view, myRank: 0 };
    this.layout = SstLayout.forView(view0);
    this.members = options.view.members.map((node, row) => {
      // The driver owns the table memory: allocate and initialize it, then build the core over it.
      const buffer = new ArrayBuffer(this.layout.tableBytes);
      initializeSstTable(this.layout, buffer, options.view.vid);
      const core = new MulticastCore({ view: { ...options.view, myRank: row }, table: buffer, heartbeatIntervalUs: this.heartbeatIntervalUs });
      return { row, node, buffer, bytes: new Uint8Array(buffer), core, inbox: [], processScheduled: false, paused: false, deferredSends: [], lastPersistDoneUs: new Map() };
    });
    for (const m of this.members) if (this.tickUntilUs > 0) this.queue.schedule(this.prng.int(0, this.heartbeatIntervalUs), { kind: 'tick', row: m.row });
  }

  get nowUs(): number {
    return this.queue.nowUs;
  }

  core(row: number): MulticastCore {
    return this.members[row].core;
  }

  /** The application at `row` multicasts `payload` to `subgroup` at virtual time `atUs`. */
  scheduleSend(atUs: number, row: number, subgroup: number, payload: Uint8Array, cooked = false): void {
    this.queue.schedule(atUs, { kind: 'appSend', row, subgroup, payload, cooked });
  }

  /** The member at `row` wedges its view (the start of a view change). */
  scheduleWedge(atUs: number, row: number): void {
    this.queue.schedule(atUs, { kind: 'wedge', row });
  }

  /** Feeds one input to the core at `row` now (as its driver would) and carries out the outputs. */
  inject(row: number, input: CoreInput): void {
    this.handleOutputs(this.members[row], this.members[row].core.step(input));
    this.observer.afterEvent?.(row);
  }

  /** Freezes `row` (no processing, no sends, no ticks) for a while, like SIGSTOP or a GC pause. */
  schedulePause(atUs: number, row: number, durationUs: number): void {
    this.queue.schedule(atUs, { kind: 'pause', row, durationUs });
  }

  private log(line: string): void {
    this.trace?.(`${String(this.nowUs).padStart(8)}us ${line}`);
  }

  /** Runs until no event is left. */
  run(): void {
    for (;;) {
      const next = this.queue.pop();
      if (!next) return;
      if (++this.eventsRun > this.maxEvents) throw new Error(`simulation did not quiesce within ${this.maxEvents} events (livelock?)`);
      const row = this.handle(next.event);
      this.observer.afterEvent?.(row);
    }
  }

  private handle(e: SimEvent): number | undefined {
    switch (e.kind) {
      case 'arrive': {
        const m = this.members[e.to];
        m.inbox.push(e.item);
        this.scheduleProcess(m);
        return undefined;
      }
      case 'process':
        this.process(this.members[e.row]);
        return e.row;
      case 'appSend': {
        const m = this.members[e.row];
        if (m.paused) {
          m.deferredSends.push({ subgroup: e.subgroup, payload: e.payload, cooked: e.cooked });
          return undefined;
        }
        this.appSend(m, e.subgroup, e.payload, e.cooked);
        return e.row;
      }
      case 'tick': {
        const m = this.members[e.row];
        if (this.nowUs + this.heartbeatIntervalUs <= this.tickUntilUs) this.queue.schedule(this.nowUs + this.heartbeatIntervalUs, e);
        if (m.paused) return undefined;
        this.handleOutputs(m, m.core.tick(this.nowUs));
        return e.row;
      }
      case 'persistDone': {
        const m = this.members[e.row];
        this.log(`r${e.row} persisted g${e.subgroup} ${formatVersion(e.version)}`);
        this.handleOutputs(m, m.core.persisted(e.subgroup, e.version));
        return e.row;
      }
      case 'pause': {
        const m = this.members[e.row];
        if (m.paused) return undefined;
        m.paused = true;
        this.log(`r${e.row} paused for ${e.durationUs}us`);
        this.queue.schedule(this.nowUs + e.durationUs, { kind: 'resume', row: e.row });
        return undefined;
      }
      case 'wedge': {
        const m = this.members[e.row];
        if (m.paused) {
          this.queue.schedule(this.nowUs + 50, e);
          return undefined;
        }
        this.log(`r${e.row} wedge`);
        this.handleOutputs(m, m.core.step({ kind: 'wedge' }));
        this.observer.onWedge?.(e.row);
        return e.row;
      }
      case 'resume': {
        const m = this.members[e.row];
        m.paused = false;
        this.log(`r${e.row} resumed (${m.inbox.length} inbox items, ${m.deferredSends.length} deferred sends)`);
        const deferred = m.deferredSends;
        m.deferredSends = [];
        for (const d of deferred) this.appSend(m, d.subgroup, d.payload, d.cooked);
        this.scheduleProcess(m);
        return e.row;
      }
    }
  }

  private scheduleProcess(m: Member): void {
    if (m.paused || m.processScheduled || m.inbox.length === 0) return;
    m.processScheduled = true;
    this.queue.schedule(this.nowUs + (this.processingDelayUs[m.row] ?? 0), { kind: 'process', row: m.row });
  }

  private appSend(m: Member, subgroup: number, payload: Uint8Array, cooked: boolean): void {
    const index = m.core.nextMessageIndex(subgroup);
    this.log(`r${m.row} send g${subgroup} #${index} ${payload.length}B (queued ${m.core.queuedSends(subgroup)})`);
    // Half the sends go through sendBatch, as the real driver sends (some with the payload handed
    // over), so the swarm covers both paths.
    let outputs;
    if (this.prng.chance(0.5)) outputs = m.core.send(subgroup, payload, this.nowUs, cooked);
    else {
      const owned = this.prng.chance(0.5);
      // Every other owned send leaves room for the RDMC header in front of the payload, as the
      // driver does for copies that travel by RDMC (no extra draw: seeds keep their scenarios).
      const room = owned && index % 2 === 0;
      outputs = m.core.step({ kind: 'sendBatch', subgroup, payloads: [room ? withHeaderRoom(payload) : payload], sendWallUs: this.nowUs, cooked, owned, rdmcHeaderRoom: room });
    }
    this.observer.onSend?.(m.row, subgroup, index, payload, cooked);
    this.handleOutputs(m, outputs);
  }

  /** Applies the whole inbox as one batch (writes first, as the driver's one native call), then RDMC completions. */
  private process(m: Member): void {
    m.processScheduled = false;
    if (m.paused) return;
    const items = m.inbox;
    m.inbox = [];
    let writes = 0;
    for (const item of items) {
      if (item.kind !== 'writes') continue;
      for (const w of item.writes) {
        applyRemoteWrite(this.layout, m.bytes, m.row, w.from, w.offset, w.bytes);
        writes++;
      }
    }
    if (writes > 0) {
      this.log(`r${m.row} applied ${writes} writes`);
      this.handleOutputs(m, m.core.onRowsChanged());
    }
    for (const item of items) {
      if (item.kind !== 'rdmc') continue;
      this.log(`r${m.row} rdmc complete g${item.subgroup} from r${item.senderRow} ${item.message.length}B`);
      this.handleOutputs(m, m.core.onRdmcComplete(item.subgroup, item.senderRow, item.message));
    }
  }

  private handleOutputs(m: Member, outputs: CoreOutput[]): void {
    for (const out of outputs) {
      switch (out.kind) {
        case 'push': {
          // Snapshot now: the driver reads the bytes when it handles the output.
          const writes: RowWrite[] = out.ranges.map((r) => ({ from: m.row, offset: r.offset, bytes: m.bytes.slice(m.row * this.layout.rowBytes + r.offset, m.row * this.layout.rowBytes + r.offset + r.length) }));
          const bytes = writes.reduce((n, w) => n + w.bytes.length, 0);
          for (const to of out.targets) {
            this.pushesSent++;
            this.queue.schedule(this.network.arrivalUs(this.nowUs, 'sst', m.row, to, bytes), { kind: 'arrive', to, item: { kind: 'writes', writes } });
          }
          break;
        }
        case 'rdmcSend': {
          this.rdmcSent++;
          this.log(`r${m.row} rdmc send g${out.subgroup} #${out.index} ${out.message.length}B to [${out.groupRows.join(',')}]`);
          let lastUs = this.nowUs + 1;
          for (const to of out.groupRows.slice(1)) {
            const at = this.network.arrivalUs(this.nowUs, 'rdmc', m.row, to, out.message.length);
            lastUs = Math.max(lastUs, at);
            this.queue.schedule(at, { kind: 'arrive', to, item: { kind: 'rdmc', subgroup: out.subgroup, senderRow: m.row, message: out.message.slice() } });
          }
          // The sender's own completion comes once every receiver has the message.
          this.queue.schedule(lastUs, { kind: 'arrive', to: m.row, item: { kind: 'rdmc', subgroup: out.subgroup, senderRow: m.row, message: out.message } });
          break;
        }
        case 'deliver':
          this.log(`r${m.row} deliver g${out.subgroup}/${out.shard} from n${out.senderNode} #${out.index} v=${formatVersion(out.version)} hlc=${out.hlc.wallUs}+${out.hlc.logical} ${out.payload.length}B`);
          this.observer.onDeliver?.(m.row, out);
          break;
        case 'persist': {
          this.observer.onPersistRequest?.(m.row, out.subgroup, out.version);
          const [lo, hi] = this.persistDelayUs;
          // A log device completes requests in order.
          const at = Math.max(m.lastPersistDoneUs.get(out.subgroup) ?? 0, this.nowUs + this.prng.int(lo, hi));
          m.lastPersistDoneUs.set(out.subgroup, at);
          this.queue.schedule(at, { kind: 'persistDone', row: m.row, subgroup: out.subgroup, version: out.version });
          break;
        }
        case 'globalPersisted':
          this.log(`r${m.row} global persisted g${out.subgroup} ${formatVersion(out.version)}`);
          this.observer.onGlobalPersisted?.(m.row, out.subgroup, out.version);
          break;
      }
    }
  }
}

/** A copy of `payload` with HEADER_BYTES of its own in front of it (see sendBatch rdmcHeaderRoom). */
export function withHeaderRoom(payload: Uint8Array): Uint8Array {
  const whole = new Uint8Array(HEADER_BYTES + payload.length);
  whole.set(payload, HEADER_BYTES);
  return whole.subarray(HEADER_BYTES);
}
