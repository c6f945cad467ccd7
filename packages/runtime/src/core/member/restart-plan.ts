/**
 * The restart leader's decisions (reference §2.13), as pure functions of the restart states it
 * holds: whether they make a restart quorum, the first view of the new run, and per shard the log
 * everyone keeps (the longest one consistent with the last committed ragged trim), who truncates
 * and who receives which tail from whom.
 */
import { compareHlc, HLC_ZERO, type Hlc } from '../hlc.js';
import type { GroupView, MemberAddress } from '../membership/group-view.js';
import type { AllocateNextView } from '../membership/next-view.js';
import { formatVersion, INVALID_VERSION, versionVid, type Version } from '../version.js';
import { trimVersion, type RestartState } from './restart-state.js';

/** A restarting member as the leader knows it: where it listens now, and what it brought. */
export interface RestartCandidate {
  readonly member: MemberAddress;
  readonly state: RestartState;
}

/** One shard's part of the plan. */
export interface ShardRestartPlan {
  readonly subgroup: number;
  readonly shard: number;
  /** Every member drops the versions of this shard after this one (the agreed trim). */
  readonly keepThrough: Version;
  /** The member whose log reaches `keepThrough` and sends the tails (null: nobody holds a version). */
  readonly source: number | null;
  /** Members of the restart view's shard that lack part of the kept log: the tail after `afterVersion`. */
  readonly tails: readonly { readonly to: number; readonly afterVersion: Version }[];
  /** The shard's deliveries in the new run continue after this HLC (the newest any log holds). */
  readonly hlc: Hlc;
  /** Why the kept log ends at `keepThrough` (for the notes of members that truncate). */
  readonly reason: string;
}

export interface RestartPlan {
  /** The first view of the new run: vid = the last logged vid + 1, so versions continue. */
  readonly view: GroupView;
  readonly shards: readonly ShardRestartPlan[];
}

export type RestartAssessment =
  | { readonly quorum: false; readonly lastView: GroupView; readonly missing: readonly number[]; readonly why: string }
  | { readonly quorum: true; readonly lastView: GroupView; readonly missing: readonly number[]; readonly view: GroupView };

/** A restart leader as leaders are ordered: its id and the last view it logged. */
export interface RestartLeaderRank {
  readonly id: number;
  readonly vid: number;
}

/**
 * Whether restart leader `a` goes before `b`: the one with the newer last logged view (a node
 * removed before the last view must not lead), then the configured `restartLeaders` order, else
 * the lower id. Every node orders the same way, so two leaders never both yield or both insist.
 */
export function leadsRestartBefore(a: RestartLeaderRank, b: RestartLeaderRank, restartLeaders: readonly number[] | undefined): boolean {
  if (a.vid !== b.vid) return a.vid > b.vid;
  const rank = (id: number) => (restartLeaders === undefined ? id : restartLeaders.includes(id) ? restartLeaders.indexOf(id) : Number.POSITIVE_INFINITY);
  return rank(a.id) < rank(b.id);
}

/** The newest view any candidate logged (ties: the same view, logged by several). */
export function lastLoggedView(candidates: readonly RestartCandidate[]): GroupView {
  let last = candidates[0].state.view;
  for (const c of candidates) if (c.state.view.vid > last.vid) last = c.state.view;
  return last;
}

/**
 * Shards of `view` whose state a restart must bring back: persistent ones, and any shard some
 * candidate holds field logs of.
 */
export function persistentShards(view: GroupView, candidates: readonly RestartCandidate[]): { subgroup: number; shard: number }[] {
  const shards: { subgroup: number; shard: number }[] = [];
  view.subgroups.forEach((sg, g) =>
    sg.shards.forEach((sh, s) => {
      if (sh.mode === 'persistent' || candidates.some((c) => c.state.logs.some((l) => l.subgroup === g && l.shard === s))) shards.push({ subgroup: g, shard: s });
    }),
  );
  return shards;
}

function shardName(view: GroupView, g: number, s: number): string {
  const sg = view.subgroups[g];
  return sg === undefined ? `subgroup ${g} shard ${s}` : `${sg.type}[${sg.index}] shard ${s}`;
}

/**
 * Whether `candidates` make a restart quorum (§2.13): a majority of the last logged view, at least
 * one former member of every shard holding persistent state, and a first view the allocator can
 * provision. Without one, `why` names what is missing.
 */
