/**
 * A tiny message pump for total-restart tests: several Members over in-memory connections and
 * virtual time, each with a fake field log per shard (versions, HLCs, values) that the Member's
 * truncate / send-tail / append-tail outputs act on. Control messages go through the real wire
 * codec, so every new message kind is also encoded and validated.
 */
import { Packr } from 'msgpackr';
import type { Hlc } from '../../src/core/hlc.js';
import { Member, type MemberOptions } from '../../src/core/member/member.js';
import type { ControlMessage } from '../../src/core/member/control-messages.js';
import type { MemberInput, MemberOutput } from '../../src/core/member/member-io.js';
import type { CheckedLogEntry } from '../../src/core/member/restart-check.js';
import type { RestartState, RestartTrim } from '../../src/core/member/restart-state.js';
import { viewLayoutFor, type GroupSubgroup, type GroupView } from '../../src/core/membership/group-view.js';
import type { AllocateNextView } from '../../src/core/membership/next-view.js';
import { SstLayout } from '../../src/core/sst-layout.js';
import { initializeSstTable } from '../../src/core/sst-table.js';
import { INVALID_VERSION, makeVersion, type Version } from '../../src/core/version.js';
import { decodeControl, encodeControl } from '../../src/shell/control-codec.js';
import { InadequateLayoutError } from '../../src/layout/errors.js';
import { addr, params } from '../membership/vm-harness.js';
import { memberOptions, MS } from './member-options.js';

export { MS };
export const v = (vid: number, seq: number): Version => makeVersion(vid, seq);
const tailCodec = new Packr({ useRecords: false });

/** One persistent subgroup, one shard of every member, all senders; inadequate below `minMembers`. */
export function persistentGroup(minMembers = 1): AllocateNextView {
  return (ids) => {
    if (ids.length < minMembers) throw new InadequateLayoutError(minMembers, ids.length, ['T[0] shard 0']);
    return [{ type: 'T', index: 0, shards: [{ members: [...ids], senders: ids.map(() => true), mode: 'persistent' }], params }] as GroupSubgroup[];
  };
}

export function lastView(ids: readonly number[], vid: number, allocate = persistentGroup()): GroupView {
  const members = ids.map(addr);
  return { vid, members, subgroups: allocate(ids, { vid: -1, members, subgroups: [] }) };
}

/** A log of `n` entries of view `vid` (seq 0..n-1, HLC wall = 1000 + seq), values named by version. */
export function logOf(vid: number, n: number, from = 0): CheckedLogEntry[] {
  return Array.from({ length: n }, (_, i) => ({ version: v(vid, from + i), hlc: { wallUs: vid * 1_000_000 + from + i, logical: 0 }, digest: `value@${vid}.${from + i}` }));
}

interface Node {
  readonly member: Member;
  /** The fake field log of subgroup 0 shard 0. */
  log: CheckedLogEntry[];
  up: boolean;
  stopped: string | undefined;
  readonly outputs: MemberOutput[];
  /** Bytes of log tails this node sent (to check that only tails travel). */
  tailEntriesSent: number;
}

export class RestartPump {
  readonly nodes = new Map<number, Node>();
  private readonly links = new Set<string>();
  /** The contact address each node dials. */
  private readonly contacts = new Map<number, { host: string; port: number }>();
  private readonly queue: { to: number; input: MemberInput }[] = [];
  nowUs = 0;
  /** Every control message sent between nodes, in the order sent. */
  readonly sentLog: { from: number; to: number; message: ControlMessage }[] = [];
  /** Control messages this returns true for are held (not delivered) until `releaseMessages`. */
  holdMessage: ((from: number, to: number, message: ControlMessage) => boolean) | undefined;
  private readonly heldMessages: { to: number; input: MemberInput }[] = [];
  /** While set, created tables are held (not reported ready) until `releaseTables`. */
  holdTables = false;
  private readonly heldTables: { to: number; input: MemberInput }[] = [];

