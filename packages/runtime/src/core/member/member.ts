/**
 * One node of the group, from its start to its shutdown, as one sans-I/O state machine (issue 11):
 * group formation (the contact leads it, reference §2.12), the joiner side (dial the contact,
 * follow redirects, wait for the view and for the state of the shards it joins), and every view
 * after that through the view manager (`../membership/view-manager.ts`), including the part of a
 * view change the view manager leaves to its drivers: connecting to joiners and receiving the
 * state of shards this node moves into before the next table exists.
 *
 * The driver (`../../driver`) and the simulator (`../../sim`) feed it inputs and carry out its
 * outputs in order; neither knows the protocol. Time comes in with `start` and `tick`; deadlines
 * and retries are decided here.
 */
import type { ChunkAllocator } from '../payload-slab.js';
import type { Hlc } from '../hlc.js';
import { invariant } from '../invariant.js';
import { formatVersion, versionVid } from '../version.js';
import { GroupFormation, type AllocateSubgroups, type FormationOutput } from '../membership/formation.js';
import type { GroupView, MemberAddress } from '../membership/group-view.js';
import type { MembershipInput, MembershipOutput } from '../membership/membership-io.js';
import type { AllocateNextView, StateTransfer } from '../membership/next-view.js';
import { ViewManager } from '../membership/view-manager.js';
import type { ControlMessage, RestartedTrims } from './control-messages.js';
import type { MemberInput, MemberOutput, ReceivedState } from './member-io.js';
import { RestartLeader, type RestartLeaderOutput } from './restart-leader.js';
import { lateTruncations, restartDuties, type Truncation } from './restart-follower.js';
import { inconsistentLog, leadsRestartBefore, type RestartLeaderRank, type RestartPlan } from './restart-plan.js';
import type { RestartState } from './restart-state.js';

export interface MemberOptions {
  readonly me: MemberAddress;
  /** This node's address is the configured contact: it forms the group. */
  readonly isContact: boolean;
  /** The contact's address (joiners dial it; errors name it). */
  readonly contact: { readonly host: string; readonly port: number };
  /** Subgroups of a candidate view 0, or undefined while the members are not enough. */
  readonly allocateFirst: AllocateSubgroups;
  /** Subgroups of every later view (throws InadequateLayoutError when too few). */
  readonly allocateNext: AllocateNextView;
  /** The contact waits for this many members (itself included) before forming view 0. */
  readonly minMembers?: number;
  /** Joining (or forming) fails after this long. */
  readonly joinTimeoutUs: number;
  /** Pause before dialing the contact again, or asking again after a refusal that may pass. */
  readonly retryUs: number;
  /**
   * A join request without an answer for this long is asked again (a leader may fail or move on);
   * after a second silence the connection is dropped and the contact dialed anew.
   */
  readonly joinRetryUs: number;
  /** A member moving into shards waits this long for their state (then fails). */
  readonly stateTimeoutUs: number;
  /** How long a view change waits for connections to its joiners (then suspects them). */
  readonly joinerConnectTimeoutUs: number;
  /** A view change this much older says what it waits for (a `note` at warn level). */
  readonly stallReportUs: number;
  readonly heartbeatIntervalUs: number;
  readonly partitionSafety: boolean;
  readonly payloadChunks?: ChunkAllocator;
  /**
   * Total restart: the nodes that may lead it, in order (config `restart.leaders`). Default: the
   * members of the last logged view, lowest id first. Ids outside that view are skipped (their
   * address is unknown).
   */
  readonly restartLeaders?: readonly number[];
  /**
   * Total restart: how long the leader waits for a restart quorum (then fails, naming who is
   * missing), and once it has one, how long it waits for the rest of the last view. Default: the
   * join timeout. A restarting node's join deadline is the join timeout plus twice this.
   */
  readonly restartTimeoutUs?: number;
}

/** A node that started with logs of an earlier run (total restart). */
interface Restart {
  /** Its logs as the restart found them, updated as this node truncates and receives tails. */
  state: RestartState;
  /** Who may lead the restart, in order. */
  readonly candidates: readonly MemberAddress[];
  leader: RestartLeader | undefined;
  /** Members of the last view this node announced its leadership to. */
  readonly announcedTo: Set<number>;
  /** Members of an abandoned restart view outside the last view (announced to as well when leading again). */
  alsoAnnounceTo: readonly MemberAddress[];
  /** A running group was found: restarting nodes that ask are sent there (with what its restart kept, if it restarted). */
  runningGroup: MemberAddress | undefined;
  runningTrims: RestartedTrims | undefined;
}

type Phase =
  | { readonly kind: 'idle' }
  /** The contact, collecting joiners until view 0 is adequate. */
  | { readonly kind: 'forming' }
  /** A joiner dialing the contact (again at `retryAtUs`, when set). */
  | { readonly kind: 'dialing'; retryAtUs: number | undefined }
  /**
   * Total restart, following candidate `index` of the restart leaders: connecting to it, or sent
   * it this node's restart state at `askedAtUs` (asked again after a silence, then the next
   * candidate). `leader` undefined: every candidate failed; all are tried again at `retryAtUs`.
   */
  | {
      readonly kind: 'restartFollowing';
      readonly index: number;
      readonly leader: MemberAddress | undefined;
      /** The last view the leader logged, as far as this node knows (its own, until the leader announces itself). */
      leaderVid: number;
      askedAtUs: number | undefined;
      retryAtUs: number | undefined;
      silences: number;
    }
  /** Total restart, leading it (`Restart.leader`) until it announces the restart view. */
  | { readonly kind: 'restartLeading' }
  /**
   * A joiner that asked node `to` to join at `askedAtUs`; asks again at `retryAtUs` after a
   * refusal that may pass, or after `joinRetryUs` of silence (`silences` in a row).
   */
  | { readonly kind: 'asking'; readonly to: number; askedAtUs: number; retryAtUs: number | undefined; silences: number }
  /** A joiner redirected to the leader, connecting to it. */
  | { readonly kind: 'redirected'; readonly leader: MemberAddress }
  /**
   * Entering its first view: connecting to its members, then (a running group's joiner) waiting
   * for the state of its shards, then creating the table; view 0 then reports ready and waits for
   * the contact's start.
   */
  | {
      readonly kind: 'entering';
      readonly view: GroupView;
      readonly from: number;
      /** Undefined for view 0 (formation) and a restart view; the view change's transfers for a running group. */
      readonly transfers: readonly StateTransfer[] | undefined;
      /** A total restart's first view: the plan, and the shards ("subgroup:shard") whose log tail has not arrived. */
      readonly restart?: { readonly plan: RestartPlan; readonly awaitedTails: Set<string> };
      tableRequested: boolean;
      table: ArrayBuffer | undefined;
    }
  | { readonly kind: 'running' }
  /** Between the view manager's installView and the next table. */
  | {
      readonly kind: 'installing';
      readonly view: GroupView;
      readonly removed: readonly number[];
      readonly joined: readonly MemberAddress[];
      readonly mine: readonly StateTransfer[];
      readonly joinersDeadlineUs: number;
      readonly statesDeadlineUs: number;
      tableRequested: boolean;
    }
  | { readonly kind: 'stopped' };

