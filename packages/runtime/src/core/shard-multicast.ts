/**
 * Atomic multicast for the one shard of one subgroup this node belongs to (reference §2.5–2.7):
 * SMC through SST slots, RDMC for large payloads, one sequence space for both, round-robin total
 * order, stability, reactive nulls, window flow control, delivered_num and persisted_num.
 *
 * Single-threaded and sans-I/O: it reads the table, writes only my row, marks the ranges it wrote
 * in the step's PushBatch, and appends deliveries / RDMC sends / persist requests to `out`.
 */
import type { CoreOutput } from './core-io.js';
import { hlc, HLC_ZERO, compareHlc, nextHlc, type Hlc } from './hlc.js';
import { invariant } from './invariant.js';
import { HeldKind, HeldMessages } from './held-messages.js';
import { checkHeaderSize, decodeMessage, encodeMessage, headerCooked, headerIndex, headerNumNulls, headerSendWallUs, writeHeader } from './message-header.js';
import { PayloadSlab, type ChunkAllocator } from './payload-slab.js';
import { PUSH_RANK, type PushBatch } from './push-batch.js';
import { HEADER_BYTES, SLOT_SIZE_FIELD_BYTES, type SstLayout, type SubgroupColumns } from './sst-layout.js';
import type { SstTable } from './sst-table.js';
import { INVALID_VERSION, formatVersion, makeVersion, type Version } from './version.js';
import type { DeliveryMode, MulticastParams, MyShard, ViewLayout } from './view.js';

/** A local send not yet published: assigned its index at send time, waiting for the window. */
interface Pending {
  readonly index: number;
  readonly payload: Uint8Array | null;
  readonly sendWallUs: number;
  readonly cooked: boolean;
  readonly viaRdmc: boolean;
  /** The RDMC header can be written in the HEADER_BYTES before the payload (no message copy). */
  readonly headerRoom: boolean;
}

/** An own message not yet delivered locally, or not yet globally persisted. */
interface OwnInFlight {
  readonly index: number;
  readonly sendWallUs: number;
  readonly payload: Uint8Array;
  readonly cooked: boolean;
  /** Set when delivered (ordered modes: its version; unordered: INVALID_VERSION). */
  version: Version | undefined;
}

/** An own message to re-send in the next view after a wedge. */
export interface UndeliveredSend {
  readonly index: number;
  readonly payload: Uint8Array;
  readonly sendWallUs: number;
  readonly cooked: boolean;
}

export interface ShardContext {
  readonly table: SstTable;
  readonly layout: SstLayout;
  readonly view: ViewLayout;
  readonly subgroup: number;
  readonly my: MyShard;
  readonly params: MulticastParams;
  readonly push: PushBatch;
  readonly out: CoreOutput[];
  /**
   * The HLC of the shard's last delivery in the previous view (identical at every member of the
   * new shard: survivors carry their own, members moving in get it with the state transfer).
   * Without it a view's first HLCs restart from zero and a re-sent message, stamped with its
   * original send time, could go back in time across the view change.
   */
  readonly hlcFloor?: Hlc;
  readonly payloadChunks?: ChunkAllocator;
}

/** One member's progress in a shard, read from the SST (`row` is its rank in the view). */
export interface MemberFrontier {
  readonly row: number;
  readonly deliveredSeq: number;
  readonly persistedVersion: Version;
  readonly stabilityFrontierUs: number;
}

export class ShardMulticast {
  readonly subgroup: number;
  readonly shardIndex: number;
  readonly mode: DeliveryMode;
  readonly ordered: boolean;
  /** SST rows of the shard members, in shard order. */
  readonly memberRows: readonly number[];
  /** Shard members other than me: the targets of every push of this subgroup's columns. */
  readonly peerRows: readonly number[];
  /** SST rows of the senders, indexed by sender rank. */
  readonly senderRows: readonly number[];
  readonly senderNodes: readonly number[];
  /** Number of senders S. */
  readonly numSenders: number;
  /** My rank among the senders, −1 when I only receive. */
  readonly mySenderRank: number;

  private readonly table: SstTable;
  private readonly layout: SstLayout;
  private readonly cols: SubgroupColumns;
  private readonly myRow: number;
  private readonly vid: number;
  private readonly windowSize: number;
  private readonly maxPayloadBytes: number;
  private readonly maxSmcPayloadBytes: number;
  private readonly push: PushBatch;
  private readonly out: CoreOutput[];

  // --- sending ---
  /** Index the next local send (or null) gets (Derecho's future_message_indices). */
  private nextIndex = 0;
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private queuedUserSends = 0;
  /** Last SMC ring position I published (= my `index` column). Nulls take one position each. */
  private smcCursor = -1;
  private rdmcInFlight: number | null = null;
  private readonly ownInFlight: OwnInFlight[] = [];
  private ownInFlightHead = 0;
  /** Position in ownInFlight of the next own message to be delivered (they deliver in index order). */
  private ownDeliveredCursor = 0;

