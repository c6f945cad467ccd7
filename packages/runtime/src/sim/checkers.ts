/**
 * Invariant checkers for simulated multicast runs (reference §2.7 item 7, §2.15 items 1, 2, 4, 11),
 * run on every delivery and after every simulator event, plus a final liveness check once the run
 * is quiet: nothing lost, nobody starved.
 */
import type { DeliverOutput } from '../core/core-io.js';
import { compareHlc, type Hlc } from '../core/hlc.js';
import { InvariantViolation } from '../core/invariant.js';
import { INVALID_VERSION, formatVersion, type Version } from '../core/version.js';
import { findMyShard, type DeliveryMode, type ViewLayout } from '../core/view.js';
import type { SimCluster, SimObserver } from './sim-cluster.js';

export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
}

function fail(check: string, detail: string): never {
  throw new CheckFailure(`${check}: ${detail}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface SentMessage {
  readonly index: number;
  readonly payload: Uint8Array;
  readonly cooked: boolean;
}

interface OrderedEntry {
  readonly senderNode: number;
  readonly index: number;
  readonly version: Version;
  readonly hlc: Hlc;
}

interface RowShard {
  readonly shardIndex: number;
  readonly mode: DeliveryMode;
  readonly memberRows: readonly number[];
  /** node id -> sender rank */
  readonly senderRank: ReadonlyMap<number, number>;
}

export class MulticastChecker implements SimObserver {
  private cluster: SimCluster | undefined;
  /** sent[g][row] in send order */
  private readonly sent = new Map<string, SentMessage[]>();
  /** delivered count per (row, g, senderNode) */
  private readonly deliveredFrom = new Map<string, number>();
  /** canonical delivery sequence per (g, shard) for ordered modes */
  private readonly canonical = new Map<string, OrderedEntry[]>();
  private readonly deliveredCount = new Map<string, number>();
  private readonly lastDelivery = new Map<string, { version: Version; hlc: Hlc }>();
  private readonly lastPersistRequest = new Map<string, Version>();
  private readonly lastGlobalPersisted = new Map<string, Version>();
  private readonly lastFrontierUs = new Map<string, number>();
  /** The highest shard stability frontier each member has seen, per (row, g). */
  private readonly shardFrontierUs = new Map<string, number>();
  /** Wedged rows and the bytes of their num_received column at the wedge (must never change). */
  private readonly wedgedReceipts = new Map<number, string>();
  private trimming = false;
  private readonly rowShards: (RowShard | undefined)[][];
  deliveries = 0;

  constructor(private readonly view: Omit<ViewLayout, 'myRank'>) {
    this.rowShards = view.members.map((_, row) =>
      view.subgroups.map((_, g) => {
        const my = findMyShard({ ...view, myRank: row }, g);
        if (!my) return undefined;
        const senderRank = new Map<number, number>();
        my.shard.members.forEach((node, i) => {
          if (my.shard.senders[i]) senderRank.set(node, senderRank.size);
        });
        return { shardIndex: my.shardIndex, mode: my.shard.mode, memberRows: my.shard.members.map((n) => view.members.indexOf(n)), senderRank };
      }),
    );
  }

  attach(cluster: SimCluster): void {
    this.cluster = cluster;
  }

  private shardOf(row: number, g: number): RowShard {
    const s = this.rowShards[row][g];
    if (!s) fail('delivery only inside my shard', `row ${row} got a delivery for subgroup ${g} it is not in`);
    return s;
  }

  onSend(row: number, subgroup: number, index: number, payload: Uint8Array, cooked = false): void {
    const key = `${subgroup}:${row}`;
    const list = this.sent.get(key) ?? [];
    if (list.length > 0 && list[list.length - 1].index >= index) fail('send indices increase', `row ${row} g${subgroup}: ${index} after ${list[list.length - 1].index}`);
    list.push({ index, payload: payload.slice(), cooked });
    this.sent.set(key, list);
  }

  onWedge(row: number): void {
    const cluster = this.cluster;
    if (!cluster) return;
    const t = cluster.core(row).table;
    const r = t.layout.range('numReceived');
    this.wedgedReceipts.set(row, Array.from(t.rowBytes(row, r.offset, r.length)).join(','));
  }

  onDeliver(row: number, out: DeliverOutput): void {
    this.deliveries++;
    if (this.wedgedReceipts.has(row) && !this.trimming) fail('no delivery after the wedge except the ragged trim', `row ${row} delivered g${out.subgroup} node ${out.senderNode} #${out.index}`);
    const g = out.subgroup;
    const shard = this.shardOf(row, g);
    if (out.shard !== shard.shardIndex) fail('delivery names my shard', `row ${row} g${g}: shard ${out.shard}, expected ${shard.shardIndex}`);
    const senderRow = this.view.members.indexOf(out.senderNode);
    const senderRank = shard.senderRank.get(out.senderNode);
    if (senderRank === undefined) fail('deliveries come from shard senders', `row ${row} g${g}: node ${out.senderNode}`);

    // FIFO per sender, nothing skipped, payload intact (§2.15 items 1 and 11).
    const fromKey = `${row}:${g}:${out.senderNode}`;
    const k = this.deliveredFrom.get(fromKey) ?? 0;
    const expected = this.sent.get(`${g}:${senderRow}`)?.[k];
    if (!expected) fail('deliver only what was sent', `row ${row} g${g}: delivery #${k} from node ${out.senderNode} (index ${out.index}) was never sent`);
    if (expected.index !== out.index) fail('FIFO per sender', `row ${row} g${g}: delivery #${k} from node ${out.senderNode} has index ${out.index}, expected ${expected.index}`);
    if (!sameBytes(expected.payload, out.payload)) fail('payload delivered intact', `row ${row} g${g}: node ${out.senderNode} index ${out.index}`);
    if (expected.cooked !== out.cooked) fail('cooked flag delivered intact', `row ${row} g${g}: node ${out.senderNode} index ${out.index}`);
    this.deliveredFrom.set(fromKey, k + 1);

    if (shard.mode === 'unordered') {
      if (out.version !== INVALID_VERSION) fail('unordered deliveries carry no version', `row ${row} g${g}: ${formatVersion(out.version)}`);
      return;
    }

    // Stability: every shard member already holds this message (§2.15 item 2).
    const cluster = this.cluster;
    if (cluster) {
      for (const q of shard.memberRows) {
        const through = cluster.core(q).receivedThrough(g, senderRank);
        if (through < out.index) fail('deliver only stable messages', `row ${row} g${g} delivered node ${out.senderNode} #${out.index} but row ${q} has received only through ${through}`);
      }
    }

    // Versions and HLCs strictly increase at each member (§2.15 item 4).
    const lastKey = `${row}:${g}`;
    const last = this.lastDelivery.get(lastKey);
    if (last && out.version <= last.version) fail('versions strictly increase', `row ${row} g${g}: ${formatVersion(out.version)} after ${formatVersion(last.version)}`);
    if (last && compareHlc(out.hlc, last.hlc) <= 0) fail('HLCs strictly increase', `row ${row} g${g}: ${out.hlc.wallUs}+${out.hlc.logical} after ${last.hlc.wallUs}+${last.hlc.logical}`);
    this.lastDelivery.set(lastKey, { version: out.version, hlc: out.hlc });
    // The shard stability frontier this member saw before this step promised nothing earlier
    // would still come (historical reads and snapshots answer by it).
    const promised = this.shardFrontierUs.get(lastKey) ?? 0;
    if (out.hlc.wallUs < promised) fail('nothing is delivered below the shard stability frontier', `row ${row} g${g}: HLC ${out.hlc.wallUs}+${out.hlc.logical} delivered after the frontier reached ${promised}`);

    // Identical sequence (sender, index, version, HLC) at every member of the shard (§2.15 item 1).
    const shardKey = `${g}:${shard.shardIndex}`;
    const seq = this.canonical.get(shardKey) ?? [];
    this.canonical.set(shardKey, seq);
    const pos = this.deliveredCount.get(lastKey) ?? 0;
    this.deliveredCount.set(lastKey, pos + 1);
    const entry: OrderedEntry = { senderNode: out.senderNode, index: out.index, version: out.version, hlc: out.hlc };
    if (pos < seq.length) {
      const c = seq[pos];
      if (c.senderNode !== entry.senderNode || c.index !== entry.index || c.version !== entry.version || compareHlc(c.hlc, entry.hlc) !== 0) {
        fail(
          'identical delivery order at all shard members',
          `row ${row} g${g} delivery #${pos}: node ${entry.senderNode} #${entry.index} v=${formatVersion(entry.version)} hlc=${entry.hlc.wallUs}+${entry.hlc.logical}; others delivered node ${c.senderNode} #${c.index} v=${formatVersion(c.version)} hlc=${c.hlc.wallUs}+${c.hlc.logical}`,
        );
      }
    } else {
      seq.push(entry);
    }
  }

  onPersistRequest(row: number, subgroup: number, version: Version): void {
    const key = `${row}:${subgroup}`;
    const last = this.lastPersistRequest.get(key) ?? INVALID_VERSION;
    if (version <= last) fail('persist requests rise', `row ${row} g${subgroup}: ${formatVersion(version)} after ${formatVersion(last)}`);
    this.lastPersistRequest.set(key, version);
  }

  onGlobalPersisted(row: number, subgroup: number, version: Version): void {
    const key = `${row}:${subgroup}`;
    const last = this.lastGlobalPersisted.get(key) ?? INVALID_VERSION;
    if (version <= last) fail('global persistence frontier rises', `row ${row} g${subgroup}: ${formatVersion(version)} after ${formatVersion(last)}`);
    this.lastGlobalPersisted.set(key, version);
    const cluster = this.cluster;
    if (!cluster) return;
    // Every member really persisted it (§2.15 item 5): check each member's own row.
    for (const q of this.shardOf(row, subgroup).memberRows) {
      const own = cluster.core(q).table.i64('persistedNum', q, subgroup);
      if (own < version) fail('globally persisted means persisted everywhere', `row ${row} g${subgroup}: frontier ${formatVersion(version)} but row ${q} persisted only ${formatVersion(own)}`);
    }
  }

  afterEvent(row: number | undefined): void {
    const cluster = this.cluster;
    if (!cluster || row === undefined) return;
    try {
      cluster.core(row).checkInvariants();
    } catch (e) {
      if (e instanceof InvariantViolation) fail('core invariants after every step', `row ${row}: ${e.message}`);
      throw e;
    }
    for (let g = 0; g < this.view.subgroups.length; g++) {
      const shard = this.rowShards[row][g];
      if (!shard) continue;
      // The stability frontier never goes back and never passes the clock (sim send times are
      // virtual now, which only rises).
      const frontier = cluster.core(row).table.u64('localStabilityFrontier', row, g);
      const key = `${row}:${g}`;
      const lastFrontier = this.lastFrontierUs.get(key) ?? 0;
      if (frontier < lastFrontier || frontier > cluster.nowUs) fail('stability frontier rises and trails the clock', `row ${row} g${g}: ${frontier} after ${lastFrontier}, now ${cluster.nowUs}`);
      this.lastFrontierUs.set(key, frontier);
      const shardFrontier = cluster.core(row).shardOf(g)?.shardStabilityFrontierUs();
      if (shardFrontier !== undefined && shardFrontier > (this.shardFrontierUs.get(key) ?? 0)) this.shardFrontierUs.set(key, shardFrontier);
    }
    const frozen = this.wedgedReceipts.get(row);
    if (frozen !== undefined) {
      const t = cluster.core(row).table;
      const r = t.layout.range('numReceived');
      if (Array.from(t.rowBytes(row, r.offset, r.length)).join(',') !== frozen) fail('num_received is final once wedged', `row ${row}`);
    }
    // What any member sees of another's row never runs ahead of that row's own values.
    for (let g = 0; g < this.view.subgroups.length; g++) {
      const shard = this.rowShards[row][g];
      if (!shard || shard.mode === 'unordered') continue;
      const mine = cluster.core(row).table;
      for (const q of shard.memberRows) {
        const seen = mine.i32('seqNum', q, g);
        const actual = cluster.core(q).table.i32('seqNum', q, g);
        if (seen > actual) fail('remote copies lag their owner', `row ${row} sees seq_num ${seen} for row ${q}, which has ${actual}`);
      }
    }
  }

  /** From now on deliveries at wedged members are the ragged trim's. */
  beginTrim(): void {
    this.trimming = true;
  }

  /**
   * After every member wedged mid-traffic: nothing a sender sent is lost for the next view —
   * each of its messages was either delivered at the sender or is in its undelivered list, in
   * order — and every member's delivered prefix was checked against the others on the way.
   * After the ragged trim, every member of a shard delivered exactly the same messages
   * (§2.15 item 2: what one survivor delivered, all deliver before the next view).
   */
  checkWedgedQuiescent(): void {
    const cluster = this.cluster;
    if (!cluster) throw new Error('checker not attached');
    for (let g = 0; g < this.view.subgroups.length; g++) {
      if (this.trimming) {
        for (let row = 0; row < this.view.members.length; row++) {
          const shard = this.rowShards[row][g];
          if (!shard || shard.mode === 'unordered') continue;
          const mine = this.deliveredCount.get(`${row}:${g}`) ?? 0;
          for (const q of shard.memberRows) {
            const theirs = this.deliveredCount.get(`${q}:${g}`) ?? 0;
            if (theirs !== mine) fail('the ragged trim ends the view with equal deliveries', `g${g}: row ${row} delivered ${mine}, row ${q} delivered ${theirs}`);
          }
        }
      }
      for (let row = 0; row < this.view.members.length; row++) {
        const shard = this.rowShards[row][g];
        if (!shard || !shard.senderRank.has(this.view.members[row])) continue;
        if (!this.wedgedReceipts.has(row)) fail('every member wedged', `row ${row}`);
        const sent = this.sent.get(`${g}:${row}`) ?? [];
        const deliveredHere = this.deliveredFrom.get(`${row}:${g}:${this.view.members[row]}`) ?? 0;
        const leftover = cluster.core(row).undeliveredOwnSends(g);
        const expected = sent.slice(deliveredHere);
        if (leftover.length !== expected.length || leftover.some((l, i) => l.index !== expected[i].index || !sameBytes(l.payload, expected[i].payload))) {
          fail('own undelivered messages survive the wedge', `row ${row} g${g}: sent ${sent.length}, delivered here ${deliveredHere}, left over [${leftover.map((l) => l.index).join(',')}], expected [${expected.map((e) => e.index).join(',')}]`);
        }
      }
    }
  }

  /** Liveness, once the run is quiet: everything sent was delivered at every member of its shard. */
  checkQuiescent(): void {
    const cluster = this.cluster;
    if (!cluster) throw new Error('checker not attached');
    for (let g = 0; g < this.view.subgroups.length; g++) {
      for (let row = 0; row < this.view.members.length; row++) {
        const shard = this.rowShards[row][g];
        if (!shard) continue;
        const core = cluster.core(row);
        const queued = core.queuedSends(g);
        if (queued !== 0) fail('no sender starves', `row ${row} g${g} still has ${queued} unpublished sends`);
        for (const [node] of shard.senderRank) {
          const senderRow = this.view.members.indexOf(node);
          const sent = this.sent.get(`${g}:${senderRow}`)?.length ?? 0;
          const got = this.deliveredFrom.get(`${row}:${g}:${node}`) ?? 0;
          if (got !== sent) fail('no message lost', `row ${row} g${g} delivered ${got} of the ${sent} messages node ${node} sent`);
        }
        if (shard.mode === 'unordered') continue;
        const lastVersion = core.lastDeliveredVersion(g);
        const persisted = core.table.i64('persistedNum', row, g);
        if (persisted !== lastVersion) fail('everything delivered gets persisted', `row ${row} g${g}: persisted_num ${formatVersion(persisted)}, last delivered ${formatVersion(lastVersion)}`);
        const global = core.globalPersistedVersion(g);
        if (global !== lastVersion) fail('global persistence catches up', `row ${row} g${g}: global ${formatVersion(global)}, last delivered ${formatVersion(lastVersion)}`);
      }
    }
  }
}