export class Member {
  private phase: Phase = { kind: 'idle' };
  private vm: ViewManager | undefined;
  private formation: GroupFormation | undefined;
  private restart: Restart | undefined;
  /** The group restarted from logs in this node's first view: what it kept (told to late members coming back with logs). */
  private restartedTrims: RestartedTrims | undefined;
  /** Tables asked for by restart views that were abandoned before they were ready (their tableReady is dropped). */
  private staleTables = 0;
  /**
   * Log tails that arrived before the restart view they belong to (their source may hear of the
   * view before this node does), by "vid:subgroup:shard".
   */
  private readonly earlyTails = new Map<string, { readonly from: number; readonly message: Extract<ControlMessage, { type: 'logTail' }> }>();
  private nowUs = 0;
  private joinDeadlineUs = Number.POSITIVE_INFINITY;
  private startedUs = 0;
  /** Failed dials of the contact so far (the first is reported at info, the rest at debug). */
  private contactDialFailures = 0;
  private readonly connectedPeers = new Set<number>();
  /** States received for views being entered or installed, by "vid:subgroup". */
  private readonly states = new Map<string, ReceivedState>();
  /** The last word of a leader on why this joiner is not admitted yet (a deferral or refusal). */
  private deferredReason: string | undefined;
  private readonly out: MemberOutput[] = [];
  /** Control messages to myself, handled after the input that sent them (never re-entrantly). */
  private readonly toSelf: ControlMessage[] = [];
  /** Since when a view change has been under way, and the stall reason last reported. */
  private stall: { sinceUs: number; reported: string | undefined } = { sinceUs: Number.NaN, reported: undefined };

  constructor(private readonly options: MemberOptions) {}

  private get contactText(): string {
    return `${this.options.contact.host}:${this.options.contact.port}`;
  }

  get myId(): number {
    return this.options.me.id;
  }
  /** The view manager, once a view runs here (for queries; feed inputs through `step`). */
  get viewManager(): ViewManager | undefined {
    return this.vm;
  }
  /** The running view, once there is one. */
  get view(): GroupView | undefined {
    return this.vm?.view;
  }
  get phaseName(): Phase['kind'] {
    return this.phase.kind;
  }
  get stopped(): boolean {
    return this.phase.kind === 'stopped';
  }

  step(input: MemberInput): MemberOutput[] {
    invariant(this.out.length === 0, 'no member outputs left over between steps', () => `${this.out.length} outputs`);
    if (this.phase.kind === 'stopped') return [];
    this.handle(input);
    while (this.toSelf.length > 0 && !this.stopped) this.onControl(this.myId, this.toSelf.shift()!);
    const outs = this.out.splice(0, this.out.length);
    const i = outs.findIndex((o) => o.kind === 'shutdown' || o.kind === 'joinFailed');
    if (i >= 0 && i !== outs.length - 1) outs.push(...outs.splice(i, 1));
    return outs;
  }

  private handle(input: MemberInput): void {
    switch (input.kind) {
      case 'start':
        this.start(input.nowUs, input.restart);
        return;
      case 'tick':
        this.nowUs = input.nowUs;
        this.onTick();
        return;
      case 'control':
        this.onControl(input.from, input.message);
        return;
      case 'connected':
        this.connectedPeers.add(input.node);
        this.onConnected(input.node);
        return;
      case 'contactUnreachable':
        this.onContactUnreachable(input.final, input.reason);
        return;
      case 'tableReady':
        this.onTableReady(input.vid, input.table);
        return;
      case 'peerFailed':
        this.connectedPeers.delete(input.node);
        this.onPeerFailed(input.node);
        return;
      default:
        this.toViewManager(input);
    }
  }

  // ---- start, formation and joining ----

  private start(nowUs: number, restart: RestartState | undefined): void {
    invariant(this.phase.kind === 'idle', 'a member starts once', () => `phase ${this.phase.kind}`);
    this.nowUs = nowUs;
    this.startedUs = nowUs;
    this.joinDeadlineUs = nowUs + this.options.joinTimeoutUs;
    if (restart !== undefined) {
      // A leader would refuse these logs; this node's own restart cannot use them either.
      const inconsistent = inconsistentLog(this.myId, restart);
      if (inconsistent !== undefined) {
        this.failJoin(inconsistent);
        return;
      }
      this.joinDeadlineUs += 2 * this.restartTimeoutUs;
      const lastView = new Map(restart.view.members.map((m) => [m.id, m]));
      const ids = this.options.restartLeaders ?? [...lastView.keys()].sort((a, b) => a - b);
      const candidates = ids.flatMap((id) => (id === this.myId ? [this.options.me] : lastView.has(id) ? [lastView.get(id)!] : []));
      this.restart = { state: restart, candidates, leader: undefined, announcedTo: new Set(), alsoAnnounceTo: [], runningGroup: undefined, runningTrims: undefined };
      this.note('info', `node ${this.myId} restarts from its logs of view ${restart.view.vid}; restart leaders in order: nodes ${candidates.map((c) => c.id).join(', ')}`);
      this.followRestart(0);
      return;
    }
    if (this.options.isContact) {
      this.phase = { kind: 'forming' };
      this.formation = new GroupFormation({ leader: this.options.me, allocate: this.options.allocateFirst, minMembers: this.options.minMembers });
      this.note('info', `node ${this.myId} forms the group as its initial leader`);
      this.formationOutputs(this.formation.start());
    } else {
      this.phase = { kind: 'dialing', retryAtUs: undefined };
      this.note('info', `node ${this.myId} joins through the contact at ${this.contactText}`);
      this.out.push({ kind: 'dialContact' });
    }
  }

  private formationOutputs(outputs: readonly FormationOutput[]): void {
    for (const o of outputs) {
      if (o.kind === 'refuse') this.sendControl(o.to, { type: 'refused', code: o.code, message: o.message });
      else if (o.kind === 'defer') this.sendControl(o.to, { type: 'deferred', message: o.message });
      else if (o.kind === 'announce') this.sendControl(o.to, { type: 'view', view: o.view });
      else this.sendControl(o.to, { type: 'start', vid: o.vid });
    }
  }