  // --- receiving ---
  /** Per sender: highest index i with 0..i all received (my num_received, kept here too). */
  private readonly contiguous: number[];
  /** Per sender: indices received beyond a gap (an SMC message overtaking an RDMC one). */
  private readonly beyondGap: Set<number>[];
  private readonly lastSmcIndex: number[];
  private readonly lastRdmcIndex: number[];
  /**
   * Ordered modes: received, undelivered messages by seq. SMC messages stay in their slots until
   * delivered: a slot is rewritten only when the window lets its sender publish a message W
   * indices later, and (ordered) that needs the slot's message delivered at every member, or
   * (unordered, which delivers on receipt) received in order at every member. Delivery asserts it.
   */
  private readonly heldBySeq: HeldMessages;
  /** Unordered mode: received, undelivered messages per sender by index. */
  private readonly heldByIndex: HeldMessages[];
  /** Delivered SMC payloads are copied out of their slots into shared chunks. */
  private readonly deliverySlab: PayloadSlab;
  /** Copies of sends the caller did not hand over (kept until delivered, for re-sending). */
  private readonly sendSlab: PayloadSlab;
  private readonly unorderedDelivered: number[];

  // --- delivery and persistence ---
  private lastHlc: Hlc = HLC_ZERO;
  private lastVersion: Version = INVALID_VERSION;
  private globalPersisted: Version = INVALID_VERSION;
  private wedged = false;
  /** The ragged trim ran: delivered_num may now pass seq_num (it covers skipped seqs too). */
  private trimmed = false;

  constructor(ctx: ShardContext) {
    const { view, my } = ctx;
    this.table = ctx.table;
    this.layout = ctx.layout;
    this.subgroup = ctx.subgroup;
    this.shardIndex = my.shardIndex;
    this.mode = my.shard.mode;
    this.ordered = this.mode !== 'unordered';
    this.cols = ctx.layout.subgroups[ctx.subgroup];
    this.myRow = view.myRank;
    this.vid = view.vid;
    this.windowSize = ctx.params.windowSize;
    this.maxPayloadBytes = ctx.params.maxPayloadBytes;
    this.maxSmcPayloadBytes = ctx.params.maxSmcPayloadBytes;
    this.push = ctx.push;
    this.out = ctx.out;
    this.lastHlc = ctx.hlcFloor ?? HLC_ZERO;
    const rowOf = (node: number): number => view.members.indexOf(node);
    this.memberRows = my.shard.members.map(rowOf);
    this.peerRows = this.memberRows.filter((r) => r !== this.myRow);
    const senderRows: number[] = [];
    const senderNodes: number[] = [];
    my.shard.members.forEach((node, i) => {
      if (my.shard.senders[i]) {
        senderRows.push(rowOf(node));
        senderNodes.push(node);
      }
    });
    this.senderRows = senderRows;
    this.senderNodes = senderNodes;
    this.numSenders = senderRows.length;
    this.mySenderRank = senderRows.indexOf(this.myRow);
    invariant(this.numSenders <= this.cols.maxSenders, 'shard senders fit the subgroup columns', () => `${this.numSenders} > ${this.cols.maxSenders}`);
    this.contiguous = senderRows.map(() => -1);
    this.beyondGap = senderRows.map(() => new Set<number>());
    this.lastSmcIndex = senderRows.map(() => -1);
    this.lastRdmcIndex = senderRows.map(() => -1);
    this.deliverySlab = new PayloadSlab(ctx.payloadChunks);
    this.sendSlab = new PayloadSlab(ctx.payloadChunks);
    this.heldBySeq = new HeldMessages(this.ordered ? 2 * this.windowSize * Math.max(1, this.numSenders) : 16);
    this.heldByIndex = senderRows.map(() => new HeldMessages(this.ordered ? 16 : 2 * this.windowSize));
    this.unorderedDelivered = senderRows.map(() => -1);
  }

  // ------------------------------------------------------------------ column helpers

  private nr(k: number): number {
    return this.cols.numReceivedOffset + k;
  }

  private mark(rank: number, range: { offset: number; length: number }): void {
    this.push.mark(rank, range, this.peerRows);
  }

  private deliveredNum(row: number): number {
    return this.table.i32('deliveredNum', row, this.subgroup);
  }

  private seqNumOf(row: number): number {
    return this.table.i32('seqNum', row, this.subgroup);
  }

  // ------------------------------------------------------------------ sending

  /** Throws the error `send` would throw for this input, changing nothing. */
  checkSend(payload: Uint8Array, sendWallUs: number, cooked: boolean): void {
    if (this.mySenderRank < 0) throw new Error(`subgroup ${this.subgroup}: this node (row ${this.myRow}) is not a sender in shard ${this.shardIndex}`);
    if (!(payload instanceof Uint8Array)) throw new Error(`subgroup ${this.subgroup}: payload must be a Uint8Array`);
    if (payload.length > this.maxPayloadBytes) throw new Error(`subgroup ${this.subgroup}: payload of ${payload.length} bytes exceeds maxPayloadBytes ${this.maxPayloadBytes}`);
    if (!Number.isSafeInteger(sendWallUs) || sendWallUs < 0) throw new Error(`subgroup ${this.subgroup}: sendWallUs must be a non-negative integer of microseconds, got ${sendWallUs}`);
    // [quirk] Derecho silently drops RPC (cooked) messages in unordered mode; refusing them at
    // send time tells the caller instead of losing the call.
    if (cooked && !this.ordered) throw new Error(`subgroup ${this.subgroup}: cooked (RPC) messages need an ordered or persistent shard, this one is unordered`);
  }