export function assessRestart(candidates: readonly RestartCandidate[], allocate: AllocateNextView): RestartAssessment {
  const lastView = lastLoggedView(candidates);
  const present = new Set(candidates.map((c) => c.member.id));
  const former = lastView.members.map((m) => m.id);
  const missing = former.filter((id) => !present.has(id));
  const back = former.length - missing.length;
  const needed = Math.floor(former.length / 2) + 1;
  const lacks: string[] = [];
  if (back < needed) lacks.push(`a majority of view ${lastView.vid} (${needed} of its ${former.length} members; ${back} back)`);
  const orphaned = persistentShards(lastView, candidates).filter(({ subgroup, shard }) => !lastView.subgroups[subgroup].shards[shard].members.some((id) => present.has(id)));
  for (const { subgroup, shard } of orphaned) lacks.push(`a former member of ${shardName(lastView, subgroup, shard)} (nodes ${lastView.subgroups[subgroup].shards[shard].members.join(', ')})`);
  const view = restartView(candidates, lastView);
  let subgroups: GroupView['subgroups'] | undefined;
  if (lacks.length === 0) {
    try {
      subgroups = allocate(view.members.map((m) => m.id), lastView);
    } catch (err) {
      lacks.push(`members enough for the layout (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  if (subgroups === undefined) return { quorum: false, lastView, missing, why: `the restart needs ${lacks.join('; ')}` };
  return { quorum: true, lastView, missing, view: { ...view, subgroups } };
}

/** Members of the first view of the new run: former members in their old order, then the others by id. */
function restartView(candidates: readonly RestartCandidate[], lastView: GroupView): Omit<GroupView, 'subgroups'> {
  const byId = new Map(candidates.map((c) => [c.member.id, c.member]));
  const members: MemberAddress[] = [];
  for (const m of lastView.members) {
    const back = byId.get(m.id);
    if (back !== undefined) members.push(back);
  }
  const others = candidates.filter((c) => !lastView.members.some((m) => m.id === c.member.id)).map((c) => c.member);
  members.push(...others.sort((a, b) => a.id - b.id));
  return { vid: lastView.vid + 1, members };
}

/**
 * A log that holds versions of a view after the last view its own member logged: its restart log
 * is behind its field logs, so which of its versions were ever committed cannot be told. Returns
 * the explanation, or undefined when the state is consistent.
 */
export function inconsistentLog(node: number, state: RestartState): string | undefined {
  for (const l of state.logs) {
    if (l.newestVersion !== INVALID_VERSION && versionVid(l.newestVersion) > state.view.vid) {
      return (
        `node ${node}'s log of ${shardName(state.view, l.subgroup, l.shard)} holds version ${formatVersion(l.newestVersion)}, newer than view ${state.view.vid}, ` +
        `the last view its restart log holds: the restart log is older than the field logs (restored from another backup?), so which versions were committed cannot be told; ` +
        `remove this node's log directory and let it rejoin as a new member`
      );
    }
  }
  return undefined;
}

/**
 * Per shard of the last view: the kept log is the longest one among the candidates, cut at the
 * committed ragged trim of the last view when one was logged (a trim is logged before anyone
 * delivers it, so no version after it was delivered everywhere); without a logged trim, each log's
 * newest version stands for its trim (§2.13's synthesized trim). Members behind receive only the
 * tail they lack from the member that has it.
 */
export function planRestart(candidates: readonly RestartCandidate[], view: GroupView, lastView: GroupView): RestartPlan {
  const shards: ShardRestartPlan[] = [];
  for (const { subgroup, shard } of persistentShards(lastView, candidates)) {
    const held = new Map<number, { newest: Version; hlc: Hlc }>();
    for (const c of candidates) {
      const log = c.state.logs.find((l) => l.subgroup === subgroup && l.shard === shard);
      if (log !== undefined) held.set(c.member.id, { newest: log.newestVersion, hlc: log.newestHlc });
    }
    const trims = candidates.flatMap((c) => (c.state.view.vid === lastView.vid ? c.state.trims.filter((t) => t.vid === lastView.vid && t.subgroup === subgroup && t.shard === shard).map((t) => ({ by: c.member.id, t })) : []));
    let cap: Version | undefined;
    let reason: string;
    if (trims.length > 0) {
      cap = trims.map(({ t }) => trimVersion(t)).reduce((a, b) => (a > b ? a : b));
      reason = `the ragged trim of view ${lastView.vid} (logged by node${trims.length > 1 ? 's' : ''} ${trims.map(({ by }) => by).join(', ')}) ends at ${formatVersion(cap)}`;
    } else reason = `no ragged trim of view ${lastView.vid} was logged, so the longest log wins`;
    let keepThrough = INVALID_VERSION;
    let source: number | null = null;
    let floor = HLC_ZERO;
    for (const [id, { newest, hlc }] of [...held].sort((a, b) => a[0] - b[0])) {
      const kept = cap !== undefined && newest > cap ? cap : newest;
      if (kept > keepThrough) {
        keepThrough = kept;
        source = id;
      }
      if (compareHlc(hlc, floor) > 0) floor = hlc;
    }
    if (source !== null) reason += `; node ${source}'s log is the longest within it (through ${formatVersion(keepThrough)})`;
    const tails: { to: number; afterVersion: Version }[] = [];
    const newShard = view.subgroups[subgroup]?.shards[shard];
    if (source !== null && newShard !== undefined) {
      for (const id of newShard.members) {
        const have = held.get(id)?.newest ?? INVALID_VERSION;
        const after = have > keepThrough ? keepThrough : have;
        if (after < keepThrough) tails.push({ to: id, afterVersion: after });
      }
    }
    shards.push({ subgroup, shard, keepThrough, source, tails, hlc: floor, reason });
  }
  return { view, shards };
}
