/**
 * Total restart under random start orders, delays, logs, trims, absences and one crash, checked
 * against reference §2.15 item 10 (`checkTotalRestart`) and for safety: at most one restart view
 * starts, and everyone that starts it starts the same one. Virtual time over the in-test pump.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { checkTotalRestart } from '../../src/core/member/restart-check.js';
import type { RestartPlan } from '../../src/core/member/restart-plan.js';
import type { RestartTrim } from '../../src/core/member/restart-state.js';
import { lastView, logOf, MS, RestartPump } from './restart-harness.js';

/** A small deterministic generator (mulberry32) so a failing interleaving replays from its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every member's log is a prefix of one history: 5 versions of view 4, then 12 of view 5. */
const HISTORY = [...logOf(4, 5), ...logOf(5, 12)];

const scenario = fc
  .integer({ min: 3, max: 5 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      logLengths: fc.array(fc.integer({ min: 0, max: HISTORY.length }), { minLength: n, maxLength: n }),
      /** The ragged trim of view 5 as each member logged it (undefined: none logged), as the index every sender reached. */
      trimIndex: fc.option(fc.integer({ min: -1, max: 3 }), { nil: undefined }),
      trimLoggedBy: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      startAtMs: fc.array(fc.option(fc.integer({ min: 0, max: 1500 }), { nil: undefined, freq: 6 }), { minLength: n, maxLength: n }),
      crash: fc.option(fc.record({ node: fc.integer({ min: 1, max: n }), atMs: fc.integer({ min: 0, max: 3000 }) }), { nil: undefined }),
      /** Members removed in view 5 (their last view is 4, their log ends in it), unless that is half or more. */
      removed: fc.array(fc.integer({ min: 0, max: 3 }).map((x) => x === 0), { minLength: n, maxLength: n }),
      /** Seeds the interleaving of deliveries (undefined: FIFO). */
      interleaving: fc.option(fc.integer(), { nil: undefined }),
    }),
  );

describe('core/member: total restart swarm', () => {
  it('random orders, delays, logs, trims, absences and a crash: one restart view at most, and it keeps exactly the longest log within the trim', () => {
    const runs = Number(process.env.RESTART_SWARM_RUNS ?? 150);
    let restarted = 0;
    let failedNamingMissing = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const ids = Array.from({ length: s.n }, (_, i) => i + 1);
        // View 5 keeps a majority of view 4 (partition safety: a view change never removes half).
        const flagged = ids.filter((_, i) => s.removed[i]);
        const removed = new Set(flagged.length * 2 < s.n ? flagged : []);
        const view4 = lastView(ids, 4);
        const view = lastView(ids.filter((id) => !removed.has(id)), 5);
        const viewOf = (id: number) => (removed.has(id) ? view4 : view);
        const pump = new RestartPump({}, s.interleaving === undefined ? undefined : seeded(s.interleaving));
        const original = new Map(ids.map((id, i) => [id, HISTORY.slice(0, removed.has(id) ? Math.min(s.logLengths[i], 5) : s.logLengths[i])]));
        const trim = (i: number): RestartTrim[] =>
          s.trimIndex !== undefined && s.trimLoggedBy[i] && !removed.has(ids[i]) ? [{ vid: 5, subgroup: 0, shard: 0, shardLeader: view.members[0].id, throughIndex: view.members.map(() => s.trimIndex!) }] : [];
        const starts = ids.flatMap((id, i) => (s.startAtMs[i] === undefined ? [] : [{ id, i, atUs: s.startAtMs[i]! * MS }])).sort((a, b) => a.atUs - b.atUs);
        let crashed = false;
        for (let t = 0; t <= 10_000 * MS; t += 10 * MS) {
          pump.advance(t);
          for (const st of starts.filter((x) => x.atUs === t || (x.atUs < t && x.atUs > t - 10 * MS))) {
            pump.add(st.id, [...original.get(st.id)!]);
            pump.start(st.id, pump.stateOf(st.id, viewOf(st.id), trim(st.i)));
          }
          if (s.crash !== undefined && !crashed && t >= s.crash.atMs * MS && pump.nodes.has(s.crash.node)) {
            pump.crash(s.crash.node);
            crashed = true;
          }
        }
        const started = [...pump.nodes].filter(([, n]) => n.up).flatMap(([id]) => {
          const v = pump.startedView(id);
          return v === undefined ? [] : [{ id, v }];
        });
        if (started.length === 0) {
          // Nobody restarted: every node that is still up either still waits or failed saying why.
          for (const n of [...pump.nodes.values()].filter((x) => x.up && x.stopped !== undefined)) {
            expect(n.stopped).to.match(/restart|refused|did not join/);
            failedNamingMissing++;
          }
          return;
        }
        restarted++;
        // One restart view, the same everywhere it started; it holds a majority of view 5.
        for (const { v } of started) expect(v).to.deep.equal(started[0].v);
        expect(started[0].v.vid).to.equal(6);
        expect(started[0].v.members.filter((m) => !removed.has(m.id)).length).to.be.greaterThan(view.members.length / 2);
        // The plan it started with is the last restartView sent; a tail received in an earlier
        // round (its source lost before the view started) counts: the logs before are those of
        // every member of any announced restart view.
        let plan: RestartPlan | undefined;
        const before = new Map<number, (typeof HISTORY)[number][]>();
        for (const { message } of pump.sentLog) {
          if (message.type !== 'restartView') continue;
          plan = message.plan;
          for (const m of plan.view.members) before.set(m.id, original.get(m.id)!);
        }
        expect(plan!.view).to.deep.equal(started[0].v);
        const [shard] = plan!.shards;
        const after = new Map(started.map(({ id }) => [id, pump.node(id).log]));
        const violations = checkTotalRestart({ subgroup: 0, shard: 0, restartVid: 6, keepThrough: shard.keepThrough, before, after });
        expect(violations, violations.join('\n')).to.deep.equal([]);
        // Late members, sent to the running group, dropped what the restart did not keep before joining.
        for (const [id, n] of pump.nodes) {
          if (!n.up || n.stopped !== undefined || after.has(id)) continue;
          const beyond = n.log.filter((e) => e.version > shard.keepThrough).map((e) => e.version);
          expect(beyond, `late node ${id} (phase ${n.member.phaseName})`).to.deep.equal([]);
        }
      }),
      { numRuns: runs },
    );
    // Most scenarios have a quorum: the property is not vacuous.
    expect(restarted, `${restarted} of ${runs} runs restarted, ${failedNamingMissing} nodes failed`).to.be.greaterThan(runs / 3);
  });
});
