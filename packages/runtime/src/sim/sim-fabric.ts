/**
 * One simulated node's Fabric (../io/fabric.ts) over the simulator's network: SST regions are
 * byte arrays written by packets that travel with the network's delays, RDMC groups deliver whole
 * messages (the sender's own completion once every receiver has it), P2P messages and connection
 * events arrive in the node's inbox and reach the shell as one batch per wake-up, after the node's
 * processing delay. Like the native fabric, writes and RDMC messages for a region or group that
 * does not exist yet are held and applied when it is created. The failure detector is silence:
 * a member of the current region not heard from for the failure timeout is reported failed.
 */
import type { Fabric, FabricBatch, FabricFailure, FabricRdmcGroup, FabricRdmcGroupOptions, FabricRegion, FabricRegionOptions } from '../io/fabric.js';
import type { Channel } from './network.js';

export type SimPacket =
  | { readonly kind: 'writes'; readonly regionId: number; readonly from: number; readonly writes: readonly { readonly offset: number; readonly bytes: Uint8Array }[] }
  | { readonly kind: 'rdmc'; readonly groupId: number; readonly from: number; readonly data: Uint8Array }
  | { readonly kind: 'p2p'; readonly from: number; readonly data: Uint8Array }
  | { readonly kind: 'connected'; readonly node: number }
  | { readonly kind: 'failure'; readonly failure: FabricFailure }
  /** Held writes were applied to a region created just now. */
  | { readonly kind: 'changed'; readonly regionId: number };

/** What a node's fabric needs from the simulated world (the cluster). */
export interface SimFabricWorld {
  readonly nowUs: number;
  /** Sends `packet` from `from` to node `to` (whichever incarnation runs there when it arrives); the arrival time, or undefined when the link is cut. */
  transmit(from: number, to: number, packet: SimPacket, bytes: number, channel: Channel): number | undefined;
  /** Hands `packet` to this very fabric at `atUs` (connection events, the sender's own RDMC completion). */
  notify(fabric: SimFabric, atUs: number, packet: SimPacket): void;
  /** Runs `fn` at `atUs`. */
  at(atUs: number, fn: () => void): void;
  dialContact(fabric: SimFabric): void;
  connect(fabric: SimFabric, peer: number): void;
  disconnect(fabric: SimFabric, peer: number): void;
  /** The delay between packets arriving at this node and its shell seeing them. */
  processingDelayUs(node: number): number;
  trace(line: string): void;
}

/** Node ids are small; a failed dial of an address reports this one. */
const UNKNOWN_PEER = 0xffffffff;

class SimRegion implements FabricRegion {
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  readonly myRow: number;
  closed = false;

  constructor(
    private readonly fabric: SimFabric,
    private readonly world: SimFabricWorld,
    readonly options: FabricRegionOptions,
  ) {
    this.buffer = new ArrayBuffer(options.initialContents.length);
    this.bytes = new Uint8Array(this.buffer);
    this.bytes.set(options.initialContents);
    this.myRow = options.members.indexOf(fabric.nodeId);
  }

  put(ranges: readonly (readonly [number, number])[], targets: readonly number[]): void {
    if (this.closed) return;
    const base = this.myRow * this.options.rowBytes;
    const writes = ranges.map(([offset, length]) => ({ offset, bytes: this.bytes.slice(base + offset, base + offset + length) }));
    const bytes = writes.reduce((s, w) => s + w.bytes.length, 0);
    for (const to of targets) this.world.transmit(this.fabric.nodeId, to, { kind: 'writes', regionId: this.options.regionId, from: this.fabric.nodeId, writes }, bytes, 'sst');
  }

  /** A remote write into its writer's row; false when the writer has no row here. */
  apply(from: number, offset: number, bytes: Uint8Array): boolean {
    const row = this.options.members.indexOf(from);
    if (row < 0 || row === this.myRow) return false;
    if (offset < 0 || offset + bytes.length > this.options.rowBytes) throw new Error(`simulated fabric: a write of ${bytes.length} bytes at ${offset} leaves the ${this.options.rowBytes}-byte row`);
    this.bytes.set(bytes, row * this.options.rowBytes + offset);
    return true;
  }