  /** Queues a local send; returns its message index. Throws on bad input, changing nothing. */
  send(payload: Uint8Array, sendWallUs: number, cooked: boolean, owned = false, headerRoom = false): number {
    this.checkSend(payload, sendWallUs, cooked);
    const index = this.nextIndex++;
    // Copy unless handed over: the caller may reuse its buffer, and the message must survive
    // until it is delivered everywhere (it is re-sent from here after a view change).
    const copy = owned ? payload : this.sendSlab.copy(payload);
    const viaRdmc = payload.length > this.maxSmcPayloadBytes;
    if (viaRdmc && headerRoom) invariant(payload.byteOffset >= HEADER_BYTES, 'RDMC header room lies inside the payload buffer', () => `byteOffset ${payload.byteOffset}`);
    this.queue.push({ index, payload: copy, sendWallUs, cooked, viaRdmc, headerRoom: viaRdmc && headerRoom });
    this.queuedUserSends++;
    this.ownInFlight.push({ index, sendWallUs, payload: copy, cooked, version: undefined });
    return index;
  }

  private queueNull(): void {
    this.queue.push({ index: this.nextIndex++, payload: null, sendWallUs: 0, cooked: false, viaRdmc: false, headerRoom: false });
  }

  get queuedSends(): number {
    return this.queuedUserSends;
  }

  get nextMessageIndex(): number {
    return this.nextIndex;
  }

  /** The window rule for my message `index` (reference §2.7 item 6). */
  private windowAllows(index: number): boolean {
    const back = index - this.windowSize;
    if (back < 0) return true;
    if (this.ordered) {
      // My message index−W must be delivered everywhere: its seq is back·S + r.
      const needed = back * this.numSenders + this.mySenderRank;
      return this.memberRows.every((row) => this.deliveredNum(row) >= needed);
    }
    const col = this.nr(this.mySenderRank);
    return this.memberRows.every((row) => this.table.i32('numReceived', row, col) >= back);
  }

  /** SMC ring: position p may be written once every member consumed position p−W. */
  private slotFree(position: number): boolean {
    const back = position - this.windowSize;
    if (back < 0) return true;
    const col = this.nr(this.mySenderRank);
    return this.memberRows.every((row) => this.table.i32('numReceivedSst', row, col) >= back);
  }

  private headPublishable(): boolean {
    if (this.wedged || this.queueHead >= this.queue.length) return false;
    const head = this.queue[this.queueHead];
    if (!this.windowAllows(head.index)) return false;
    if (head.viaRdmc) {
      // One RDMC send in flight per subgroup, and only once my own earlier messages reached me.
      return this.rdmcInFlight === null && this.contiguous[this.mySenderRank] >= head.index - 1;
    }
    return this.slotFree(this.smcCursor + 1);
  }

  canPublish(): boolean {
    return this.mySenderRank >= 0 && this.headPublishable();
  }