  private onTick(): void {
    const p = this.phase;
    if (p.kind === 'running' || p.kind === 'installing') {
      if (p.kind === 'installing') this.advanceInstall();
      if (this.vm !== undefined && this.phase.kind !== 'stopped') this.fromViewManager(this.vm.step({ kind: 'tick', nowUs: this.nowUs }));
      if (this.phase.kind !== 'stopped') this.watchStall();
      return;
    }
    if (this.nowUs >= this.joinDeadlineUs) {
      const why = this.deferredReason !== undefined ? `: ${this.deferredReason}` : p.kind === 'entering' ? `: ${this.enteringWait(p)}` : '';
      const within = Math.round((this.joinDeadlineUs - this.startedUs) / 1000);
      if (this.restart !== undefined && this.restart.runningGroup === undefined) this.failJoin(`node ${this.myId} did not restart from its logs of view ${this.restart.state.view.vid} within ${within} ms${why}`);
      else this.failJoin(`node ${this.myId} did not join within ${within} ms (contact ${this.contactText})${why}`);
      return;
    }
    if (p.kind === 'restartFollowing' || p.kind === 'restartLeading') {
      this.restartTick(p);
      return;
    }
    if (p.kind === 'dialing' && p.retryAtUs !== undefined && this.nowUs >= p.retryAtUs) {
      p.retryAtUs = undefined;
      this.out.push({ kind: 'dialContact' });
    } else if (p.kind === 'asking' && ((p.retryAtUs !== undefined && this.nowUs >= p.retryAtUs) || this.nowUs - p.askedAtUs >= this.options.joinRetryUs)) {
      const silent = p.retryAtUs === undefined;
      if (silent && p.silences >= 1) {
        // Asked twice without an answer: the contact is gone or stuck. Dial it anew.
        this.note('info', `node ${p.to} did not answer the join request; dialing the contact again`);
        this.connectedPeers.delete(p.to);
        this.out.push({ kind: 'dropPeers', nodes: [p.to], reason: 'no answer to a join request' });
        this.phase = { kind: 'dialing', retryAtUs: undefined };
        this.out.push({ kind: 'dialContact' });
        return;
      }
      this.ask(p.to, silent ? p.silences + 1 : 0);
    }
  }

  private onContactUnreachable(final: boolean, reason: string): void {
    const p = this.phase;
    if (p.kind !== 'dialing') return;
    if (final || this.nowUs + this.options.retryUs > this.joinDeadlineUs) {
      this.failJoin(`cannot join through the contact at ${this.contactText}: ${reason}`);
      return;
    }
    // Members start in any order: the contact may simply not listen yet. Say so once; each retry
    // after that is debug, and reaching it is summarized.
    if (this.contactDialFailures++ === 0) this.note('info', `the contact at ${this.contactText} is not reachable yet (${reason}); retrying every ${Math.round(this.options.retryUs / 1000)} ms until the join deadline`);
    else this.note('debug', `contact ${this.contactText} not reachable yet (${reason}); retrying`);
    p.retryAtUs = this.nowUs + this.options.retryUs;
  }

  private onConnected(node: number): void {
    const p = this.phase;
    if (p.kind === 'dialing') {
      // The first connection of a joiner is the contact's (its id comes from the handshake).
      if (this.contactDialFailures > 0) this.note('info', `reached the contact at ${this.contactText} after ${this.contactDialFailures + 1} attempts (${Math.round((this.nowUs - this.startedUs) / 1000)} ms)`);
      this.contactDialFailures = 0;
      this.ask(node, 0);
    } else if (p.kind === 'redirected' && node === p.leader.id) {
      this.ask(node, 0);
    } else if (p.kind === 'restartFollowing' && node === p.leader?.id && p.askedAtUs === undefined) {
      this.sendRestartState(p);
    } else if (p.kind === 'restartLeading') this.announceLeadership();
    else if (p.kind === 'entering') this.advanceEntering();
    else if (p.kind === 'installing') this.advanceInstall();
  }

  private ask(to: number, silences: number): void {
    this.phase = { kind: 'asking', to, askedAtUs: this.nowUs, retryAtUs: undefined, silences };
    this.sendControl(to, { type: 'join', member: this.options.me });
  }

  private onPeerFailed(node: number): void {
    const p = this.phase;
    switch (p.kind) {
      case 'forming':
        this.formationOutputs(this.formation!.onJoinerLost(node));
        return;
      case 'restartFollowing':
        if (node === p.leader?.id) {
          this.note('info', `restart leader candidate node ${node} is not reachable; trying the next one`);
          this.followRestart(p.index + 1);
        }
        return;
      case 'restartLeading':
        this.restartLeaderOutputs(this.restart!.leader!.onLost(node, this.nowUs));
        return;
      case 'asking':
      case 'redirected':
        // The node asked may have failed or left; the contact may know a new leader. Until the
        // join deadline, dial it again.
        if (node === (p.kind === 'asking' ? p.to : p.leader.id)) {
          this.note('info', `lost the connection to node ${node} while joining through it; dialing the contact again`);
          this.phase = { kind: 'dialing', retryAtUs: this.nowUs + this.options.retryUs };
        }
        return;
      case 'entering':
        if (p.restart !== undefined) this.onRestartMemberLost(p, node);
        else if (p.view.members.some((m) => m.id === node) && node !== this.myId) this.failJoin(`node ${node} of view ${p.view.vid} failed while this node was joining it`);
        return;
      case 'running':
      case 'installing':
        this.toViewManager({ kind: 'peerFailed', node });
        return;
    }
  }

