/**
 * Group formation, leader side (reference §2.12, "initial startup"): the leader collects joiners
 * until the first view is adequate, then announces view 0 to everyone and waits until every member
 * has its SST ready before releasing them all at once (the start barrier that replaces Derecho's
 * sync_with_members: nobody pushes into a table another member has not initialised yet).
 *
 * Sans-I/O: inputs are join requests and readiness reports with the node they came from; outputs
 * are messages to send. Allocation is injected so this file stays free of layout policy.
 */
import { invariant } from '../invariant.js';
import type { GroupSubgroup, GroupView, MemberAddress } from './group-view.js';

/** Computes the subgroups of a candidate view, or undefined when the members are not enough. */
export type AllocateSubgroups = (memberIds: readonly number[]) => readonly GroupSubgroup[] | undefined;

export type FormationOutput =
  | { readonly kind: 'refuse'; readonly to: number; readonly code: 'idInUse' | 'formed'; readonly message: string }
  /** The joiner is counted; the group forms once enough members joined (`message` says how many). */
  | { readonly kind: 'defer'; readonly to: number; readonly message: string }
  | { readonly kind: 'announce'; readonly to: number; readonly view: GroupView }
  | { readonly kind: 'start'; readonly to: number; readonly vid: number };

export interface FormationOptions {
  readonly leader: MemberAddress;
  readonly allocate: AllocateSubgroups;
  /** Wait for at least this many members (leader included) even when fewer are adequate. */
  readonly minMembers?: number;
}

export class GroupFormation {
  private readonly members: MemberAddress[];
  private view: GroupView | undefined;
  private readonly ready = new Set<number>();
  private started = false;

  constructor(private readonly options: FormationOptions) {
    this.members = [options.leader];
  }

  /** The announced view 0, once the group has formed. */
  get formedView(): GroupView | undefined {
    return this.view;
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** The leader alone may already be an adequate group. */
  start(): FormationOutput[] {
    return this.tryForm();
  }

  onJoinRequest(joiner: MemberAddress): FormationOutput[] {
    if (this.view !== undefined) {
      return [{ kind: 'refuse', to: joiner.id, code: 'formed', message: `the group already formed view ${this.view.vid}; joining a running group needs the membership protocol` }];
    }
    const holder = this.members.find((m) => m.id === joiner.id);
    if (holder !== undefined && (holder.host !== joiner.host || holder.port !== joiner.port)) {
      return [{ kind: 'refuse', to: joiner.id, code: 'idInUse', message: `node id ${joiner.id} is already in use by a member of the forming group` }];
    }
    // A joiner that asks again (same address) is already counted: it hears the same answer.
    if (holder === undefined) this.members.push(joiner);
    const outputs = this.tryForm();
    if (this.view !== undefined) return outputs;
    return [{ kind: 'defer', to: joiner.id, message: this.waitingFor() }];
  }

  /** Why the group has not formed yet. */
  private waitingFor(): string {
    const min = this.options.minMembers ?? 1;
    if (this.members.length < min) return `the group forms once ${min} members have joined; ${this.members.length} so far`;
    return `the layout needs more members than the ${this.members.length} that have joined`;
  }

  /** A joiner that disappears before the view forms is forgotten. */
  onJoinerLost(id: number): FormationOutput[] {
    if (this.view !== undefined || id === this.options.leader.id) return [];
    const i = this.members.findIndex((m) => m.id === id);
    if (i >= 0) this.members.splice(i, 1);
    return [];
  }

  onReady(from: number, vid: number): FormationOutput[] {
    const view = this.view;
    if (view === undefined || vid !== view.vid || this.started) return [];
    if (!view.members.some((m) => m.id === from)) return [];
    this.ready.add(from);
    if (this.ready.size < view.members.length) return [];
    this.started = true;
    return view.members.map((m) => ({ kind: 'start', to: m.id, vid: view.vid }) as const);
  }

  private tryForm(): FormationOutput[] {
    if (this.members.length < (this.options.minMembers ?? 1)) return [];
    const ids = this.members.map((m) => m.id);
    const subgroups = this.options.allocate(ids);
    if (subgroups === undefined) return [];
    for (const sg of subgroups)
      for (const shard of sg.shards)
        for (const id of shard.members) invariant(ids.includes(id), 'allocation uses only members', () => `node ${id} in ${sg.type}[${sg.index}] is not among ${ids.join(',')}`);
    const view: GroupView = { vid: 0, members: [...this.members], subgroups };
    this.view = view;
    return view.members.map((m) => ({ kind: 'announce', to: m.id, view }) as const);
  }
}
