/**
 * Exactly-once ordered calls: the deduplication table of one replica (one shard of a typed
 * subgroup). An ordered call may carry a call id — (client id, sequence) — and the table records
 * the reply each id got, so a retry of an applied call (the client did not hear the reply: a
 * member failed, a connection broke, an HTTP request was retried) returns the original reply
 * instead of applying again.
 *
 * The table is part of the replica's replicated state: every replica updates it in delivery
 * order from delivered bytes and the delivery's HLC only (never its own clock), so every replica
 * holds the same table, and state transfer sends it to a joiner with the object's fields.
 *
 * Bounded: a call may carry the client's acknowledgement (`ackedThrough`: it holds the replies
 * of every sequence up to there), which drops those entries; entries older than `maxAgeUs` (by
 * delivery HLC) expire; and past `maxEntries` / `maxClients` the oldest go first. A retry of an
 * acknowledged call is refused (the client said it has the reply); a retry after its entry
 * expired by age or by the bounds applies again, which is the price of bounded memory — the
 * bounds are sized so that a client retrying within its timeout never meets it.
 */
import { Packr } from 'msgpackr';
import { invariant } from '../core/invariant.js';
import { RpcWireError } from './rpc-errors.js';
import type { CallId } from './call-id.js';
import { ReplyStatus } from './rpc-wire.js';

export type { CallId };


export interface DedupLimits {
  /** Entries older than this (delivery HLC) expire. */
  readonly maxAgeUs: number;
  /** At most this many recorded replies; the oldest go first. */
  readonly maxEntries: number;
  /** At most this many clients remembered (their acknowledgements); the least recently seen go first. */
  readonly maxClients: number;
}

export const DEFAULT_DEDUP_LIMITS: DedupLimits = { maxAgeUs: 10 * 60 * 1_000_000, maxEntries: 100_000, maxClients: 100_000 };

/** A reply as recorded: its status and marshalled body, or not known yet (an async handler still running). */
export interface RecordedReply {
  readonly status: ReplyStatus;
  readonly body: Uint8Array;
}

interface Entry {
  readonly client: string;
  readonly seq: number;
  readonly atUs: number;
  reply: RecordedReply | undefined;
  /** Whether the handler's answer was lost for this table (state transferred while it was running). */
  lost: boolean;
  /** Local only: duplicates delivered while the handler still ran, answered when it settles. */
  waiters: ((reply: RecordedReply | undefined) => void)[] | undefined;
}

interface ClientRecord {
  acked: number;
  lastUs: number;
  /** Sequences with an entry. */
  readonly seqs: Set<number>;
}

/** What the table says about a delivered call. */
export type DedupVerdict =
  | { readonly kind: 'new'; readonly entry: object }
  | { readonly kind: 'duplicate'; readonly reply: RecordedReply }
  /** A duplicate whose first run has not answered yet: `wait` calls back once it has (undefined: lost). */
  | { readonly kind: 'running'; wait(answer: (reply: RecordedReply | undefined) => void): void }
  | { readonly kind: 'refused'; readonly reason: string };

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

const key = (client: string, seq: number): string => `${seq}\u0000${client}`;

export class DedupTable {
  /** Every entry, in delivery order (a Map keeps insertion order): the oldest first. */
  private readonly entries = new Map<string, Entry>();
  /** Every client remembered, the least recently seen first (re-inserted on each call). */
  private readonly clients = new Map<string, ClientRecord>();

  constructor(private readonly limits: DedupLimits = DEFAULT_DEDUP_LIMITS) {}