  private onControl(from: number, m: ControlMessage): void {
    const p = this.phase;
    switch (m.type) {
      case 'join':
        if (from !== m.member.id && from !== this.myId) {
          this.out.push({ kind: 'dropPeers', nodes: [from], reason: `node ${from} asked to join as node ${m.member.id}`, misbehaved: true });
          return;
        }
        if (p.kind === 'running' || p.kind === 'installing') this.fromViewManager(this.vm!.step({ kind: 'joinRequest', joiner: m.member }));
        else if (p.kind === 'forming') {
          this.note('info', `join request of node ${m.member.id}`);
          this.formationOutputs(this.formation!.onJoinRequest(m.member));
        } else this.sendControl(from, { type: 'refused', code: 'busy', message: `node ${this.myId} is not running a view yet; try again` });
        return;
      case 'redirect':
        if (p.kind === 'restartFollowing' || p.kind === 'restartLeading') {
          this.joinRunningGroup(from, m.leader, m.restarted);
          return;
        }
        if (p.kind !== 'asking') return;
        if (m.leader.id === this.myId) {
          // A failed incarnation of this node still leads the group: ask again once it is removed.
          p.retryAtUs = this.nowUs + this.options.retryUs;
          this.deferredReason = `node ${from} redirected the join to node ${this.myId}: an earlier incarnation of this node is still a member (the group has not removed it yet)`;
          return;
        }
        this.note('info', `redirected to the leader, node ${m.leader.id}`);
        this.phase = { kind: 'redirected', leader: m.leader };
        if (this.connectedPeers.has(m.leader.id)) this.onConnected(m.leader.id);
        else this.out.push({ kind: 'connect', peers: [m.leader] });
        return;
      case 'refused':
        if (p.kind === 'restartFollowing' && from === p.leader?.id) {
          if (m.code === 'restartRefused' || m.code === 'restartFailed') {
            this.failJoin(m.message);
            return;
          }
          if (m.message !== this.deferredReason) this.note('info', `node ${from} cannot take the restart state yet (${m.code}): ${m.message}`);
          this.deferredReason = `node ${from} did not take the restart state (${m.code}): ${m.message}`;
          p.retryAtUs = this.nowUs + this.options.retryUs;
          return;
        }
        if (p.kind !== 'asking') return;
        // Every refusal may pass: a group not running yet, an id still held by a failed
        // incarnation of this node until the group removes it, a member that is leaving. Ask again
        // until the join deadline, whose error then says what the last refusal was.
        if (m.code !== 'busy') {
          if (m.message !== this.deferredReason) this.note('info', `node ${from} refused the join for now (${m.code}): ${m.message}`);
          this.deferredReason = `node ${from} refused the join (${m.code}): ${m.message}`;
        }
        p.retryAtUs = this.nowUs + this.options.retryUs;
        return;
      case 'deferred':
        if (p.kind === 'restartFollowing' && from === p.leader?.id) {
          if (m.message !== this.deferredReason) this.note('info', `the restart is pending: ${m.message}`);
          this.deferredReason = m.message;
          p.askedAtUs = this.nowUs;
          p.silences = 0;
          return;
        }
        if (p.kind !== 'asking') return;
        if (m.message !== this.deferredReason) this.note('info', `the join is pending: ${m.message}`);
        this.deferredReason = m.message;
        // An answer: the leader holds the request, so silence from now on is expected.
        p.askedAtUs = this.nowUs;
        p.silences = 0;
        return;
      case 'view':
        this.onView(from, m.view, m.stateTransfers);
        return;
      case 'state':
        // Only for views this node may still enter or install; older ones are over.
        if (this.vm === undefined || m.vid > this.vm.vid) this.states.set(`${m.vid}:${m.subgroup}`, { state: m.state, hlc: m.hlc });
        if (p.kind === 'entering') this.advanceEntering();
        else if (p.kind === 'installing') this.advanceInstall();
        return;
      case 'ready':
        if (this.formation !== undefined) this.formationOutputs(this.formation.onReady(from, m.vid));
        else if (this.restart?.leader !== undefined) this.restartLeaderOutputs(this.restart.leader.onReady(from, m.vid));
        return;
      case 'start':
        if (p.kind === 'entering' && p.transfers === undefined && p.view.vid === m.vid && p.table !== undefined) {
          if (p.restart !== undefined) this.restartedTrims = { vid: p.view.vid, shards: p.restart.plan.shards.map((sp) => ({ subgroup: sp.subgroup, shard: sp.shard, keepThrough: sp.keepThrough })) };
          this.startFirstView(p.view, p.table, p.restart === undefined ? undefined : this.restartFloors(p.view, p.restart.plan));
          // A member lost while the restart view was being entered is suspected in it like any failed member.
          if (p.restart !== undefined) for (const x of p.view.members) if (x.id !== this.myId && !this.connectedPeers.has(x.id) && this.phase.kind === 'running') this.toViewManager({ kind: 'peerFailed', node: x.id });
        }
        return;
      case 'restartState':
        if (from !== m.member.id) {
          this.out.push({ kind: 'dropPeers', nodes: [from], reason: `node ${from} sent the restart state of node ${m.member.id}`, misbehaved: true });
          return;
        }
        this.onRestartState(from, m.member, m.state);
        return;
      case 'restartLeader':
        this.onRestartLeader(from, m.leader, m.vid);
        return;
      case 'restartView':
        if ((p.kind === 'restartFollowing' && from === p.leader?.id) || (p.kind === 'restartLeading' && from === this.myId)) this.enterRestart(from, m.plan);
        return;
      case 'logTail':
        this.onLogTail(from, m);
        return;
    }
  }

  // ---- total restart (reference §2.13) ----

  private get restartTimeoutUs(): number {
    return this.options.restartTimeoutUs ?? this.options.joinTimeoutUs;
  }

  /** Where candidate `id` stands among the restart leaders (Infinity: it is not one). */
  private candidateIndex(id: number): number {
    const i = this.restart!.candidates.findIndex((c) => c.id === id);
    return i < 0 ? Number.POSITIVE_INFINITY : i;
  }

  /** Follows restart leader candidate `index` (leads when it is this node). */
  private followRestart(index: number): void {
    const r = this.restart!;
    if (index >= r.candidates.length) {
      this.note('info', `no restart leader candidate is reachable (${r.candidates.map((c) => c.id).join(', ')}); trying them again`);
      this.deferredReason = `no restart leader candidate (nodes ${r.candidates.map((c) => c.id).join(', ')}) answered: start a majority of view ${r.state.view.vid}, or check restart.leaders`;
      this.phase = { kind: 'restartFollowing', index: -1, leader: undefined, leaderVid: r.state.view.vid, askedAtUs: undefined, retryAtUs: this.nowUs + this.options.retryUs, silences: 0 };
      return;
    }
    this.followLeader(r.candidates[index], r.state.view.vid, index);
  }

  /**
   * Follows `leader` (leading from its logs of view `vid`); `index` is where the candidates are
   * tried from if it fails (-1: from the first).
   */
  private followLeader(leader: MemberAddress, vid: number, index: number): void {
    if (leader.id === this.myId) {
      this.leadRestart();
      return;
    }
    const p: Extract<Phase, { kind: 'restartFollowing' }> = { kind: 'restartFollowing', index, leader, leaderVid: vid, askedAtUs: undefined, retryAtUs: undefined, silences: 0 };
    this.phase = p;
    if (this.connectedPeers.has(leader.id)) this.sendRestartState(p);
    else this.out.push({ kind: 'connect', peers: [leader] });
  }