  /** Publishes queued messages, in index order, while the window allows. */
  publish(): void {
    while (this.headPublishable()) {
      const head = this.queue[this.queueHead++];
      if (head.payload !== null) this.queuedUserSends--;
      if (head.viaRdmc) this.publishRdmc(head);
      else if (head.payload !== null) this.publishSmc(head, head.payload);
      else this.publishNullRun(head);
    }
    if (this.queueHead > 64 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private publishRdmc(head: Pending): void {
    invariant(head.payload !== null, 'RDMC carries only real messages', () => `index ${head.index}`);
    const header = { index: head.index, sendWallUs: head.sendWallUs, numNulls: 0, cooked: head.cooked };
    let message: Uint8Array;
    if (head.headerRoom) {
      // The header goes in the room the driver left in front of the payload: no 1 MiB copy.
      const p = head.payload;
      message = new Uint8Array(p.buffer, p.byteOffset - HEADER_BYTES, HEADER_BYTES + p.length);
      writeHeader(new DataView(message.buffer, message.byteOffset, HEADER_BYTES), 0, header);
    } else {
      message = encodeMessage(header, head.payload);
    }
    const at = this.memberRows.indexOf(this.myRow);
    const groupRows = this.memberRows.map((_, i) => this.memberRows[(at + i) % this.memberRows.length]);
    this.rdmcInFlight = head.index;
    this.out.push({ kind: 'rdmcSend', subgroup: this.subgroup, shard: this.shardIndex, index: head.index, message, groupRows });
  }

  private slotRowOffset(position: number): number {
    return this.layout.slotOffset(this.subgroup, position % this.windowSize);
  }

  private assertSlotReusable(position: number): void {
    invariant(this.slotFree(position), 'SMC slot reused only after every member consumed it', () => `subgroup ${this.subgroup} position ${position} window ${this.windowSize}`);
  }

  private advanceSmcCursor(to: number): void {
    this.smcCursor = to;
    this.table.setI32('index', this.subgroup, to);
    this.mark(PUSH_RANK.index, this.layout.range('index', this.subgroup, 1));
  }

  private publishSmc(head: Pending, payload: Uint8Array): void {
    const position = this.smcCursor + 1;
    this.assertSlotReusable(position);
    const off = this.slotRowOffset(position);
    const abs = this.table.abs(this.myRow, off);
    writeHeader(this.table.data, abs, { index: head.index, sendWallUs: head.sendWallUs, numNulls: 0, cooked: head.cooked });
    this.table.writeMine(off + HEADER_BYTES, payload);
    const sizeOff = off + this.cols.slotStrideBytes - SLOT_SIZE_FIELD_BYTES;
    // The u64 size as two u32 halves (a slot is far below 4 GiB): no BigInt per message.
    const sizeAt = this.table.abs(this.myRow, sizeOff);
    this.table.data.setUint32(sizeAt, HEADER_BYTES + payload.length, true);
    this.table.data.setUint32(sizeAt + 4, 0, true);
    this.mark(PUSH_RANK.slots, { offset: off, length: HEADER_BYTES + payload.length });
    this.mark(PUSH_RANK.slots, { offset: sizeOff, length: SLOT_SIZE_FIELD_BYTES });
    this.advanceSmcCursor(position);
  }

  /**
   * A run of consecutive nulls is written as ONE slot whose header says how many it stands for
   * (reference §2.5); only that header is pushed. Each null still takes a ring position and a
   * message index, so the window accounting is the same as for real messages.
   */
  private publishNullRun(first: Pending): void {
    let count = 1;
    while (this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead];
      if (next.payload !== null || !this.windowAllows(next.index)) break;
      invariant(next.index === first.index + count, 'null run is consecutive', () => `${next.index} after ${first.index}+${count}`);
      this.queueHead++;
      count++;
    }
    const position = this.smcCursor + 1;
    this.assertSlotReusable(position);
    const off = this.slotRowOffset(position);
    writeHeader(this.table.data, this.table.abs(this.myRow, off), { index: first.index, sendWallUs: 0, numNulls: count, cooked: false });
    this.mark(PUSH_RANK.slots, { offset: off, length: HEADER_BYTES });
    this.advanceSmcCursor(position + count - 1);
  }

  /**
   * Null-send rule (reference §2.7 item 5): having received index i from sender k, a lower-ranked
   * sender must have sent index i itself, a higher-ranked one index i−1, or the round-robin order
   * stalls on it. Nulls are queued behind any real sends already waiting.
   */
  private applyNullRule(): void {
    if (!this.ordered || this.mySenderRank < 0) return;
    const me = this.mySenderRank;
    for (let k = 0; k < this.numSenders; k++) {
      if (k === me) continue;
      const got = this.contiguous[k];
      if (me < k) while (this.nextIndex <= got) this.queueNull();
      else while (this.nextIndex < got) this.queueNull();
    }
  }

  // ------------------------------------------------------------------ receiving

  /** Some sender published SMC slots I have not consumed yet. */
  smcPending(): boolean {
    // A wedged member stops receiving too (Derecho removes its receive predicates and RDMC
    // groups): its num_received, pushed before `wedged`, is final for the ragged trim.
    if (this.wedged) return false;
    for (let k = 0; k < this.numSenders; k++) {
      if (this.table.i32('index', this.senderRows[k], this.subgroup) > this.table.i32('numReceivedSst', this.myRow, this.nr(k))) return true;
    }
    return false;
  }

  /** Consumes every newly published SMC slot of every sender (my own included). */
  receiveSmc(): void {
    const data = this.table.data;
    for (let k = 0; k < this.numSenders; k++) {
      const row = this.senderRows[k];
      const published = this.table.i32('index', row, this.subgroup);
      let consumed = this.table.i32('numReceivedSst', this.myRow, this.nr(k));
      if (published <= consumed) continue;
      while (consumed < published) {
        const off = this.slotRowOffset(consumed + 1);
        const abs = this.table.abs(row, off);
        checkHeaderSize(data, abs);
        const index = headerIndex(data, abs);
        const numNulls = headerNumNulls(data, abs);
        if (index <= this.lastSmcIndex[k]) invariant(false, 'SMC messages of a sender arrive in index order', () => `sender ${k} index ${index} after ${this.lastSmcIndex[k]}`);
        if (numNulls > 0) {
          invariant(consumed + numNulls <= published, 'a null run lies within the published positions', () => `run of ${numNulls} at ${consumed + 1}, published ${published}`);
          for (let j = 0; j < numNulls; j++) this.record(k, index + j, HeldKind.Null, 0, 0, 0, false, undefined);
          this.lastSmcIndex[k] = index + numNulls - 1;
          consumed += numNulls;
        } else {
          // The u64 size field read as two u32 halves: no BigInt per message.
          const sizeAt = this.table.abs(row, off + this.cols.slotStrideBytes - SLOT_SIZE_FIELD_BYTES);
          const size = data.getUint32(sizeAt, true) + data.getUint32(sizeAt + 4, true) * 0x100000000;
          if (size < HEADER_BYTES || size > HEADER_BYTES + this.maxSmcPayloadBytes) invariant(false, 'SMC slot size in bounds', () => `size ${size} from sender ${k}`);
          // Not copied here: the bytes stay in the slot until delivery (see heldBySeq).
          this.record(k, index, HeldKind.Slot, abs + HEADER_BYTES, size - HEADER_BYTES, headerSendWallUs(data, abs), headerCooked(data, abs), undefined);
          this.lastSmcIndex[k] = index;
          consumed += 1;
        }
      }
      this.table.setI32('numReceivedSst', this.nr(k), consumed);
      this.mark(PUSH_RANK.numReceivedSst, this.layout.range('numReceivedSst', this.nr(k), 1));
    }
    this.afterReceipt();
  }

  /** An RDMC message from sender at `senderRow` completed here. */
  receiveRdmc(senderRow: number, message: Uint8Array): void {
    const k = this.senderRows.indexOf(senderRow);
    if (k < 0) throw new Error(`rdmcComplete: row ${senderRow} is not a sender of subgroup ${this.subgroup} shard ${this.shardIndex}`);
    // After the wedge num_received is frozen: a late completion is dropped (its sender, if it is
    // me, re-sends it in the next view; see undeliveredOwnSends).
    if (this.wedged) return;
    // The message came over the network: check everything before changing any state, and
    // refuse with an Error (the driver drops that connection) rather than crash.
    const { header, payload } = decodeMessage(message);
    const where = `rdmcComplete from row ${senderRow} (subgroup ${this.subgroup})`;
    if (header.numNulls !== 0) throw new Error(`${where}: num_nulls ${header.numNulls}, RDMC never carries nulls`);
    if (payload.length <= this.maxSmcPayloadBytes || payload.length > this.maxPayloadBytes) {
      throw new Error(`${where}: payload of ${payload.length} bytes, RDMC carries (${this.maxSmcPayloadBytes}, ${this.maxPayloadBytes}]`);
    }
    if (header.index <= this.lastRdmcIndex[k]) throw new Error(`${where}: index ${header.index} after ${this.lastRdmcIndex[k]}, RDMC completes in send order`);
    if (header.index <= this.contiguous[k] || this.beyondGap[k].has(header.index)) throw new Error(`${where}: index ${header.index} was already received`);
    if (senderRow === this.myRow && this.rdmcInFlight !== header.index) throw new Error(`${where}: my own completion for index ${header.index}, but ${this.rdmcInFlight} is in flight`);
    this.lastRdmcIndex[k] = header.index;
    if (senderRow === this.myRow) this.rdmcInFlight = null;
    // Kept without copying: RDMC messages can be large, and the driver hands the buffer over.
    this.record(k, header.index, HeldKind.Payload, 0, payload.length, header.sendWallUs, header.cooked, payload);
    this.afterReceipt();
  }

  private record(k: number, i: number, kind: HeldKind, slotAt: number, size: number, sendWallUs: number, cooked: boolean, payload: Uint8Array | undefined): void {
    if (i === this.contiguous[k] + 1) {
      let c = i;
      if (this.beyondGap[k].size > 0) while (this.beyondGap[k].delete(c + 1)) c++;
      this.contiguous[k] = c;
    } else {
      invariant(i >= 0 && i > this.contiguous[k] && !this.beyondGap[k].has(i), 'each message is received once', () => `sender ${k} index ${i}, contiguous ${this.contiguous[k]}`);
      this.beyondGap[k].add(i);
    }
    if (this.ordered) this.heldBySeq.put(i * this.numSenders + k, kind, slotAt, size, sendWallUs, cooked, payload);
    else this.heldByIndex[k].put(i, kind, slotAt, size, sendWallUs, cooked, payload);
  }

  /**
   * The payload of message `index` of sender rank `k`, held at `pos`, for delivery: RDMC buffers
   * as they are, SMC bytes copied out of the slot now (after delivery the sender may rewrite it).
   */
  private takePayload(held: HeldMessages, pos: number, k: number, index: number): Uint8Array {
    const own = held.payload(pos);
    if (own !== undefined) return own;
    const at = held.slotAt(pos);
    const headerAt = at - HEADER_BYTES;
    const data = this.table.data;
    if (headerIndex(data, headerAt) !== index || headerNumNulls(data, headerAt) !== 0) {
      invariant(false, 'an SMC slot is not rewritten before its message is delivered', () => `subgroup ${this.subgroup} sender ${k} index ${index}: slot now holds index ${headerIndex(data, headerAt)}`);
    }
    return this.deliverySlab.copyRange(this.table.bytes, at, held.payloadSize(pos));
  }

  /** Round-robin local prefix (reference §2.7 item 2): seq = (m+1)·S + j − 1. */
  private localSeqNum(): number {
    let m = Infinity;
    let j = 0;
    for (let k = 0; k < this.numSenders; k++) {
      if (this.contiguous[k] < m) {
        m = this.contiguous[k];
        j = k;
      }
    }
    return (m + 1) * this.numSenders + j - 1;
  }

  private afterReceipt(): void {
    for (let k = 0; k < this.numSenders; k++) {
      const col = this.nr(k);
      const old = this.table.i32('numReceived', this.myRow, col);
      invariant(this.contiguous[k] >= old, 'num_received never decreases', () => `sender ${k}: ${old} -> ${this.contiguous[k]}`);
      if (this.contiguous[k] > old) {
        this.table.setI32('numReceived', col, this.contiguous[k]);
        this.mark(PUSH_RANK.numReceived, this.layout.range('numReceived', col, 1));
      }
    }
    if (!this.ordered) {
      this.deliverUnordered();
      return;
    }
    const seq = this.localSeqNum();
    const old = this.seqNumOf(this.myRow);
    invariant(seq >= old, 'seq_num never decreases', () => `${old} -> ${seq}`);
    if (seq > old) {
      this.table.setI32('seqNum', this.subgroup, seq);
      this.mark(PUSH_RANK.seqNum, this.layout.range('seqNum', this.subgroup, 1));
    }
    this.applyNullRule();
  }

  // ------------------------------------------------------------------ delivery

  /** min over the shard of seq_num: everything up to it was received by every member. */
  minStable(): number {
    let min = Infinity;
    for (const row of this.memberRows) min = Math.min(min, this.seqNumOf(row));
    return min;
  }

  canDeliver(): boolean {
    return this.ordered && !this.wedged && this.minStable() > this.deliveredNum(this.myRow);
  }

  /** Delivers, in seq order, every stable message (reference §2.7 item 4). */
  deliverOrdered(): void {
    const stable = this.minStable();
    let delivered = this.deliveredNum(this.myRow);
    invariant(stable <= this.seqNumOf(this.myRow), 'stability never exceeds my own prefix', () => `min_stable ${stable} > seq_num ${this.seqNumOf(this.myRow)}`);
    let lastNonNull: Version = INVALID_VERSION;
    while (delivered < stable) {
      const seq = delivered + 1;
      const pos = this.heldBySeq.find(seq);
      if (pos < 0) invariant(false, 'a stable message is held locally', () => `subgroup ${this.subgroup} seq ${seq}, stable ${stable}`);
      lastNonNull = this.deliverHeld(seq, pos) ?? lastNonNull;
      delivered = seq;
    }
    this.finishDeliveryBatch(delivered, lastNonNull);
  }

  /** Delivers the held message at `seq` (nothing for a null); returns its version if it had one. */
  private deliverHeld(seq: number, pos: number): Version | undefined {
    const held = this.heldBySeq;
    if (held.kind(pos) === HeldKind.Null) {
      held.remove(pos);
      return undefined;
    }
    const senderRank = seq % this.numSenders;
    const index = (seq - senderRank) / this.numSenders;
    const payload = this.takePayload(held, pos, senderRank, index);
    const sendWallUs = held.sendWallUs(pos);
    const cooked = held.cooked(pos);
    held.remove(pos);
    const version = makeVersion(this.vid, seq);
    invariant(version > this.lastVersion, 'versions strictly increase', () => `${version} after ${this.lastVersion}`);
    // The sender's send time, bumped where needed so HLCs strictly increase along the shard's
    // versions. Every replica applies the same rule to the same sequence: identical HLCs.
    // (Derecho stamps HLC(ts, 0) unmodified, so two messages can share an HLC or go back in
    // time; temporal queries need monotone HLCs, so we bump.)
    const stamped = nextHlc(this.lastHlc, sendWallUs);
    invariant(compareHlc(stamped, this.lastHlc) > 0, 'HLCs strictly increase', () => `${JSON.stringify(stamped)} after ${JSON.stringify(this.lastHlc)}`);
    this.lastHlc = stamped;
    this.lastVersion = version;
    if (senderRank === this.mySenderRank) this.markOwnDelivered(index, version);
    this.out.push({
      kind: 'deliver',
      subgroup: this.subgroup,
      shard: this.shardIndex,
      senderNode: this.senderNodes[senderRank],
      index,
      version,
      hlc: stamped,
      payload,
      cooked,
    });
    return version;
  }

  private finishDeliveryBatch(delivered: number, lastNonNull: Version): void {
    this.table.setI32('deliveredNum', this.subgroup, delivered);
    this.mark(PUSH_RANK.deliveredNum, this.layout.range('deliveredNum', this.subgroup, 1));
    if (lastNonNull === INVALID_VERSION) return;
    // Write-behind, as Derecho (reference §2.8 item 1): the version is delivered (applied in
    // memory) first and made durable after; callers that need durability wait for the
    // globalPersisted output. Write-ahead would add a disk write to every delivery's latency.
    // The request names the last REAL version of the batch ([quirk] Derecho's trim delivery can
    // name a null's seq, a version no log holds).
    if (this.mode === 'persistent') {
      // One request per delivery batch, for its last version (group commit).
      this.out.push({ kind: 'persist', subgroup: this.subgroup, version: lastNonNull });
    } else {
      // Nothing to make durable: Derecho's persistence thread marks such versions persisted at
      // once, so the global persistence frontier also serves ordered (volatile) shards.
      this.setPersisted(lastNonNull);
    }
  }

  /**
   * Ragged trim (reference §2.4 global_min, §2.11): once wedged, deliver exactly the messages
   * with index ≤ throughIndex[k] of each sender k, in seq order, skipping what lies beyond a
   * sender's trim. The trim is min over the shard of num_received, so every member holds all of
   * it and all of them end the view having delivered the same messages. Idempotent.
   */
  deliverTrim(throughIndex: readonly number[]): void {
    if (!this.wedged) throw new Error(`deliverTrim: subgroup ${this.subgroup} must be wedged first`);
    if (throughIndex.length !== this.numSenders) throw new Error(`deliverTrim: subgroup ${this.subgroup} has ${this.numSenders} senders, got ${throughIndex.length} trim indices`);
    throughIndex.forEach((t, k) => {
      if (!Number.isInteger(t) || t < -1) throw new Error(`deliverTrim: throughIndex[${k}] must be an integer >= -1, got ${t}`);
      if (t > this.contiguous[k]) throw new Error(`deliverTrim: subgroup ${this.subgroup} sender ${k}: trim ${t} is beyond what I received (${this.contiguous[k]})`);
    });
    if (!this.ordered) {
      // Raw mode delivered on receipt; anything received but undelivered is delivered up to the trim.
      for (let k = 0; k < this.numSenders; k++) this.deliverUnorderedThrough(k, throughIndex[k]);
      return;
    }
    const S = this.numSenders;
    let delivered = this.deliveredNum(this.myRow);
    let maxSeq = delivered;
    throughIndex.forEach((t, k) => (maxSeq = Math.max(maxSeq, t * S + k)));
    let lastNonNull: Version = INVALID_VERSION;
    for (let seq = delivered + 1; seq <= maxSeq; seq++) {
      const k = seq % S;
      if (Math.floor(seq / S) > throughIndex[k]) continue;
      const pos = this.heldBySeq.find(seq);
      if (pos < 0) invariant(false, 'a trimmed message is held locally', () => `subgroup ${this.subgroup} seq ${seq}`);
      lastNonNull = this.deliverHeld(seq, pos) ?? lastNonNull;
    }
    delivered = maxSeq;
    this.trimmed = true;
    // Like Derecho, delivered_num jumps to the last trimmed seq even where seqs beyond a sender's
    // trim were skipped: the view is over, nothing else will be delivered in it.
    if (delivered > this.deliveredNum(this.myRow)) this.finishDeliveryBatch(delivered, lastNonNull);
  }

  /** Unordered mode: deliver on receipt, FIFO per sender, no version (reference §2.7 "Raw"). */
  private deliverUnordered(): void {
    if (this.wedged) return;
    for (let k = 0; k < this.numSenders; k++) this.deliverUnorderedThrough(k, this.contiguous[k]);
  }

  private deliverUnorderedThrough(k: number, through: number): void {
    while (this.unorderedDelivered[k] < through) {
      const index = ++this.unorderedDelivered[k];
      const held = this.heldByIndex[k];
      const pos = held.find(index);
      if (pos < 0 || held.kind(pos) === HeldKind.Null) invariant(false, 'unordered message held until delivery', () => `sender ${k} index ${index}`);
      const payload = this.takePayload(held, pos, k, index);
      const sendWallUs = held.sendWallUs(pos);
      const cooked = held.cooked(pos);
      held.remove(pos);
      if (k === this.mySenderRank) this.markOwnDelivered(index, INVALID_VERSION);
      this.out.push({
        kind: 'deliver',
        subgroup: this.subgroup,
        shard: this.shardIndex,
        senderNode: this.senderNodes[k],
        index,
        version: INVALID_VERSION,
        hlc: hlc(sendWallUs, 0),
        payload,
        cooked,
      });
    }
    this.pruneOwnInFlight();
  }

  // ------------------------------------------------------------------ persistence and frontiers

  private setPersisted(version: Version): void {
    const old = this.table.i64('persistedNum', this.myRow, this.subgroup);
    if (version <= old) return;
    this.table.setI64('persistedNum', this.subgroup, version);
    this.mark(PUSH_RANK.persistedNum, this.layout.range('persistedNum', this.subgroup, 1));
  }

  /** The driver made everything up to `version` durable (persistent mode). */
  persisted(version: Version): void {
    if (this.mode !== 'persistent') throw new Error(`persisted: subgroup ${this.subgroup} is ${this.mode}, only persistent shards take persistence reports`);
    if (typeof version !== 'bigint') throw new Error(`persisted: version must be a bigint, got ${typeof version}`);
    if (version > this.lastVersion) throw new Error(`persisted: subgroup ${this.subgroup} reported ${formatVersion(version)} persisted, but only ${formatVersion(this.lastVersion)} was delivered`);
    this.setPersisted(version);
  }

  private minPersisted(): Version {
    let min: Version | undefined;
    for (const row of this.memberRows) {
      const v = this.table.i64('persistedNum', row, this.subgroup);
      if (min === undefined || v < min) min = v;
    }
    return min ?? INVALID_VERSION;
  }

  globalPersistenceAdvanced(): boolean {
    return this.ordered && this.minPersisted() > this.globalPersisted;
  }

  advanceGlobalPersistence(): void {
    const min = this.minPersisted();
    invariant(min > this.globalPersisted, 'global persistence frontier only rises', () => `${min} after ${this.globalPersisted}`);
    this.globalPersisted = min;
    this.out.push({ kind: 'globalPersisted', subgroup: this.subgroup, version: min });
    this.pruneOwnInFlight();
  }

  private markOwnDelivered(index: number, version: Version): void {
    // Own real messages are delivered in index order, the order ownInFlight holds them in.
    const entry = this.ownInFlight[this.ownDeliveredCursor];
    invariant(entry !== undefined && entry.index === index, 'own messages are delivered in send order', () => `delivered index ${index}, expected ${entry?.index}`);
    entry.version = version;
    this.ownDeliveredCursor++;
  }

  /** Drops own messages that no longer hold back the stability frontier. */
  private pruneOwnInFlight(): void {
    while (this.ownInFlightHead < this.ownDeliveredCursor) {
      const head = this.ownInFlight[this.ownInFlightHead];
      if (this.ordered && (head.version === undefined || head.version > this.globalPersisted)) break;
      this.ownInFlightHead++;
    }
    if (this.ownInFlightHead > 64 && this.ownInFlightHead * 2 > this.ownInFlight.length) {
      this.ownInFlight.splice(0, this.ownInFlightHead);
      this.ownDeliveredCursor -= this.ownInFlightHead;
      this.ownInFlightHead = 0;
    }
  }

  /**
   * min(now, send time of my oldest message not yet globally persisted) (reference §2.8 item 6).
   * [quirk] Derecho prunes its pending list by comparing a seq with a packed version; we compare
   * versions with versions. Unordered shards have no versions: delivery locally ends "pending".
   */
  stabilityFrontierUs(nowUs: number): number {
    this.pruneOwnInFlight();
    const head = this.ownInFlight[this.ownInFlightHead];
    return head === undefined ? nowUs : Math.min(nowUs, head.sendWallUs);
  }

  /**
   * The shard's stability frontier as this member sees it: the least local stability frontier of
   * its members in the table (each only rises, so a stale row errs low). No message with an HLC
   * wall time below it can still be delivered here: one not delivered everywhere is still pending
   * at its sender, whose frontier is at most its send time, and its HLC is at least that.
   */
  shardStabilityFrontierUs(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const row of this.memberRows) {
      const f = this.table.u64('localStabilityFrontier', row, this.subgroup);
      if (f < min) min = f;
    }
    return min;
  }

