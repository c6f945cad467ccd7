/**
 * The multicast core of one view: a sans-I/O state machine over the view's SST. The driver owns
 * the table memory, applies remote writes to it, and feeds inputs; the core answers each input
 * with outputs (pushes of my row, RDMC sends, deliveries, persistence requests). A new view gets
 * a new core over a new table (the layout depends on the view).
 */
import type { CoreInput, CoreOutput } from './core-io.js';
import type { Hlc } from './hlc.js';
import { invariant } from './invariant.js';
import { PredicateEngine } from './predicates.js';
import type { ChunkAllocator } from './payload-slab.js';
import { PUSH_RANK, PushBatch } from './push-batch.js';
import { ShardMulticast, type UndeliveredSend } from './shard-multicast.js';
import { SstLayout } from './sst-layout.js';
import { SstTable } from './sst-table.js';
import type { Version } from './version.js';
import { findMyShard, type ViewLayout } from './view.js';

export interface MulticastCoreOptions {
  readonly view: ViewLayout;
  /** The table memory (layout.tableBytes long), already filled by initializeSstTable. */
  readonly table: ArrayBuffer;
  /** How often tick() publishes the heartbeat; Derecho's heartbeat_ms defaults to 1 ms. */
  readonly heartbeatIntervalUs?: number;
  /** Memory for payload copies (default zero-filled; see payload-slab.ts). */
  readonly payloadChunks?: ChunkAllocator;
  /** Per subgroup: the HLC its deliveries in this view must follow (see ShardContext.hlcFloor). */
  readonly hlcFloors?: ReadonlyMap<number, Hlc>;
}

export class MulticastCore {
  readonly view: ViewLayout;
  readonly layout: SstLayout;
  readonly table: SstTable;
  readonly myRow: number;
  private readonly shards: (ShardMulticast | undefined)[];
  private readonly engine = new PredicateEngine();
  private readonly push = new PushBatch();
  private readonly out: CoreOutput[] = [];
  private readonly heartbeatIntervalUs: number;
  private lastHeartbeatUs = -Infinity;
  private wedged = false;
  private readonly otherRows: number[];

  constructor(options: MulticastCoreOptions) {
    const { view } = options;
    this.view = view;
    this.layout = SstLayout.forView(view);
    this.myRow = view.myRank;
    this.table = new SstTable(this.layout, options.table, view.myRank);
    this.heartbeatIntervalUs = options.heartbeatIntervalUs ?? 1000;
    if (!(this.heartbeatIntervalUs > 0)) throw new Error(`heartbeatIntervalUs must be positive, got ${this.heartbeatIntervalUs}`);
    for (let row = 0; row < this.layout.numRows; row++) {
      const vid = this.table.i32('vid', row);
      if (vid !== view.vid) throw new Error(`SST row ${row} holds vid ${vid}, expected ${view.vid}: call initializeSstTable on the table before building the core`);
    }
    this.otherRows = view.members.map((_, r) => r).filter((r) => r !== this.myRow);
    this.shards = view.subgroups.map((sub, g) => {
      const my = findMyShard(view, g);
      if (!my) return undefined;
      return new ShardMulticast({ table: this.table, layout: this.layout, view, subgroup: g, my, params: sub.params, push: this.push, out: this.out, payloadChunks: options.payloadChunks, hlcFloor: options.hlcFloors?.get(g) });
    });
    for (const s of this.shards) if (s && s.numSenders > 0) this.registerPredicates(s);
  }

  private registerPredicates(s: ShardMulticast): void {
    const g = s.subgroup;
    this.engine.insert(`smc-receive/${g}`, 'recurrent', () => s.smcPending(), () => s.receiveSmc());
    if (s.ordered) this.engine.insert(`deliver/${g}`, 'recurrent', () => s.canDeliver(), () => s.deliverOrdered());
    if (s.mySenderRank >= 0) this.engine.insert(`send/${g}`, 'recurrent', () => s.canPublish(), () => s.publish());
    if (s.ordered) this.engine.insert(`global-persistence/${g}`, 'recurrent', () => s.globalPersistenceAdvanced(), () => s.advanceGlobalPersistence());
  }

  private shard(subgroup: number, what: string): ShardMulticast {
    if (!Number.isInteger(subgroup) || subgroup < 0 || subgroup >= this.shards.length) {
      throw new Error(`${what}: subgroup must be an integer in [0, ${this.shards.length}), got ${subgroup}`);
    }
    const s = this.shards[subgroup];
    if (!s) throw new Error(`${what}: node ${this.view.members[this.myRow]} is not a member of any shard of subgroup ${subgroup}`);
    return s;
  }

  /** Applies one input and returns what the driver must do, in order. */
  step(input: CoreInput): CoreOutput[] {
    invariant(this.out.length === 0 && this.push.pending === 0, 'no outputs left over between steps', () => `${this.out.length} outputs, ${this.push.pending} pushes`);
    switch (input.kind) {
      case 'send':
        this.shard(input.subgroup, 'send').send(input.payload, input.sendWallUs, input.cooked ?? false);
        break;
      case 'sendBatch': {
        const shard = this.shard(input.subgroup, 'sendBatch');
        // All or nothing: a bad payload anywhere in the batch refuses the whole batch.
        for (const payload of input.payloads) shard.checkSend(payload, input.sendWallUs, input.cooked ?? false);
        const owned = input.owned ?? false;
        for (const payload of input.payloads) shard.send(payload, input.sendWallUs, input.cooked ?? false, owned, owned && (input.rdmcHeaderRoom ?? false));
        break;
      }
      case 'rowsChanged':
        break;
      case 'rdmcComplete':
        this.shard(input.subgroup, 'rdmcComplete').receiveRdmc(input.senderRow, input.message);
        break;
      case 'tick':
        this.heartbeat(input.nowUs);
        break;
      case 'persisted':
        this.shard(input.subgroup, 'persisted').persisted(input.version);
        break;
      case 'wedge':
        this.wedge();
        break;
      case 'deliverTrim':
        this.shard(input.subgroup, 'deliverTrim').deliverTrim(input.throughIndex);
        break;
      default: {
        const never: never = input;
        throw new Error(`unknown core input ${JSON.stringify(never)}`);
      }
    }
    this.engine.evaluate();
    return this.drain();
  }