  private leadsBefore(a: RestartLeaderRank, b: RestartLeaderRank): boolean {
    return leadsRestartBefore(a, b, this.options.restartLeaders);
  }

  private sendRestartState(p: Extract<Phase, { kind: 'restartFollowing' }>): void {
    p.askedAtUs = this.nowUs;
    p.retryAtUs = undefined;
    this.sendControl(p.leader!.id, { type: 'restartState', member: this.options.me, state: this.restart!.state });
  }

  private leadRestart(): void {
    const r = this.restart!;
    this.note('info', `node ${this.myId} leads the restart from the logs of view ${r.state.view.vid}`);
    r.leader = new RestartLeader({ me: this.options.me, state: r.state, allocate: this.options.allocateNext, restartTimeoutUs: this.restartTimeoutUs, nowUs: this.nowUs });
    this.phase = { kind: 'restartLeading' };
    // Running members answer with their group's leader; a candidate ahead of this one takes over.
    const others = r.state.view.members.filter((m) => m.id !== this.myId && !this.connectedPeers.has(m.id));
    if (others.length > 0) this.out.push({ kind: 'connect', peers: others });
    this.announceLeadership();
    if (this.phase.kind === 'restartLeading') this.restartLeaderOutputs(r.leader.tick(this.nowUs));
  }

  /** Tells every connected member of the last view, once, that this node leads the restart. */
  private announceLeadership(): void {
    const r = this.restart!;
    for (const m of [...r.state.view.members, ...r.alsoAnnounceTo]) {
      if (m.id === this.myId || !this.connectedPeers.has(m.id) || r.announcedTo.has(m.id)) continue;
      r.announcedTo.add(m.id);
      this.sendControl(m.id, { type: 'restartLeader', leader: this.options.me, vid: r.state.view.vid });
    }
  }

  private restartTick(p: Extract<Phase, { kind: 'restartFollowing' | 'restartLeading' }>): void {
    if (p.kind === 'restartLeading') {
      this.restartLeaderOutputs(this.restart!.leader!.tick(this.nowUs));
      return;
    }
    if (p.leader === undefined) {
      if (this.nowUs >= p.retryAtUs!) this.followRestart(0);
      return;
    }
    if (p.retryAtUs !== undefined && this.nowUs >= p.retryAtUs) {
      if (this.connectedPeers.has(p.leader.id)) this.sendRestartState(p);
      else this.followRestart(p.index);
    } else if (p.askedAtUs !== undefined && p.retryAtUs === undefined && this.nowUs - p.askedAtUs >= this.options.joinRetryUs) {
      if (p.silences >= 1) {
        this.note('info', `restart leader candidate node ${p.leader.id} did not answer; trying the next one`);
        this.followRestart(p.index + 1);
        return;
      }
      p.silences++;
      this.sendRestartState(p);
    }
  }

  private onRestartState(from: number, member: MemberAddress, state: RestartState): void {
    const p = this.phase;
    if (p.kind === 'running' || p.kind === 'installing') {
      this.sendControl(from, this.runningRedirect());
    } else if (p.kind === 'restartLeading') {
      this.restartLeaderOutputs(this.restart!.leader!.onState(member, state, this.nowUs));
    } else if (this.restart?.runningGroup !== undefined) {
      this.sendControl(from, this.passedRedirect(this.restart.runningGroup));
    } else if (p.kind === 'entering' && p.restart !== undefined) {
      this.sendControl(from, { type: 'refused', code: 'busy', message: `node ${this.myId} is starting restart view ${p.view.vid} without node ${from}; it joins once the group runs` });
    } else {
      const following = p.kind === 'restartFollowing' && p.leader !== undefined ? `; it follows node ${p.leader.id}` : '';
      this.sendControl(from, { type: 'refused', code: 'busy', message: `node ${this.myId} does not lead the restart${following}` });
    }
  }

  private onRestartLeader(from: number, leader: MemberAddress, vid: number): void {
    const p = this.phase;
    if (p.kind === 'running' || p.kind === 'installing') {
      this.sendControl(from, this.runningRedirect());
      return;
    }
    if (this.restart === undefined) return;
    if (this.restart.runningGroup !== undefined) {
      this.sendControl(from, this.passedRedirect(this.restart.runningGroup));
      return;
    }
    const index = Number.isFinite(this.candidateIndex(leader.id)) ? this.candidateIndex(leader.id) : -1;
    const them = { id: leader.id, vid };
    if (p.kind === 'entering' && p.restart !== undefined && from === p.from) {
      // The leader lost a member of the restart view before it started: it plans again from the logs as they are now.
      this.note('info', `restart leader node ${from} plans the restart again`);
      this.abandonRestartView(p);
      this.followLeader(leader, vid, index);
      return;
    }
    const myVid = this.restart.state.view.vid;
    if (p.kind === 'restartLeading') {
      if (this.leadsBefore(them, { id: this.myId, vid: myVid })) {
        // A leader that goes before this one is back: it leads, and so do the members that followed me.
        this.note('info', `node ${leader.id} (logs of view ${vid}) goes before node ${this.myId} (view ${myVid}) as the restart leader: following it`);
        for (const id of this.restart.leader!.memberIds) if (id !== this.myId) this.sendControl(id, { type: 'restartLeader', leader, vid });
        this.restart.leader = undefined;
        this.followLeader(leader, vid, index);
      } else if (from === leader.id) this.sendControl(from, { type: 'restartLeader', leader: this.options.me, vid: myVid });
    } else if (p.kind === 'restartFollowing') {
      if (p.leader?.id === leader.id) p.leaderVid = vid;
      else if (p.leader === undefined || this.leadsBefore(them, { id: p.leader.id, vid: p.leaderVid })) this.followLeader(leader, vid, index);
    }
  }

  /** The answer of a running member to a node coming back with logs: its group's leader, and what a restart kept. */
  private runningRedirect(): ControlMessage {
    const leader = this.vm!.view.members[this.vm!.leaderRank];
    return this.restartedTrims === undefined ? { type: 'redirect', leader } : { type: 'redirect', leader, restarted: this.restartedTrims };
  }

  /** A redirect to the running group this node found, passed on to a restarting node. */
  private passedRedirect(leader: MemberAddress): ControlMessage {
    const restarted = this.restart!.runningTrims;
    return restarted === undefined ? { type: 'redirect', leader } : { type: 'redirect', leader, restarted };
  }