  close(): void {
    this.closed = true;
  }
}

class SimRdmcGroup implements FabricRdmcGroup {
  destroyed = false;

  constructor(
    private readonly fabric: SimFabric,
    private readonly world: SimFabricWorld,
    private readonly options: FabricRdmcGroupOptions,
  ) {}

  send(data: Uint8Array): void {
    const me = this.fabric.nodeId;
    if (this.options.members[0] !== me) throw new Error(`simulated fabric: node ${me} sends in RDMC group ${this.options.groupId} whose sender is ${this.options.members[0]}`);
    let lastUs = this.world.nowUs + 1;
    for (const to of this.options.members.slice(1)) {
      const at = this.world.transmit(me, to, { kind: 'rdmc', groupId: this.options.groupId, from: me, data: data.slice() }, data.length, 'rdmc');
      if (at !== undefined) lastUs = Math.max(lastUs, at);
    }
    this.world.notify(this.fabric, lastUs, { kind: 'rdmc', groupId: this.options.groupId, from: me, data });
  }

  destroy(): void {
    this.destroyed = true;
  }
}

export class SimFabric implements Fabric {
  readonly unknownPeer = UNKNOWN_PEER;
  /** Nodes this one holds a connection with (dialed or accepted). */
  readonly links = new Set<number>();
  paused = false;
  private closed = false;
  private listener: ((batch: FabricBatch) => void) | undefined;
  private inbox: SimPacket[] = [];
  private processScheduled = false;
  private readonly lastHeardUs = new Map<number, number>();
  private region: SimRegion | undefined;
  private highestRegionId = -1;
  private readonly heldWrites = new Map<number, SimPacket[]>();
  private readonly groups = new Map<number, SimRdmcGroup>();
  private readonly heldRdmc = new Map<number, SimPacket[]>();
  /** Peers of the current region already reported silent. */
  private reported = new Set<number>();