  send(subgroup: number, payload: Uint8Array, sendWallUs: number, cooked = false): CoreOutput[] {
    return this.step({ kind: 'send', subgroup, payload, sendWallUs, cooked });
  }
  sendBatch(subgroup: number, payloads: readonly Uint8Array[], sendWallUs: number, cooked = false): CoreOutput[] {
    return this.step({ kind: 'sendBatch', subgroup, payloads, sendWallUs, cooked });
  }
  onRowsChanged(): CoreOutput[] {
    return this.step({ kind: 'rowsChanged' });
  }
  onRdmcComplete(subgroup: number, senderRow: number, message: Uint8Array): CoreOutput[] {
    return this.step({ kind: 'rdmcComplete', subgroup, senderRow, message });
  }
  tick(nowUs: number): CoreOutput[] {
    return this.step({ kind: 'tick', nowUs });
  }
  persisted(subgroup: number, version: Version): CoreOutput[] {
    return this.step({ kind: 'persisted', subgroup, version });
  }

  private drain(): CoreOutput[] {
    const pushes = this.push.flush();
    const rest = this.out.splice(0, this.out.length);
    // Pushes first: they carry protocol state the other members are waiting on; deliveries and
    // persistence requests are local and RDMC has its own channel.
    return pushes.length === 0 ? rest : rest.length === 0 ? pushes : [...pushes, ...rest];
  }

  /**
   * The heartbeat (reference §2.1 timeout_thread, §2.8 item 6): refresh local_stability_frontier
   * and push it WITH completion to every member; the driver turns a missing completion into a
   * failure suspicion.
   */
  private heartbeat(nowUs: number): void {
    if (!Number.isFinite(nowUs) || nowUs < 0) throw new Error(`tick: nowUs must be a non-negative number, got ${nowUs}`);
    if (nowUs - this.lastHeartbeatUs < this.heartbeatIntervalUs) return;
    this.lastHeartbeatUs = nowUs;
    for (const s of this.shards) if (s) this.table.setU64('localStabilityFrontier', s.subgroup, Math.floor(s.stabilityFrontierUs(nowUs)));
    if (this.otherRows.length > 0) this.out.push({ kind: 'push', ranges: [this.layout.range('localStabilityFrontier')], targets: this.otherRows, withCompletion: true });
  }

  /**
   * Wedge this view: publish `wedged`, stop publishing, receiving and delivering. Ready for the
   * view-change protocol (ragged trim) to deliver the agreed prefix; queued sends stay available
   * through undeliveredOwnSends() for the next view's core.
   */
  private wedge(): void {
    if (this.wedged) return;
    this.wedged = true;
    for (const s of this.shards) s?.wedge();
    this.table.setBool('wedged', 0, true);
    this.push.mark(PUSH_RANK.wedged, this.layout.range('wedged'), this.otherRows);
  }

  get isWedged(): boolean {
    return this.wedged;
  }

  /** Ragged trim delivery after the wedge (see ShardMulticast.deliverTrim). */
  deliverTrim(subgroup: number, throughIndex: readonly number[]): CoreOutput[] {
    return this.step({ kind: 'deliverTrim', subgroup, throughIndex });
  }

  /** Throws the error send() would throw for this input, changing nothing (lets a driver that
   *  batches sends report a bad one to its caller at once). */
  checkSend(subgroup: number, payload: Uint8Array, sendWallUs: number, cooked = false): void {
    this.shard(subgroup, 'send').checkSend(payload, sendWallUs, cooked);
  }

  /** Messages queued by send() but not yet published (the backpressure signal for the API). */
  queuedSends(subgroup: number): number {
    return this.shard(subgroup, 'queuedSends').queuedSends;
  }

  /** The index the next send() to `subgroup` will get. */
  nextMessageIndex(subgroup: number): number {
    return this.shard(subgroup, 'nextMessageIndex').nextMessageIndex;
  }

  /** My messages to `subgroup` not delivered here yet, in index order (see ShardMulticast). */
  undeliveredOwnSends(subgroup: number): UndeliveredSend[] {
    return this.shard(subgroup, 'undeliveredOwnSends').undeliveredOwnSends();
  }

  /** Highest index i such that 0..i from sender rank `senderRank` all arrived here. */
  receivedThrough(subgroup: number, senderRank: number): number {
    return this.shard(subgroup, 'receivedThrough').receivedThrough(senderRank);
  }

  lastDeliveredVersion(subgroup: number): Version {
    return this.shard(subgroup, 'lastDeliveredVersion').lastDeliveredVersion;
  }

  globalPersistedVersion(subgroup: number): Version {
    return this.shard(subgroup, 'globalPersistedVersion').globalPersistedVersion;
  }

  /** My shard's state machine for `subgroup`, or undefined when I am in none of its shards. */
  shardOf(subgroup: number): ShardMulticast | undefined {
    return this.shards[subgroup];
  }

  checkInvariants(): void {
    for (const s of this.shards) s?.checkInvariants();
  }
}