  /** A member answered with the leader of a running group: join it as an ordinary joiner. */
  private joinRunningGroup(from: number, leader: MemberAddress, restarted: RestartedTrims | undefined): void {
    const r = this.restart!;
    this.note('info', `a group is running (node ${from} answered; its leader is node ${leader.id}): node ${this.myId} joins it instead of restarting it`);
    if (restarted !== undefined) this.truncate(lateTruncations(restarted, r.state.view.vid, r.state.logs), undefined);
    r.runningGroup = leader.id === this.myId ? r.state.view.members.find((m) => m.id === from) : leader;
    r.runningTrims = restarted;
    if (r.leader !== undefined) {
      for (const id of r.leader.memberIds) if (id !== this.myId && r.runningGroup !== undefined) this.sendControl(id, this.passedRedirect(r.runningGroup));
      r.leader = undefined;
    }
    if (leader.id === this.myId) {
      // An earlier incarnation of this node still leads the group: ask `from` again once it is removed.
      this.deferredReason = `node ${from} named node ${this.myId} as the group's leader: an earlier incarnation of this node is still a member (the group has not removed it yet)`;
      this.phase = { kind: 'asking', to: from, askedAtUs: this.nowUs, retryAtUs: this.nowUs + this.options.retryUs, silences: 0 };
      return;
    }
    this.phase = { kind: 'redirected', leader };
    if (this.connectedPeers.has(leader.id)) this.onConnected(leader.id);
    else this.out.push({ kind: 'connect', peers: [leader] });
  }

  private restartLeaderOutputs(outputs: readonly RestartLeaderOutput[]): void {
    for (const o of outputs) {
      switch (o.kind) {
        case 'defer':
          this.sendControl(o.to, { type: 'deferred', message: o.message });
          break;
        case 'refuse':
          this.note('warn', o.message);
          this.sendControl(o.to, { type: 'refused', code: 'restartRefused', message: o.message });
          break;
        case 'announce':
          this.sendControl(o.to, { type: 'restartView', plan: o.plan });
          break;
        case 'start':
          this.sendControl(o.to, { type: 'start', vid: o.vid });
          break;
        case 'fail':
          for (const id of this.restart!.leader!.memberIds) if (id !== this.myId) this.sendControl(id, { type: 'refused', code: 'restartFailed', message: o.message });
          this.failJoin(o.message);
          return;
      }
    }
  }

  /** The restart view and plan arrived (or this node, leading, announced them): truncate, send and await tails, enter. */
  private enterRestart(from: number, plan: RestartPlan): void {
    const view = plan.view;
    if (!view.members.some((m) => m.id === this.myId)) return;
    const r = this.restart!;
    const duties = restartDuties(plan, this.myId, r.state.logs);
    const awaitedTails = new Set(duties.awaitedTails);
    const others = view.members.filter((m) => m.id !== this.myId && !this.connectedPeers.has(m.id));
    this.phase = { kind: 'entering', view, from, transfers: undefined, tableRequested: false, table: undefined, restart: { plan, awaitedTails } };
    this.note('info', `restart: entering view ${view.vid} (members ${view.members.map((m) => m.id).join(', ')}) led by node ${from}`);
    if (others.length > 0) this.out.push({ kind: 'connect', peers: others });
    this.truncate(duties.truncations, 'versions after it were never delivered everywhere');
    for (const t of duties.tailsToSend) this.out.push({ kind: 'sendLogTail', vid: view.vid, ...t });
    r.state = { ...r.state, logs: duties.logs };
    const early = [...awaitedTails].flatMap((key) => {
      const tail = this.earlyTails.get(`${view.vid}:${key}`);
      return tail === undefined ? [] : [tail];
    });
    this.earlyTails.clear();
    for (const { from: source, message } of early) this.onLogTail(source, message);
    this.advanceEntering();
  }

  /**
   * A member of the restart view being entered was lost before it started. The leader plans
   * again from the logs as they are now (a new round: every member sends its state again); a
   * follower that lost its leader follows the next candidate; other losses wait for the leader.
   */
  private onRestartMemberLost(p: Extract<Phase, { kind: 'entering' }>, node: number): void {
    if (!p.view.members.some((m) => m.id === node) || node === this.myId) return;
    const r = this.restart!;
    if (r.leader !== undefined) {
      this.note('info', `node ${node} of restart view ${p.view.vid} was lost before it started: planning the restart again without it`);
      r.alsoAnnounceTo = p.view.members.filter((m) => !r.state.view.members.some((x) => x.id === m.id));
      r.announcedTo.clear();
      this.abandonRestartView(p);
      this.leadRestart();
    } else if (node === p.from) {
      this.note('info', `restart leader node ${node} was lost before restart view ${p.view.vid} started: following the next candidate`);
      this.abandonRestartView(p);
      const index = this.candidateIndex(node);
      this.followRestart(Number.isFinite(index) ? index + 1 : 0);
    } else this.note('info', `node ${node} of restart view ${p.view.vid} was lost before it started; the restart leader, node ${p.from}, plans again`);
  }

  private abandonRestartView(p: Extract<Phase, { kind: 'entering' }>): void {
    if (p.tableRequested && p.table === undefined) this.staleTables++;
    this.restart!.leader = undefined;
  }

  private onLogTail(from: number, m: Extract<ControlMessage, { type: 'logTail' }>): void {
    const p = this.phase;
    if (p.kind !== 'entering' || p.restart === undefined || p.view.vid !== m.vid) {
      if (this.restart !== undefined && this.restart.runningGroup === undefined) this.earlyTails.set(`${m.vid}:${m.subgroup}:${m.shard}`, { from, message: m });
      return;
    }
    const key = `${m.subgroup}:${m.shard}`;
    const sp = p.restart.plan.shards.find((s) => s.subgroup === m.subgroup && s.shard === m.shard);
    const expected = sp?.tails.find((t) => t.to === this.myId);
    if (!p.restart.awaitedTails.has(key) || sp === undefined || expected === undefined || from !== sp.source || m.afterVersion !== expected.afterVersion || m.throughVersion !== sp.keepThrough) {
      this.note('warn', `node ${from} sent a log tail of subgroup ${m.subgroup} shard ${m.shard} (${formatVersion(m.afterVersion)}, ${formatVersion(m.throughVersion)}] that restart view ${m.vid}'s plan does not expect here; ignored`);
      return;
    }
    p.restart.awaitedTails.delete(key);
    const r = this.restart!;
    const others = r.state.logs.filter((l) => l.subgroup !== m.subgroup || l.shard !== m.shard);
    r.state = { ...r.state, logs: [...others, { subgroup: m.subgroup, shard: m.shard, newestVersion: m.throughVersion, newestHlc: sp.hlc }] };
    this.out.push({ kind: 'appendLogTail', subgroup: m.subgroup, shard: m.shard, afterVersion: m.afterVersion, throughVersion: m.throughVersion, tail: m.tail });
    this.advanceEntering();
  }

