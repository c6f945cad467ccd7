/**
 * Messages received and not yet delivered, keyed by an integer (the seq in ordered shards, the
 * sender's index in unordered ones), held in parallel typed arrays instead of one object per
 * message.
 *
 * Why: a held message lives for a protocol round trip, long enough to survive young-generation
 * collections; at hundreds of thousands of messages a second, one object (plus a payload copy) per
 * message was the largest single cost of the receive path. Here an SMC message is only a slot
 * reference: its bytes stay in the sender's SST slot until delivery copies them out (see
 * ShardMulticast for why the slot cannot be reused before that).
 *
 * Which message a key is needs no column: in ordered shards seq = index·S + sender, in unordered
 * ones each sender has its own table keyed by index.
 *
 * Live keys always lie in a window narrower than the capacity (the multicast window bounds them);
 * the table is direct-mapped by `key & mask` and doubles when two live keys would collide.
 */
import { invariant } from './invariant.js';

export const HeldKind = {
  Empty: 0,
  /** A null message: consumes its seq, delivers nothing. */
  Null: 1,
  /** An SMC message still in its slot: `slotAt` (table offset of the payload) and `size`. */
  Slot: 2,
  /** A message whose payload the core holds as its own buffer (RDMC). */
  Payload: 3,
} as const;
export type HeldKind = (typeof HeldKind)[keyof typeof HeldKind];

const EMPTY_KEY = -1;

export class HeldMessages {
  private mask = 0;
  private keys = new Float64Array(0);
  private kinds = new Uint8Array(0);
  private slotAts = new Float64Array(0);
  private sizes = new Float64Array(0);
  private sendWallUss = new Float64Array(0);
  private cookeds = new Uint8Array(0);
  private payloads: (Uint8Array | undefined)[] = [];
  private live = 0;

  constructor(initialCapacity = 64) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.allocate(capacity);
  }

  /** Fresh, empty arrays of `capacity` (a power of two) entries. */
  private allocate(capacity: number): void {
    this.mask = capacity - 1;
    this.keys = new Float64Array(capacity).fill(EMPTY_KEY);
    this.kinds = new Uint8Array(capacity);
    this.slotAts = new Float64Array(capacity);
    this.sizes = new Float64Array(capacity);
    this.sendWallUss = new Float64Array(capacity);
    this.cookeds = new Uint8Array(capacity);
    this.payloads = new Array<Uint8Array | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.live;
  }

  /** Position of `key`, or −1 when it is not held. */
  find(key: number): number {
    const pos = key & this.mask;
    return this.keys[pos] === key ? pos : -1;
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  /** Holds a message under `key` (not held yet); returns nothing, read it back with find(). */
  put(key: number, kind: HeldKind, slotAt: number, size: number, sendWallUs: number, cooked: boolean, payload: Uint8Array | undefined): void {
    invariant(key >= 0 && Number.isSafeInteger(key), 'held keys are non-negative integers', () => `key ${key}`);
    let pos = key & this.mask;
    while (this.keys[pos] !== EMPTY_KEY) {
      invariant(this.keys[pos] !== key, 'a message is held once', () => `key ${key}`);
      this.grow();
      pos = key & this.mask;
    }
    this.keys[pos] = key;
    this.kinds[pos] = kind;
    this.slotAts[pos] = slotAt;
    this.sizes[pos] = size;
    this.sendWallUss[pos] = sendWallUs;
    this.cookeds[pos] = cooked ? 1 : 0;
    this.payloads[pos] = payload;
    this.live++;
  }

  kind(pos: number): HeldKind {
    return this.kinds[pos] as HeldKind;
  }
  slotAt(pos: number): number {
    return this.slotAts[pos];
  }
  payloadSize(pos: number): number {
    return this.sizes[pos];
  }
  sendWallUs(pos: number): number {
    return this.sendWallUss[pos];
  }
  cooked(pos: number): boolean {
    return this.cookeds[pos] !== 0;
  }
  payload(pos: number): Uint8Array | undefined {
    return this.payloads[pos];
  }

  /** Forgets the message at `pos` (from find()). */
  remove(pos: number): void {
    invariant(this.keys[pos] !== EMPTY_KEY, 'remove a held message', () => `position ${pos}`);
    this.keys[pos] = EMPTY_KEY;
    this.kinds[pos] = HeldKind.Empty;
    this.payloads[pos] = undefined;
    this.live--;
  }

  private grow(): void {
    const old = {
      keys: this.keys,
      kinds: this.kinds,
      slotAts: this.slotAts,
      sizes: this.sizes,
      sendWallUss: this.sendWallUss,
      cookeds: this.cookeds,
      payloads: this.payloads,
    };
    let capacity = old.keys.length * 2;
    // Live keys span a window; double until every one of them maps to its own position.
    for (;;) {
      const mask = capacity - 1;
      const seen = new Set<number>();
      let clash = false;
      for (let p = 0; p < old.keys.length && !clash; p++) {
        if (old.keys[p] === EMPTY_KEY) continue;
        const at = old.keys[p] & mask;
        if (seen.has(at)) clash = true;
        seen.add(at);
      }
      if (!clash) break;
      capacity *= 2;
      invariant(capacity <= 1 << 26, 'held messages span a bounded window', () => `capacity ${capacity} for ${this.live} messages`);
    }
    this.allocate(capacity);
    for (let p = 0; p < old.keys.length; p++) {
      const key = old.keys[p];
      if (key === EMPTY_KEY) continue;
      const at = key & this.mask;
      this.keys[at] = key;
      this.kinds[at] = old.kinds[p];
      this.slotAts[at] = old.slotAts[p];
      this.sizes[at] = old.sizes[p];
      this.sendWallUss[at] = old.sendWallUss[p];
      this.cookeds[at] = old.cookeds[p];
      this.payloads[at] = old.payloads[p];
    }
  }
}