  get size(): number {
    return this.entries.size;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * A call with `id` was delivered at `nowUs` (its HLC wall time): applies the client's
   * acknowledgement, expires old entries, and says whether to run it. A 'new' verdict records
   * the call as running: `settle` it with the handler's reply.
   */
  deliver(id: CallId, nowUs: number): DedupVerdict {
    this.expire(nowUs);
    let client = this.clients.get(id.client);
    if (client === undefined) client = { acked: 0, lastUs: nowUs, seqs: new Set() };
    else this.clients.delete(id.client);
    this.clients.set(id.client, client); // now the most recently seen
    client.lastUs = nowUs;
    const acked = id.ackedThrough ?? 0;
    if (acked > client.acked) {
      client.acked = acked;
      for (const seq of client.seqs) {
        if (seq > acked) continue;
        client.seqs.delete(seq);
        this.entries.delete(key(id.client, seq));
      }
    }
    if (id.seq <= client.acked) {
      return { kind: 'refused', reason: `call ${id.seq} of client '${id.client}' was already acknowledged by that client (it acknowledged every call through ${client.acked}); a retry of it is not applied again` };
    }
    const k = key(id.client, id.seq);
    const found = this.entries.get(k);
    if (found !== undefined) {
      if (found.reply !== undefined) return { kind: 'duplicate', reply: found.reply };
      if (found.lost) return { kind: 'refused', reason: resultLost(id) };
      return {
        kind: 'running',
        wait: (answer) => (found.waiters ??= []).push(answer),
      };
    }
    const entry: Entry = { client: id.client, seq: id.seq, atUs: nowUs, reply: undefined, lost: false, waiters: undefined };
    this.entries.set(k, entry);
    client.seqs.add(id.seq);
    this.bound();
    return { kind: 'new', entry };
  }

  /** The first run of a call (the `entry` of its 'new' verdict) answered `reply`; duplicates that waited get it too. */
  settle(entry: object, reply: RecordedReply): void {
    const e = entry as Entry;
    if (e.reply !== undefined || e.lost) return;
    e.reply = reply;
    const waiters = e.waiters;
    e.waiters = undefined;
    if (waiters !== undefined) for (const w of waiters) w(reply);
  }

  /** The table as bytes, for a joiner (state transfer). */
  serialize(): Uint8Array {
    const clients: [string, number, number][] = [];
    for (const [id, c] of this.clients) clients.push([id, c.acked, c.lastUs]);
    const entries: [string, number, number, number, Uint8Array | null][] = [];
    // An entry still running here is sent as lost: the joiner never hears how it ends.
    for (const e of this.entries.values()) entries.push([e.client, e.seq, e.atUs, e.reply?.status ?? -1, e.reply?.body ?? null]);
    return packr.pack({ limits: [this.limits.maxAgeUs, this.limits.maxEntries, this.limits.maxClients], clients, entries });
  }

  /** Replaces this (fresh) table's content with `bytes` from `serialize` at the shard member that sent the state. */
  restore(bytes: Uint8Array): void {
    invariant(this.entries.size === 0 && this.clients.size === 0, 'a transferred dedup table is installed into an empty one', () => `it holds ${this.entries.size} entries`);
    let state: { clients?: unknown; entries?: unknown };
    try {
      state = packr.unpack(bytes) as typeof state;
    } catch (err) {
      throw new RpcWireError(`the transferred deduplication table is not msgpack: ${(err as Error).message}`);
    }
    if (!Array.isArray(state?.clients) || !Array.isArray(state.entries)) throw new RpcWireError('the transferred deduplication table has no clients or entries list');
    for (const c of state.clients as unknown[]) {
      if (!Array.isArray(c) || typeof c[0] !== 'string' || typeof c[1] !== 'number' || typeof c[2] !== 'number') throw new RpcWireError('a transferred deduplication client is not [id, acked, lastUs]');
      this.clients.set(c[0], { acked: c[1], lastUs: c[2], seqs: new Set() });
    }
    for (const e of state.entries as unknown[]) {
      if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'number' || typeof e[2] !== 'number' || typeof e[3] !== 'number') throw new RpcWireError('a transferred deduplication entry is not [client, seq, atUs, status, body]');
      const client = this.clients.get(e[0]);
      if (client === undefined) throw new RpcWireError(`a transferred deduplication entry names client '${e[0]}', which the table does not hold`);
      const status = e[3];
      const body = e[4];
      const known = status === ReplyStatus.Ok || status === ReplyStatus.Exception;
      if (known && !(body instanceof Uint8Array)) throw new RpcWireError('a transferred deduplication entry has a status but no body');
      this.entries.set(key(e[0], e[1]), { client: e[0], seq: e[1], atUs: e[2], reply: known ? { status, body: body as Uint8Array } : undefined, lost: !known, waiters: undefined });
      client.seqs.add(e[1]);
    }
  }

  /** Drops entries older than the age limit, then clients idle that long that hold none. */
  private expire(nowUs: number): void {
    const cutoffUs = nowUs - this.limits.maxAgeUs;
    for (const [k, e] of this.entries) {
      if (e.atUs >= cutoffUs) break;
      this.drop(k, e);
    }
    for (const [id, c] of this.clients) {
      // Entries are no newer than their client's last call, so an idle client holds none by now.
      if (c.lastUs >= cutoffUs) break;
      this.clients.delete(id);
    }
  }

  /** Past the count limits, the oldest entries and the least recently seen clients go. */
  private bound(): void {
    if (this.entries.size > this.limits.maxEntries) {
      for (const [k, e] of this.entries) {
        if (this.entries.size <= this.limits.maxEntries) break;
        this.drop(k, e);
      }
    }
    if (this.clients.size > this.limits.maxClients) {
      for (const [id, c] of this.clients) {
        if (this.clients.size <= this.limits.maxClients) break;
        for (const seq of c.seqs) this.entries.delete(key(id, seq));
        this.clients.delete(id);
      }
    }
  }

  private drop(k: string, e: Entry): void {
    this.entries.delete(k);
    this.clients.get(e.client)?.seqs.delete(e.seq);
    // Duplicates waiting on a first run that outlived its entry are not left hanging.
    const waiters = e.waiters;
    e.waiters = undefined;
    e.lost = true;
    if (waiters !== undefined) for (const w of waiters) w(undefined);
  }
}

function resultLost(id: CallId): string {
  return `call ${id.seq} of client '${id.client}' was applied, but its result was still being computed when this replica received the shard's state; it is not applied again`;
}