  /** Truncation outputs, each that drops versions with a note saying so and why. */
  private truncate(truncations: readonly Truncation[], consequence: string | undefined): void {
    for (const t of truncations) {
      if (t.drops !== undefined) this.note('info', `node ${this.myId} drops the versions of subgroup ${t.subgroup} shard ${t.shard} after ${formatVersion(t.afterVersion)} (its log ends at ${formatVersion(t.drops)}): ${t.reason}${consequence === undefined ? '' : `; ${consequence}`}`);
      this.out.push({ kind: 'truncateLog', subgroup: t.subgroup, shard: t.shard, afterVersion: t.afterVersion });
    }
  }

  /** The HLC each shard of mine continues from in the restart view: the newest any log held. */
  private restartFloors(view: GroupView, plan: RestartPlan): ReadonlyMap<number, Hlc> {
    const floors = new Map<number, Hlc>();
    for (const sp of plan.shards) if (view.subgroups[sp.subgroup]?.shards[sp.shard]?.members.includes(this.myId)) floors.set(sp.subgroup, sp.hlc);
    return floors;
  }

  /** A view to enter: view 0 from the contact, or a running group's view from its new rank 0. */
  private onView(from: number, view: GroupView, transfers: readonly StateTransfer[] | undefined): void {
    const p = this.phase;
    const forming = p.kind === 'forming' && from === this.myId;
    // A joiner takes the highest view it is sent (a leader may fail and its successor send another).
    const replaces = p.kind === 'entering' && !p.tableRequested && view.vid > p.view.vid;
    if (!(forming || p.kind === 'asking' || p.kind === 'redirected' || replaces)) return;
    if (!view.members.some((m) => m.id === this.myId)) return;
    if (view.vid === 0 && transfers === undefined && !forming && from !== this.formationLeader(p)) return;
    this.phase = { kind: 'entering', view, from, transfers, tableRequested: false, table: undefined };
    const others = view.members.filter((m) => m.id !== this.myId && !this.connectedPeers.has(m.id));
    if (others.length > 0) this.out.push({ kind: 'connect', peers: others });
    this.advanceEntering();
  }

  private formationLeader(p: Phase): number | undefined {
    return p.kind === 'asking' ? p.to : undefined;
  }

  /** What an entering joiner still waits for, for its timeout error. */
  private enteringWait(p: Extract<Phase, { kind: 'entering' }>): string {
    const missing = p.view.members.filter((m) => m.id !== this.myId && !this.connectedPeers.has(m.id)).map((m) => m.id);
    if (missing.length > 0) return `it could not connect to nodes ${missing.join(', ')} of view ${p.view.vid}`;
    const states = (p.transfers ?? []).filter((t) => t.to === this.myId && !this.states.has(`${p.view.vid}:${t.subgroup}`));
    if (states.length > 0) return `the state of subgroups ${states.map((t) => t.subgroup).join(', ')} for view ${p.view.vid} did not arrive`;
    if (p.restart !== undefined && p.restart.awaitedTails.size > 0) return `the log tails of subgroup:shard ${[...p.restart.awaitedTails].join(', ')} for restart view ${p.view.vid} did not arrive`;
    if (p.restart !== undefined) return `restart view ${p.view.vid} did not start (waiting for the start from the restart leader, node ${p.from})`;
    return `view ${p.view.vid} did not start (waiting for the contact's start barrier)`;
  }

  private advanceEntering(): void {
    const p = this.phase;
    if (p.kind !== 'entering' || p.tableRequested) return;
    if (!p.view.members.every((m) => m.id === this.myId || this.connectedPeers.has(m.id))) return;
    const mine = (p.transfers ?? []).filter((t) => t.to === this.myId);
    if (!mine.every((t) => this.states.has(`${p.view.vid}:${t.subgroup}`))) return;
    if (p.restart !== undefined && p.restart.awaitedTails.size > 0) return;
    for (const t of mine) this.out.push({ kind: 'installState', view: p.view, subgroup: t.subgroup, state: this.states.get(`${p.view.vid}:${t.subgroup}`)!.state });
    p.tableRequested = true;
    this.out.push({ kind: 'createTable', view: p.view });
  }

  private onTableReady(vid: number, table: ArrayBuffer): void {
    // Tables are ready in the order they were asked for: the first ones after an abandoned restart view are its.
    if (this.staleTables > 0) {
      this.staleTables--;
      return;
    }
    const p = this.phase;
    if (p.kind === 'entering' && p.view.vid === vid && p.tableRequested && p.table === undefined) {
      p.table = table;
      if (p.transfers === undefined) this.sendControl(p.from, { type: 'ready', vid });
      else this.startFirstView(p.view, table, this.takeFloors(p.view.vid, p.transfers.filter((t) => t.to === this.myId)));
    } else if (p.kind === 'installing' && p.view.vid === vid && p.tableRequested) {
      const floors = this.takeFloors(vid, p.mine);
      this.phase = { kind: 'running' };
      this.stall = { sinceUs: this.nowUs, reported: undefined };
      this.out.push({ kind: 'viewStarted', view: p.view, removed: p.removed, joined: p.joined, first: false });
      this.fromViewManager(this.vm!.step({ kind: 'viewTableReady', vid, table, hlcFloors: floors }));
      // Joiners that could not be reached are suspected in the new view like any failed member.
      for (const j of p.joined) if (!this.connectedPeers.has(j.id) && this.phase.kind === 'running') this.toViewManager({ kind: 'peerFailed', node: j.id });
    } else {
      invariant(false, 'a table is ready only when one was asked for', () => `vid ${vid}, phase ${p.kind}`);
    }
  }

  /** The HLC each received shard state came with; the states are consumed. */
  private takeFloors(vid: number, mine: readonly StateTransfer[]): ReadonlyMap<number, Hlc> {
    const floors = new Map<number, Hlc>();
    for (const t of mine) {
      const key = `${vid}:${t.subgroup}`;
      floors.set(t.subgroup, this.states.get(key)!.hlc);
      this.states.delete(key);
    }
    return floors;
  }

  private startFirstView(view: GroupView, table: ArrayBuffer, hlcFloors: ReadonlyMap<number, Hlc> | undefined): void {
    this.vm = new ViewManager({
      view,
      myId: this.myId,
      table,
      allocate: this.options.allocateNext,
      heartbeatIntervalUs: this.options.heartbeatIntervalUs,
      partitionSafety: this.options.partitionSafety,
      payloadChunks: this.options.payloadChunks,
      hlcFloors,
    });
    this.phase = { kind: 'running' };
    this.formation = undefined;
    this.restart = undefined;
    this.earlyTails.clear();
    this.deferredReason = undefined;
    this.stall = { sinceUs: this.nowUs, reported: undefined };
    this.out.push({ kind: 'viewStarted', view, removed: [], joined: [], first: true });
    // Writes that peers made after their own start may already be in the table.
    this.fromViewManager(this.vm.step({ kind: 'rowsChanged' }));
  }

