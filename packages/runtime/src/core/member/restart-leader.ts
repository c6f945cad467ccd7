/**
 * The restart leader (reference §2.13): collects the restart states of the members coming back,
 * waits for a restart quorum and then a grace period for more of them (or until all of the last
 * view are back), plans the restart and announces the first view of the new run with the plan,
 * then releases everyone at once when all are ready (the start barrier of formation). Without a
 * quorum after `restartTimeoutUs` it fails, naming who is missing.
 *
 * Sans-I/O: time arrives with `tick`; outputs are messages for the Member to send.
 */
import { invariant } from '../invariant.js';
import type { MemberAddress } from '../membership/group-view.js';
import type { AllocateNextView } from '../membership/next-view.js';
import { assessRestart, inconsistentLog, planRestart, type RestartCandidate, type RestartPlan } from './restart-plan.js';
import type { RestartState } from './restart-state.js';

export type RestartLeaderOutput =
  /** Tell a restarting member why the restart has not happened yet (its join deadline error says it). */
  | { readonly kind: 'defer'; readonly to: number; readonly message: string }
  /** Refuse a member for good (another cluster or schema, an inconsistent log). */
  | { readonly kind: 'refuse'; readonly to: number; readonly message: string }
  /** The quorum is in: send the first view of the new run and the plan to every member of it. */
  | { readonly kind: 'announce'; readonly to: number; readonly plan: RestartPlan }
  /** Every member of the restart view is ready: release them. */
  | { readonly kind: 'start'; readonly to: number; readonly vid: number }
  /** No quorum within the restart timeout: the restart failed (the leader stops). */
  | { readonly kind: 'fail'; readonly message: string };

export interface RestartLeaderOptions {
  readonly me: MemberAddress;
  readonly state: RestartState;
  readonly allocate: AllocateNextView;
  /** The grace for more members once there is a quorum, and the limit for reaching one at all. */
  readonly restartTimeoutUs: number;
  readonly nowUs: number;
}

export class RestartLeader {
  private readonly candidates = new Map<number, RestartCandidate>();
  private readonly sinceUs: number;
  /** When the current quorum was first reached (undefined: no quorum now). */
  private quorumSinceUs: number | undefined;
  private plan: RestartPlan | undefined;
  private readonly ready = new Set<number>();
  private lastWhy: string | undefined;

  constructor(private readonly options: RestartLeaderOptions) {
    this.sinceUs = options.nowUs;
    this.candidates.set(options.me.id, { member: options.me, state: options.state });
  }

  /** The restart view and plan, once announced. */
  get announced(): RestartPlan | undefined {
    return this.plan;
  }

  /** Restarting members whose state this leader holds (itself included). */
  get memberIds(): number[] {
    return [...this.candidates.keys()];
  }

  /** A member's restart state arrived (again, after a retry: the newer one counts). */
  onState(member: MemberAddress, state: RestartState, nowUs: number): RestartLeaderOutput[] {
    const mine = this.options.state.identity;
    if (state.identity.cluster !== mine.cluster || state.identity.schema !== mine.schema) {
      const what = state.identity.cluster !== mine.cluster ? `cluster "${state.identity.cluster}", not "${mine.cluster}"` : `schema ${state.identity.schema}, not ${mine.schema} (the replicated types or their layout changed)`;
      return [{ kind: 'refuse', to: member.id, message: `node ${member.id}'s logs belong to ${what}: the restart led by node ${this.options.me.id} refuses them; point the node at its own cluster's log directory, or remove its logs to join as a new member` }];
    }
    const inconsistent = inconsistentLog(member.id, state);
    if (inconsistent !== undefined) return [{ kind: 'refuse', to: member.id, message: inconsistent }];
    if (this.plan !== undefined) return [{ kind: 'defer', to: member.id, message: `the restart led by node ${this.options.me.id} is installing view ${this.plan.view.vid} without this node; it joins once the group runs` }];
    this.candidates.set(member.id, { member, state });
    return this.evaluate(nowUs, member.id);
  }

  /** A restarting member was lost before the restart view was announced. */
  onLost(id: number, nowUs: number): RestartLeaderOutput[] {
    if (this.plan !== undefined || id === this.options.me.id || !this.candidates.delete(id)) return [];
    return this.evaluate(nowUs, undefined);
  }

  tick(nowUs: number): RestartLeaderOutput[] {
    if (this.plan !== undefined) return [];
    return this.evaluate(nowUs, undefined);
  }

  onReady(from: number, vid: number): RestartLeaderOutput[] {
    const view = this.plan?.view;
    if (view === undefined || vid !== view.vid || !view.members.some((m) => m.id === from) || this.ready.size === view.members.length) return [];
    this.ready.add(from);
    if (this.ready.size < view.members.length) return [];
    return view.members.map((m) => ({ kind: 'start', to: m.id, vid: view.vid }) as const);
  }

  /** Checks the quorum: announces, fails, or says why it waits. */
  private evaluate(nowUs: number, newcomer: number | undefined): RestartLeaderOutput[] {
    const candidates = [...this.candidates.values()];
    const a = assessRestart(candidates, this.options.allocate);
    if (!a.quorum) {
      this.quorumSinceUs = undefined;
      const missing = a.missing.length > 0 ? `; missing: nodes ${a.missing.join(', ')}` : '';
      if (nowUs - this.sinceUs >= this.options.restartTimeoutUs) {
        return [
          {
            kind: 'fail',
            message: `total restart from the logs of view ${a.lastView.vid} failed: no restart quorum within ${Math.round(this.options.restartTimeoutUs / 1000)} ms (back: nodes ${this.memberIds.sort((x, y) => x - y).join(', ')}${missing}): ${a.why}. Start the missing members, or raise restart.timeoutMs`,
          },
        ];
      }
      return this.deferAll(`the restart led by node ${this.options.me.id} waits: ${a.why}${missing}`, newcomer);
    }
    this.quorumSinceUs ??= nowUs;
    const allBack = a.missing.length === 0;
    if (!allBack && nowUs - this.quorumSinceUs < this.options.restartTimeoutUs) {
      return this.deferAll(`the restart led by node ${this.options.me.id} has a quorum and waits up to ${Math.round(this.options.restartTimeoutUs / 1000)} ms for nodes ${a.missing.join(', ')} of view ${a.lastView.vid}`, newcomer);
    }
    return this.announce(planRestart(candidates, a.view, a.lastView));
  }

  /** Tells the newcomer, and everyone when the reason changed, why the restart waits. */
  private deferAll(message: string, newcomer: number | undefined): RestartLeaderOutput[] {
    const changed = message !== this.lastWhy;
    this.lastWhy = message;
    const to = changed ? this.memberIds.filter((id) => id !== this.options.me.id) : newcomer !== undefined ? [newcomer] : [];
    return to.map((id) => ({ kind: 'defer', to: id, message }) as const);
  }

  private announce(plan: RestartPlan): RestartLeaderOutput[] {
    invariant(this.plan === undefined, 'a restart view is announced once', () => `view ${this.plan!.view.vid}`);
    invariant(
      plan.view.members.every((m) => this.candidates.has(m.id)),
      'the restart view holds only members that sent their state',
      () => plan.view.members.map((m) => m.id).join(','),
    );
    this.plan = plan;
    return plan.view.members.map((m) => ({ kind: 'announce', to: m.id, plan }) as const);
  }
}