  constructor(
    readonly nodeId: number,
    private readonly world: SimFabricWorld,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  get inboxLength(): number {
    return this.inbox.length;
  }

  dialAddress(): void {
    this.world.dialContact(this);
  }

  connect(nodeId: number): void {
    this.world.connect(this, nodeId);
  }

  isConnected(nodeId: number): boolean {
    return this.links.has(nodeId);
  }

  sendP2P(nodeId: number, data: Uint8Array | readonly Uint8Array[]): void {
    const bytes = data instanceof Uint8Array ? data.slice() : concat(data);
    this.world.transmit(this.nodeId, nodeId, { kind: 'p2p', from: this.nodeId, data: bytes }, 64, 'rdmc');
  }

  failPeer(nodeId: number): void {
    this.world.disconnect(this, nodeId);
  }

  createRegion(options: FabricRegionOptions): FabricRegion {
    const region = new SimRegion(this, this.world, options);
    this.region = region;
    this.highestRegionId = Math.max(this.highestRegionId, options.regionId);
    this.reported = new Set();
    for (const v of [...this.heldWrites.keys()]) if (v < options.regionId) this.heldWrites.delete(v);
    const held = this.heldWrites.get(options.regionId);
    if (held !== undefined) {
      this.heldWrites.delete(options.regionId);
      let applied = 0;
      for (const p of held) if (p.kind === 'writes') for (const w of p.writes) if (region.apply(p.from, w.offset, w.bytes)) applied++;
      if (applied > 0) this.enqueue({ kind: 'changed', regionId: options.regionId });
    }
    return region;
  }

  createRdmcGroup(options: FabricRdmcGroupOptions): FabricRdmcGroup {
    const group = new SimRdmcGroup(this, this.world, options);
    this.groups.set(options.groupId, group);
    const held = this.heldRdmc.get(options.groupId);
    if (held !== undefined) {
      this.heldRdmc.delete(options.groupId);
      for (const p of held) this.enqueue(p);
    }
    return group;
  }

  onBatch(listener: (batch: FabricBatch) => void): void {
    this.listener = listener;
  }

  close(): void {
    this.closed = true;
    this.inbox = [];
  }

  /** A packet from the network (or a notification of this fabric's own) arrives. */
  arrive(packet: SimPacket): void {
    if (this.closed) return;
    if (packet.kind === 'writes' || packet.kind === 'rdmc' || packet.kind === 'p2p') this.lastHeardUs.set(packet.from, this.world.nowUs);
    this.enqueue(packet);
  }

  private enqueue(packet: SimPacket): void {
    this.inbox.push(packet);
    this.scheduleProcess();
  }

  private scheduleProcess(): void {
    if (this.paused || this.processScheduled || this.inbox.length === 0 || this.closed) return;
    this.processScheduled = true;
    this.world.at(this.world.nowUs + this.world.processingDelayUs(this.nodeId), () => this.process());
  }

  /** Everything in the inbox as one batch to the shell (one wake-up). */
  process(): void {
    this.processScheduled = false;
    if (this.paused || this.closed || this.listener === undefined) return;
    const packets = this.inbox;
    this.inbox = [];
    let writes = 0;
    const changed = new Set<number>();
    const p2p: { from: number; data: Uint8Array }[] = [];
    const rdmc: { groupId: number; data: Uint8Array }[] = [];
    const failures: FabricFailure[] = [];
    const connected: number[] = [];
    for (const p of packets) {
      switch (p.kind) {
        case 'writes': {
          const region = this.region;
          if (region !== undefined && p.regionId === region.options.regionId && !region.closed) {
            let applied = false;
            for (const w of p.writes) applied = region.apply(p.from, w.offset, w.bytes) || applied;
            if (applied) {
              writes++;
              changed.add(p.regionId);
            }
          } else if (p.regionId > this.highestRegionId) {
            const list = this.heldWrites.get(p.regionId) ?? [];
            list.push(p);
            this.heldWrites.set(p.regionId, list);
          }
          break;
        }
        case 'changed':
          changed.add(p.regionId);
          break;
        case 'rdmc': {
          const group = this.groups.get(p.groupId);
          if (group === undefined) {
            const list = this.heldRdmc.get(p.groupId) ?? [];
            list.push(p);
            this.heldRdmc.set(p.groupId, list);
          } else if (!group.destroyed) rdmc.push({ groupId: p.groupId, data: p.data });
          break;
        }
        case 'p2p':
          p2p.push({ from: p.from, data: p.data });
          break;
        case 'connected':
          connected.push(p.node);
          break;
        case 'failure':
          failures.push(p.failure);
          break;
      }
    }
    if (writes + changed.size + p2p.length + rdmc.length + failures.length + connected.length === 0) return;
    this.listener({ writes, changed: [...changed].map((regionId) => ({ regionId })), p2p, rdmc, failures, logs: [], connected });
  }

  pause(): void {
    this.paused = true;
  }

  /** The node runs again: what arrived meanwhile is processed, and silence is measured from now (its timers were frozen too). */
  resume(): void {
    this.paused = false;
    this.process();
    for (const id of this.lastHeardUs.keys()) this.lastHeardUs.set(id, this.world.nowUs);
  }

  /** A view started here: its members count as heard from now. */
  resetSilence(nodes: readonly number[]): void {
    for (const id of nodes) this.lastHeardUs.set(id, this.world.nowUs);
  }

  /** Reports members of the current region silent for longer than `failureTimeoutUs` (once each per region). */
  detectFailures(failureTimeoutUs: number): void {
    const region = this.region;
    if (this.closed || this.paused || region === undefined || this.listener === undefined) return;
    for (const m of region.options.members) {
      if (m === this.nodeId || this.reported.has(m)) continue;
      const silentUs = this.world.nowUs - (this.lastHeardUs.get(m) ?? 0);
      if (silentUs <= failureTimeoutUs) continue;
      this.reported.add(m);
      this.world.trace(`n${this.nodeId} detects n${m} failed (silent ${silentUs}us)`);
      this.listener({ writes: 0, changed: [], p2p: [], rdmc: [], failures: [{ nodeId: m, reason: `silent for ${silentUs}us`, refused: false }], logs: [], connected: [] });
      if (this.closed) return;
    }
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
