/**
 * Invariant checkers for simulated membership runs (reference §2.15 items 1, 2, 7, 8, 9, 12 and
 * liveness), run on every delivery, install and view start, and once more when the run is quiet.
 */
import type { DeliverOutput } from '../core/core-io.js';
import { compareHlc, formatHlc, type Hlc } from '../core/hlc.js';
import type { GroupView } from '../core/membership/group-view.js';
import type { MembershipOutput } from '../core/membership/membership-io.js';
import type { MemberShutdownReason as ShutdownReason } from '../core/member/member-io.js';
import type { AllocateNextView } from '../core/membership/next-view.js';
import { CheckFailure } from './checkers.js';
import type { MembershipCluster, MembershipObserver } from './membership-cluster.js';

function fail(check: string, detail: string): never {
  throw new CheckFailure(`${check}: ${detail}`);
}

/** A view's identity: its fields in a fixed key order (a view decoded off the wire rebuilds its objects in the parser's order). */
function viewKey(view: GroupView): string {
  return JSON.stringify(view, (_, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

function shardOf(view: GroupView, g: number, node: number): number {
  return view.subgroups[g]?.shards.findIndex((s) => s.members.includes(node)) ?? -1;
}

export class MembershipChecker implements MembershipObserver {
  private cluster: MembershipCluster | undefined;
  private readonly views = new Map<number, { key: string; view: GroupView }>();
  /** Canonical delivery sequence per (vid, g, shard): "sender#counter". */
  private readonly canonical = new Map<string, string[]>();
  private readonly position = new Map<string, number>();
  private readonly lastFromSender = new Map<string, number>();
  /** Per (node incarnation, g, shard): the last delivered version and HLC. */
  private readonly lastStamp = new Map<string, { version: bigint; hlc: Hlc }>();
  private readonly droppedSenders = new Set<string>();
  /** Per closing (vid, g, shard): what each installer of the next view delivered in it. */
  private readonly installCounts = new Map<string, Map<number, number>>();
  private readonly shutdownVid = new Map<number, { reason: ShutdownReason; vid: number }>();
  private readonly deliveredIn = new Set<string>();
  private readonly startState = new Map<string, { node: number; hash: number }>();
  private readonly removedAt = new Map<number, number>();
  private readonly joinedAt = new Map<number, number>();
  private readonly shutdowns = new Map<number, ShutdownReason>();
  /** Node -> the vid of the view it left gracefully (its rip is in that view's table). */
  private readonly leftIn = new Map<number, number>();
  inadequateReports = 0;
  outsideLeaderInstalls = 0;
  movedIntoShard = 0;
  readonly shutdownCounts = { partitioned: 0, removed: 0, left: 0, failed: 0 };
  joinerStarts = 0;
  rejoins = 0;
  deliveries = 0;
  installs = 0;
  maxVid = 0;

  /** `view0`: the group's first view when known in advance; otherwise the first one formed. */
  constructor(
    view0: GroupView | undefined,
    private readonly allocate: AllocateNextView,
  ) {
    if (view0 !== undefined) this.views.set(0, { key: viewKey(view0), view: view0 });
  }

  attach(cluster: MembershipCluster): void {
    this.cluster = cluster;
  }

  onDeliver(node: number, vid: number, out: DeliverOutput): void {
    this.deliveries++;
    const dv = new DataView(out.payload.buffer, out.payload.byteOffset, out.payload.byteLength);
    const sender = dv.getUint32(0, true);
    const g = dv.getUint32(4, true);
    const counter = dv.getUint32(8, true);
    const senderIncarnation = dv.getUint32(12, true);
    const receiverIncarnation = this.cluster?.nodes.get(node)?.incarnation ?? 0;
    if (sender !== out.senderNode || g !== out.subgroup) fail('§2.15(1) payload integrity', `n${node} got a message of n${sender}/g${g} as one of n${out.senderNode}/g${out.subgroup}`);
    // Same sequence at every member of the shard in this view.
    const key = `${vid}/${out.subgroup}/${out.shard}`;
    const seq = this.canonical.get(key) ?? [];
    this.canonical.set(key, seq);
    const posKey = `${node}/${key}`;
    const pos = this.position.get(posKey) ?? 0;
    // Version and HLC are part of the entry: identical at every replica, not only the order.
    const entry = `${sender}.${senderIncarnation}#${counter} v${out.version} @${formatHlc(out.hlc)}`;
    // Across views too, a shard's versions and HLCs strictly increase at each replica (issue 10:
    // a re-sent message, stamped with its original send time, went back in time in a new view).
    const shardKey = `${node}.${receiverIncarnation}/${key.slice(key.indexOf('/') + 1)}`;
    const previous = this.lastStamp.get(shardKey);
    if (previous !== undefined && (out.version <= previous.version || compareHlc(out.hlc, previous.hlc) <= 0)) {
      fail('versions and HLCs increase across views', `n${node} g${out.subgroup} shard ${out.shard}: v${out.version} @${formatHlc(out.hlc)} in view ${vid} after v${previous.version} @${formatHlc(previous.hlc)}`);
    }
    this.lastStamp.set(shardKey, { version: out.version, hlc: out.hlc });
    if (pos < seq.length) {
      if (seq[pos] !== entry) fail('§2.15(1) same sequence in every view', `view ${vid} g${out.subgroup} shard ${out.shard}: n${node} delivered ${entry} at position ${pos}, others ${seq[pos]}`);
    } else seq.push(entry);
    this.position.set(posKey, pos + 1);
    // FIFO per sender incarnation, across views (re-sends included): no gap, no duplicate.
    const fifoKey = `${node}.${receiverIncarnation}/${g}/${sender}.${senderIncarnation}`;
    const last = this.lastFromSender.get(fifoKey);
    if (last !== undefined && counter !== last + 1 && !this.droppedSenders.has(`${sender}/${g}`)) {
      fail('§2.15(1) FIFO per sender', `n${node} delivered n${sender}'s g${g} message #${counter} after #${last}`);
    }
    this.lastFromSender.set(fifoKey, counter);
    this.deliveredIn.add(`${node}/${vid}`);
  }

  onSendsDropped(node: number, subgroup: number): void {
    this.droppedSenders.add(`${node}/${subgroup}`);
  }

  onInstall(node: number, out: Extract<MembershipOutput, { kind: 'installView' }>, delivered: ReadonlyMap<number, number>): void {
    this.installs++;
    const { view, previous } = out;
    // Coverage of issue 10's shape: the closing view's leader (its first member that stays) held
    // no shard, and members already in the group moved into shards (state transfer to a survivor).
    const leader = previous.members.find((m) => !out.removed.includes(m.id))?.id;
    if (leader === node && previous.subgroups.every((_, g) => shardOf(previous, g, node) < 0)) this.outsideLeaderInstalls++;
    if (out.stateTransfers.some((t) => t.to === node && previous.members.some((m) => m.id === node))) this.movedIntoShard++;
    if (this.shutdowns.has(node)) fail('§2.15(12) stopped nodes never install', `n${node} shut down (${this.shutdowns.get(node)}) but installs view ${view.vid}`);
    if (view.vid !== previous.vid + 1) fail('§2.15(7) vid + 1', `n${node} installs view ${view.vid} after ${previous.vid}`);
    const prevKnown = this.views.get(previous.vid);
    if (prevKnown && prevKnown.key !== viewKey(previous)) fail('§2.15(12) one view per vid', `n${node} closes a view ${previous.vid} that differs from the one others installed`);
    const known = this.views.get(view.vid);
    if (known && known.key !== viewKey(view)) {
      fail('§2.15(12) never two different views with the same vid', `n${node} installs view ${view.vid} [${view.members.map((m) => m.id).join(',')}], others [${known.view.members.map((m) => m.id).join(',')}]`);
    }
    const prevIds = previous.members.map((m) => m.id);
    for (const id of out.removed) if (!prevIds.includes(id)) fail('§2.15(7) only members are removed', `view ${view.vid} removes n${id}, not in view ${previous.vid}`);
    for (const j of out.joined) if (prevIds.includes(j.id)) fail('§2.15(7) joiners are new', `view ${view.vid} joins n${j.id}, already in view ${previous.vid}`);
    const expected = [...prevIds.filter((id) => !out.removed.includes(id)), ...out.joined.map((j) => j.id)];
    const got = view.members.map((m) => m.id);
    if (expected.join(',') !== got.join(',')) fail('§2.15(7) survivors keep their order, joiners appended', `view ${view.vid}: expected [${expected.join(',')}], got [${got.join(',')}]`);
    // Partition safety at the installer: it suspects fewer than half of the members that did not leave.
    const left = (id: number): boolean => this.leftIn.get(id) === previous.vid;
    const vm = this.cluster?.nodes.get(node)?.vm;
    if (vm) {
      // By what the installer knows: leaves it has not seen yet count as members.
      const seenLeft = new Set(vm.ripIds);
      const suspected = vm.suspectedIds.filter((id) => !seenLeft.has(id)).length;
      const stayersHere = previous.members.filter((m) => !seenLeft.has(m.id)).length;
      if (suspected > 0 && suspected >= Math.floor((stayersHere + 1) / 2)) fail('§2.15(12) a member seeing half or more suspected shuts down instead of installing', `n${node} installs view ${view.vid} suspecting ${suspected} of ${stayersHere}`);
    }
    // Partition safety: the survivors are a majority of the members that did not leave.
    const survivors = prevIds.filter((id) => !out.removed.includes(id)).length;
    const stayers = prevIds.filter((id) => !left(id)).length;
    if (survivors * 2 <= stayers) fail('§2.15(12) a view change keeps a majority', `view ${view.vid} keeps ${survivors} of ${stayers} non-leaving members of view ${previous.vid}`);
    // Inadequate layouts never install: the allocator accepts exactly this view.
    let subgroups;
    try {
      subgroups = this.allocate(got, previous);
    } catch (e) {
      fail('§2.15(9) inadequate layouts block installation', `view ${view.vid} installed although the allocator refuses it: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (JSON.stringify(subgroups) !== JSON.stringify(view.subgroups)) fail('§2.15(9) the installed allocation is the allocator\'s', `view ${view.vid}`);
    // What this survivor delivered of each of its shards in the closing view (compared in checkTrims).
    previous.subgroups.forEach((_, g) => {
      const s = shardOf(previous, g, node);
      if (s < 0) return;
      const key = `${previous.vid}/${g}/${s}`;
      const counts = this.installCounts.get(key) ?? new Map<number, number>();
      counts.set(node, delivered.get(g) ?? 0);
      this.installCounts.set(key, counts);
    });
    if (!known) this.views.set(view.vid, { key: viewKey(view), view });
    // A late installer (paused through later views) reports old changes: keep the latest vid.
    for (const id of out.removed) this.removedAt.set(id, Math.max(view.vid, this.removedAt.get(id) ?? -1));
    for (const j of out.joined) this.joinedAt.set(j.id, Math.max(view.vid, this.joinedAt.get(j.id) ?? -1));
    for (const id of got) {
      const r = this.removedAt.get(id);
      if (r !== undefined && r <= view.vid && !((this.joinedAt.get(id) ?? -1) >= r)) fail('§2.15(7) a removed node comes back only as a joiner', `n${id} was removed in view ${r} and is in view ${view.vid}`);
    }
    this.maxVid = Math.max(this.maxVid, view.vid);
  }

  onViewStart(node: number, view: GroupView, state: ReadonlyMap<number, number>, joiner: boolean): void {
    if (joiner) this.joinerStarts++;
    const known = this.views.get(view.vid);
    if (!known && view.vid === 0) this.views.set(0, { key: viewKey(view), view });
    else if (!known) {
      if (!joiner) fail('§2.15(7) views come from installs', `n${node} starts unknown view ${view.vid}`);
    } else if (known.key !== viewKey(view)) fail('§2.15(12) one view per vid', `n${node} starts a view ${view.vid} that differs from the installed one: ${viewKey(view)} vs ${known.key}`);
    // A member's replicated state at the start of a view equals every other member's of its shard:
    // survivors by the trimmed prefix, joiners by state transfer from the old shard leader.
    view.subgroups.forEach((_, g) => {
      const s = shardOf(view, g, node);
      if (s < 0) return;
      const key = `${view.vid}/${g}/${s}`;
      const hash = state.get(g)!;
      const seen = this.startState.get(key);
      if (!seen) this.startState.set(key, { node, hash });
      else if (seen.hash !== hash) {
        fail('§2.15(8) state at the view boundary', `view ${view.vid} g${g} shard ${s}: n${node}${joiner ? ' (joiner)' : ''} starts with state ${hash.toString(16)}, n${seen.node} with ${seen.hash.toString(16)}`);
      }
    });
  }

  onShutdown(node: number, reason: ShutdownReason, _message: string, vid?: number): void {
    this.shutdowns.set(node, reason);
    if (reason === 'left' && vid !== undefined) this.leftIn.set(node, vid);
    if (vid !== undefined) this.shutdownVid.set(node, { reason, vid });
    this.shutdownCounts[reason]++;
  }

  onRejoin(node: number): void {
    // A new incarnation (FIFO keys carry incarnations); its old shutdown no longer applies.
    this.shutdowns.delete(node);
    this.rejoins++;
  }

  onInadequate(): void {
    this.inadequateReports++;
  }

  /**
   * §2.15(1, 2): every survivor of a view change delivered the same trimmed prefix of the closing
   * view, and nobody (not even a member that crashed) delivered beyond it. A member that installed
   * the next view and then shut down as partitioned before delivering anything in it is no
   * survivor: it behaved as a member that crashed at the boundary (it may have trimmed alone, in
   * a minority, a shorter prefix; it never acts on it).
   */
  checkTrims(): void {
    for (const [key, counts] of this.installCounts) {
      const vid = Number(key.split('/')[0]);
      const survivors = [...counts].filter(([node]) => {
        const down = this.shutdownVid.get(node);
        return !(down && down.reason === 'partitioned' && down.vid === vid + 1 && !this.deliveredIn.has(`${node}/${vid + 1}`));
      });
      if (survivors.length === 0) continue;
      const [first, trim] = survivors[0];
      for (const [node, count] of survivors) {
        if (count !== trim) fail('§2.15(1,2) same trimmed prefix at every survivor', `view ${key}: n${node} delivered ${count}, n${first} ${trim}`);
      }
      for (const [posKey, pos] of this.position) {
        if (posKey.endsWith(`/${key}`) && pos > trim) fail('§2.15(2) nothing beyond the trim', `n${posKey.split('/')[0]} delivered ${pos} messages in view ${key}, beyond the trimmed prefix ${trim}`);
      }
    }
  }

  /**
   * Liveness once the run is quiet: every running member is in the same view, that view is not
   * changing, and its members are exactly the running members (removed nodes stopped, joiners in).
   * Exception: a group left inadequate stays wedged (§2.15(9)).
   */
  checkQuiescent(): void {
    this.checkTrims();
    const c = this.cluster!;
    const live = c.liveMembers();
    if (live.length === 0) return;
    const vids = new Set(live.map((n) => n.vm!.vid));
    const ids = live.map((n) => n.id).sort((a, b) => a - b);
    // A joiner cut off from the leader by a partition cannot join (every member redirects it
    // there); any other must have.
    const leader = live.map((n) => n.vm!).sort((a, b) => b.vid - a.vid)[0];
    const leaderId = leader.view.members[leader.leaderRank].id;
    const stuckJoiners = [...c.nodes.values()].filter((n) => n.state === 'joining' && c.linkUp(n.id, leaderId) && c.linkUp(leaderId, n.id)).map((n) => n.id);
    if (vids.size === 1) {
      const vm = live[0].vm!;
      const members = vm.view.members.map((m) => m.id).sort((a, b) => a - b);
      if (live.every((n) => n.vm!.phase === 'running') && members.join(',') === ids.join(',') && stuckJoiners.length === 0) return;
      if (this.inadequateReports > 0 && live.every((n) => n.vm!.phase === 'changing')) {
        try {
          this.allocate(ids, vm.view);
        } catch (e) {
          if (e instanceof Error && e.name === 'InadequateLayoutError') return;
          throw e;
        }
      }
    }
    fail(
      'liveness: a new view installs within the bound',
      `at ${c.nowUs}us running members ${live.map((n) => `n${n.id}@v${n.vm!.vid}/${n.vm!.phase}[${n.vm!.view.members.map((m) => m.id).join(',')}]`).join(' ')}; joiners still waiting: [${stuckJoiners.join(',')}]`,
    );
  }
}