  private failJoin(message: string): void {
    this.phase = { kind: 'stopped' };
    this.out.push({ kind: 'joinFailed', message });
  }

  // ---- running: the view manager, and installing its views ----

  private toViewManager(input: MembershipInput): void {
    const p = this.phase;
    if (p.kind !== 'running' && p.kind !== 'installing') {
      // Application inputs before the group runs are the caller's mistake; network ones are late.
      if (input.kind === 'send' || input.kind === 'sendBatch' || input.kind === 'reportFailure' || input.kind === 'leave') {
        throw new Error(`${input.kind}: node ${this.myId} has no running view yet (phase ${p.kind})`);
      }
      return;
    }
    // A persistence report for an earlier view is late: that view waited for what it needed
    // before it ended, and its versions mean nothing to the current core.
    if (input.kind === 'persisted' && versionVid(input.version) !== this.vm!.vid) {
      this.note('debug', `a persistence report of ${formatVersion(input.version)} for an earlier view; dropped in view ${this.vm!.vid}`);
      return;
    }
    this.fromViewManager(this.vm!.step(input));
  }

  private fromViewManager(outputs: readonly MembershipOutput[]): void {
    for (const o of outputs) {
      switch (o.kind) {
        case 'installView':
          this.out.push({ ...o, kind: 'installing' });
          this.beginInstall(o.view, o.removed, o.joined, o.stateTransfers);
          break;
        case 'sendView':
          this.sendControl(o.to.id, { type: 'view', view: o.view, stateTransfers: o.stateTransfers });
          break;
        case 'joinRedirect':
          this.sendControl(o.to.id, { type: 'redirect', leader: o.leader });
          break;
        case 'joinRefused':
          this.sendControl(o.to.id, { type: 'refused', code: o.code, message: o.message });
          break;
        case 'joinDeferred':
          this.sendControl(o.to.id, { type: 'deferred', message: o.message });
          break;
        case 'shutdown':
          this.phase = { kind: 'stopped' };
          this.out.push(o);
          break;
        default:
          this.out.push(o);
      }
    }
  }

  private beginInstall(view: GroupView, removed: readonly number[], joined: readonly MemberAddress[], transfers: readonly StateTransfer[]): void {
    if (removed.length > 0) {
      for (const id of removed) this.connectedPeers.delete(id);
      this.out.push({ kind: 'dropPeers', nodes: removed, reason: `removed from the group in view ${view.vid}` });
    }
    const toConnect = joined.filter((j) => !this.connectedPeers.has(j.id));
    if (toConnect.length > 0) this.out.push({ kind: 'connect', peers: toConnect });
    this.phase = {
      kind: 'installing',
      view,
      removed,
      joined,
      mine: transfers.filter((t) => t.to === this.myId),
      joinersDeadlineUs: this.nowUs + this.options.joinerConnectTimeoutUs,
      statesDeadlineUs: this.nowUs + this.options.stateTimeoutUs,
      tableRequested: false,
    };
    this.advanceInstall();
  }

  private advanceInstall(): void {
    const p = this.phase;
    if (p.kind !== 'installing' || p.tableRequested) return;
    const missingStates = p.mine.filter((t) => !this.states.has(`${p.view.vid}:${t.subgroup}`));
    if (missingStates.length > 0) {
      if (this.nowUs >= p.statesDeadlineUs) {
        this.phase = { kind: 'stopped' };
        this.out.push({ kind: 'shutdown', reason: 'failed', message: `node ${this.myId} moves into shards of view ${p.view.vid}, but the state of subgroups ${missingStates.map((t) => t.subgroup).join(', ')} did not arrive within ${Math.round(this.options.stateTimeoutUs / 1000)} ms` });
      }
      return;
    }
    const unreachable = p.joined.filter((j) => !this.connectedPeers.has(j.id));
    if (unreachable.length > 0 && this.nowUs < p.joinersDeadlineUs) return;
    if (unreachable.length > 0) this.note('warn', `joiners ${unreachable.map((j) => j.id).join(', ')} of view ${p.view.vid} could not be reached; they are suspected in it`);
    for (const t of p.mine) this.out.push({ kind: 'installState', view: p.view, subgroup: t.subgroup, state: this.states.get(`${p.view.vid}:${t.subgroup}`)!.state });
    p.tableRequested = true;
    this.out.push({ kind: 'createTable', view: p.view });
  }

  /**
   * A wedged group is never silent: once a view change has taken `stallReportUs`, say (once per
   * distinct reason) what the protocol waits for, and say so again when it moves on.
   */
  private watchStall(): void {
    const reason = this.phase.kind === 'installing' ? this.installWait() : this.vm!.stallReason();
    if (reason === undefined) {
      if (this.stall.reported !== undefined) this.note('info', `view ${this.vm!.vid}: the group is moving again`);
      this.stall = { sinceUs: this.nowUs, reported: undefined };
      return;
    }
    if (Number.isNaN(this.stall.sinceUs)) this.stall.sinceUs = this.nowUs;
    const stalledUs = this.nowUs - this.stall.sinceUs;
    if (stalledUs < this.options.stallReportUs || reason === this.stall.reported) return;
    this.stall.reported = reason;
    this.note('warn', `no new view for ${Math.round(stalledUs / 1000)} ms: ${reason}`);
  }

  private installWait(): string {
    const p = this.phase as Extract<Phase, { kind: 'installing' }>;
    const states = p.mine.filter((t) => !this.states.has(`${p.view.vid}:${t.subgroup}`)).map((t) => `${t.subgroup} (from node ${t.from})`);
    if (states.length > 0) return `installing view ${p.view.vid}: waiting for the state of subgroups ${states.join(', ')}`;
    return `installing view ${p.view.vid}: connecting to joiners ${p.joined.filter((j) => !this.connectedPeers.has(j.id)).map((j) => j.id).join(', ')}`;
  }

  // ---- outputs ----

  private sendControl(to: number, message: ControlMessage): void {
    if (to === this.myId) this.toSelf.push(message);
    else this.out.push({ kind: 'sendControl', to, message });
  }

  private note(level: 'debug' | 'info' | 'warn', message: string): void {
    this.out.push({ kind: 'note', level, message });
  }
}