  /**
   * With `random` (a generator of numbers in [0, 1)), deliveries interleave at random: FIFO per
   * link and per node's local inputs, as over TCP, but in any order across them.
   */
  constructor(
    private readonly base: Partial<MemberOptions> = {},
    private readonly random?: () => number,
  ) {}

  add(id: number, log: CheckedLogEntry[] = [], overrides: Partial<MemberOptions> = {}): Member {
    this.contacts.set(id, overrides.contact ?? this.base.contact ?? { host: addr(1).host, port: addr(1).port });
    const member = new Member(memberOptions(id, persistentGroup(), { restartTimeoutUs: 1000 * MS, ...this.base, ...overrides }));
    this.nodes.set(id, { member, log, up: true, stopped: undefined, outputs: [], tailEntriesSent: 0 });
    return member;
  }

  node(id: number): Node {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** The restart state a shell would read from this node's logs. */
  stateOf(id: number, view: GroupView, trims: RestartTrim[] = [], identity = { cluster: 'test', schema: 'abc' }): RestartState {
    const log = this.node(id).log;
    const last = log[log.length - 1];
    return {
      identity,
      view,
      trims,
      logs: [{ subgroup: 0, shard: 0, newestVersion: last?.version ?? INVALID_VERSION, newestHlc: last?.hlc ?? { wallUs: 0, logical: 0 } }],
    };
  }

  start(id: number, restart?: RestartState): void {
    this.queue.push({ to: id, input: { kind: 'start', nowUs: this.nowUs, restart } });
    this.run();
  }

  /** Advances virtual time in `stepUs` steps, ticking every running node, until `untilUs`. */
  advance(untilUs: number, stepUs = 10 * MS): void {
    while (this.nowUs < untilUs) {
      this.nowUs = Math.min(untilUs, this.nowUs + stepUs);
      for (const [id, n] of this.nodes) if (n.up && n.stopped === undefined) this.queue.push({ to: id, input: { kind: 'tick', nowUs: this.nowUs } });
      this.run();
    }
  }

  run(): void {
    for (let steps = 0; this.queue.length > 0; steps++) {
      if (steps > 100_000) throw new Error('the pump does not settle');
      const { to, input } = this.queue.splice(this.next(), 1)[0];
      const n = this.nodes.get(to);
      if (n === undefined || !n.up || n.stopped !== undefined) continue;
      // A crashed node's messages still in flight are lost with its connections.
      if (input.kind === 'control' && !this.node(input.from).up) continue;
      for (const o of n.member.step(input)) this.carryOut(to, n, o);
    }
  }

  /** The index of the next delivery: the head of the queue, or the head of a random channel. */
  private next(): number {
    if (this.random === undefined) return 0;
    const heads = new Map<string, number>();
    this.queue.forEach((q, i) => {
      const channel = q.input.kind === 'control' ? `${q.input.from}>${q.to}` : `@${q.to}`;
      if (!heads.has(channel)) heads.set(channel, i);
    });
    const candidates = [...heads.values()];
    return candidates[Math.floor(this.random() * candidates.length)];
  }

  private linked(a: number, b: number): boolean {
    return this.links.has(`${Math.min(a, b)}-${Math.max(a, b)}`);
  }

  private carryOut(id: number, n: Node, o: MemberOutput): void {
    n.outputs.push(o);
    switch (o.kind) {
      case 'sendControl': {
        this.sentLog.push({ from: id, to: o.to, message: o.message });
        if (!this.linked(id, o.to)) return;
        // Through the wire codec: every message is encoded and validated like a real one.
        const message = decodeControl(encodeControl(o.message).subarray(1));
        (this.holdMessage?.(id, o.to, message) === true ? this.heldMessages : this.queue).push({ to: o.to, input: { kind: 'control', from: id, message } });
        return;
      }
      case 'connect':
        for (const peer of o.peers) {
          const p = this.nodes.get(peer.id);
          if (p === undefined || !p.up || p.stopped !== undefined) {
            this.queue.push({ to: id, input: { kind: 'peerFailed', node: peer.id } });
            continue;
          }
          if (this.linked(id, peer.id)) continue;
          this.links.add(`${Math.min(id, peer.id)}-${Math.max(id, peer.id)}`);
          this.queue.push({ to: id, input: { kind: 'connected', node: peer.id } });
          this.queue.push({ to: peer.id, input: { kind: 'connected', node: id } });
        }
        return;
      case 'dialContact': {
        const c = this.contacts.get(id)!;
        const contact = [...this.nodes.keys()].find((other) => addr(other).host === c.host && addr(other).port === c.port);
        if (contact === undefined || !this.node(contact).up) this.queue.push({ to: id, input: { kind: 'contactUnreachable', final: false, reason: 'connection refused' } });
        else this.carryOut(id, n, { kind: 'connect', peers: [addr(contact)] });
        return;
      }
      case 'dropPeers':
        if (o.misbehaved === true) throw new Error(`node ${id} dropped ${o.nodes.join(', ')} as misbehaving: ${o.reason}`);
        for (const peer of o.nodes) this.links.delete(`${Math.min(id, peer)}-${Math.max(id, peer)}`);
        return;
      case 'createTable': {
        const layout = SstLayout.forView(viewLayoutFor(o.view, id));
        const table = new ArrayBuffer(layout.tableBytes);
        initializeSstTable(layout, table, o.view.vid);
        (this.holdTables ? this.heldTables : this.queue).push({ to: id, input: { kind: 'tableReady', vid: o.view.vid, table } });
        return;
      }
      case 'truncateLog':
        n.log = n.log.filter((e) => e.version <= o.afterVersion);
        return;
      case 'sendLogTail': {
        const tail = n.log.filter((e) => e.version > o.afterVersion && e.version <= o.throughVersion);
        n.tailEntriesSent += tail.length;
        const bytes = tailCodec.pack(tail.map((e) => [e.version, e.hlc.wallUs, e.hlc.logical, e.digest]));
        if (this.linked(id, o.to)) this.queue.push({ to: o.to, input: { kind: 'control', from: id, message: decodeControl(encodeControl({ type: 'logTail', vid: o.vid, subgroup: o.subgroup, shard: o.shard, afterVersion: o.afterVersion, throughVersion: o.throughVersion, tail: bytes }).subarray(1)) } });
        return;
      }
      case 'appendLogTail': {
        const entries = (tailCodec.unpack(o.tail) as [bigint, number, number, string][]).map(([version, wallUs, logical, digest]) => ({ version: BigInt(version), hlc: { wallUs, logical } as Hlc, digest }));
        const newest = n.log[n.log.length - 1]?.version ?? INVALID_VERSION;
        if (newest !== o.afterVersion) throw new Error(`node ${id}: a tail after ${o.afterVersion} appended to a log ending at ${newest}`);
        n.log.push(...entries);
        return;
      }
      case 'joinFailed':
      case 'shutdown':
        n.stopped = o.message;
        return;
      default:
        return;
    }
  }

  releaseMessages(): void {
    this.holdMessage = undefined;
    this.queue.push(...this.heldMessages.splice(0));
    this.run();
  }

  releaseTables(): void {
    this.holdTables = false;
    this.queue.push(...this.heldTables.splice(0));
    this.run();
  }

  /** Crashes a node: it stops answering; its peers see its connections fail. */
  crash(id: number): void {
    const n = this.node(id);
    n.up = false;
    for (const other of this.nodes.keys()) {
      if (other !== id && this.linked(id, other)) {
        this.links.delete(`${Math.min(id, other)}-${Math.max(id, other)}`);
        this.queue.push({ to: other, input: { kind: 'peerFailed', node: id } });
      }
    }
    this.run();
  }

  notes(id: number): string[] {
    return this.node(id).outputs.flatMap((o) => (o.kind === 'note' ? [o.message] : []));
  }

  sent(id: number): string[] {
    return this.node(id).outputs.flatMap((o) => (o.kind === 'sendControl' ? [`${o.message.type}->${o.to}`] : []));
  }

  startedView(id: number): GroupView | undefined {
    const o = this.node(id).outputs.find((x) => x.kind === 'viewStarted');
    return o?.kind === 'viewStarted' ? o.view : undefined;
  }
}