  // ------------------------------------------------------------------ wedging and inspection

  /** Stop publishing, receiving and delivering; what is held stays for the ragged trim. */
  wedge(): void {
    this.wedged = true;
  }

  get isWedged(): boolean {
    return this.wedged;
  }

  /**
   * My real messages not delivered here yet: queued, in flight, or received but not stable, in
   * index order. After a wedge and ragged trim the next view re-sends the ones beyond the trim.
   * [quirk] Derecho re-sends only its RDMC-path leftovers and drops own undelivered SMC messages;
   * we keep all of them so none is lost across a view change.
   */
  undeliveredOwnSends(): UndeliveredSend[] {
    const out: UndeliveredSend[] = [];
    for (let i = this.ownDeliveredCursor; i < this.ownInFlight.length; i++) {
      const p = this.ownInFlight[i];
      if (p.version === undefined) out.push({ index: p.index, payload: p.payload, sendWallUs: p.sendWallUs, cooked: p.cooked });
    }
    return out;
  }

  /** Highest index i such that messages 0..i from sender rank k were all received here. */
  receivedThrough(senderRank: number): number {
    return this.contiguous[senderRank];
  }

  /** The HLC of the last delivery (or the view's floor before the first). */
  get lastDeliveredHlc(): Hlc {
    return this.lastHlc;
  }

  get lastDeliveredVersion(): Version {
    return this.lastVersion;
  }

  get globalPersistedVersion(): Version {
    return this.globalPersisted;
  }

  /**
   * Every member's frontiers as my copy of the SST shows them (for status and metrics): the seq
   * it delivered through, the version it persisted through, and its stability frontier (us).
   */
  memberFrontiers(): MemberFrontier[] {
    return this.memberRows.map((row) => ({
      row,
      deliveredSeq: this.table.i32('deliveredNum', row, this.subgroup),
      persistedVersion: this.table.i64('persistedNum', row, this.subgroup),
      stabilityFrontierUs: this.table.u64('localStabilityFrontier', row, this.subgroup),
    }));
  }

  /** Re-derives my row's multicast columns from local state and checks them (for tests/sim). */
  checkInvariants(): void {
    const g = this.subgroup;
    const t = this.table;
    for (let k = 0; k < this.numSenders; k++) {
      invariant(t.i32('numReceived', this.myRow, this.nr(k)) === this.contiguous[k], 'num_received column matches receipt', () => `sender ${k}`);
      invariant(
        t.i32('numReceivedSst', this.myRow, this.nr(k)) <= t.i32('index', this.senderRows[k], g),
        'consumed no more SMC slots than the sender published',
        () => `sender ${k}: consumed ${t.i32('numReceivedSst', this.myRow, this.nr(k))}, published ${t.i32('index', this.senderRows[k], g)}`,
      );
    }
    invariant(t.i32('index', this.myRow, g) === this.smcCursor, 'index column is my SMC cursor', () => `${t.i32('index', this.myRow, g)} vs ${this.smcCursor}`);
    if (this.ordered) {
      const delivered = t.i32('deliveredNum', this.myRow, g);
      const seq = t.i32('seqNum', this.myRow, g);
      invariant(seq === this.localSeqNum() || this.numSenders === 0, 'seq_num is the round-robin prefix', () => `${seq} vs ${this.localSeqNum()}`);
      invariant(delivered <= seq || this.trimmed, 'delivered_num <= seq_num', () => `${delivered} > ${seq}`);
      const persisted = t.i64('persistedNum', this.myRow, g);
      invariant(persisted <= this.lastVersion, 'persisted_num <= last delivered version', () => `${persisted} > ${this.lastVersion}`);
      invariant(this.globalPersisted <= persisted, 'global persistence <= local persistence', () => `${this.globalPersisted} > ${persisted}`);
    }
    for (let i = this.queueHead + 1; i < this.queue.length; i++) {
      invariant(this.queue[i].index === this.queue[i - 1].index + 1, 'send queue holds consecutive indices', () => `${this.queue[i - 1].index}, ${this.queue[i].index}`);
    }
  }
}
