/**
 * The restart leader's pure decisions (reference §2.13): the version a ragged trim lets through,
 * what a restart quorum needs, and the plan's choice of log, tails and HLC floor.
 */
import { expect } from 'chai';
import { lateTruncations } from '../../src/core/member/restart-follower.js';
import { RestartLeader } from '../../src/core/member/restart-leader.js';
import { assessRestart, leadsRestartBefore, planRestart, type RestartCandidate } from '../../src/core/member/restart-plan.js';
import { trimVersion, type RestartState } from '../../src/core/member/restart-state.js';
import type { GroupSubgroup } from '../../src/core/membership/group-view.js';
import type { AllocateNextView } from '../../src/core/membership/next-view.js';
import { addr, params } from '../membership/vm-harness.js';
import { lastView, persistentGroup, v } from './restart-harness.js';

function candidate(id: number, vid: number, newest: bigint | undefined, wallUs = 0): RestartCandidate {
  const state: RestartState = {
    identity: { cluster: 'c', schema: 's' },
    view: lastView([1, 2, 3], vid),
    trims: [],
    logs: newest === undefined ? [] : [{ subgroup: 0, shard: 0, newestVersion: newest, newestHlc: { wallUs, logical: 0 } }],
  };
  return { member: addr(id), state };
}

/** Two persistent shards: nodes 1-2 and 3-4. */
const twoShards: AllocateNextView = (ids) => [
  { type: 'T', index: 0, shards: [{ members: ids.filter((id) => id <= 2), senders: ids.filter((id) => id <= 2).map(() => true), mode: 'persistent' }, { members: ids.filter((id) => id > 2), senders: ids.filter((id) => id > 2).map(() => true), mode: 'persistent' }], params },
] as GroupSubgroup[];

describe('core/member: restart plan', () => {
  it('a trim lets through the largest index × senders + rank; an empty one keeps only earlier views', () => {
    expect(trimVersion({ vid: 5, subgroup: 0, shard: 0, shardLeader: 1, throughIndex: [2, 4, -1] })).to.equal(v(5, 13));
    expect(trimVersion({ vid: 5, subgroup: 0, shard: 0, shardLeader: 1, throughIndex: [-1, -1] })).to.equal(v(5, 0) - 1n);
  });

  it('restart leaders: the newer last view first, then the configured order, else the lower id', () => {
    expect(leadsRestartBefore({ id: 3, vid: 5 }, { id: 1, vid: 4 }, undefined)).to.equal(true);
    expect(leadsRestartBefore({ id: 1, vid: 5 }, { id: 3, vid: 5 }, undefined)).to.equal(true);
    expect(leadsRestartBefore({ id: 1, vid: 5 }, { id: 3, vid: 5 }, [3, 1])).to.equal(false);
    expect(leadsRestartBefore({ id: 2, vid: 5 }, { id: 3, vid: 5 }, [3, 1])).to.equal(false);
    expect(leadsRestartBefore({ id: 3, vid: 5 }, { id: 3, vid: 5 }, undefined)).to.equal(false);
  });

  it('a quorum needs a majority, a former member of every persistent shard, and an adequate layout', () => {
    const view = { vid: 3, members: [1, 2, 3, 4].map(addr), subgroups: twoShards([1, 2, 3, 4], { vid: -1, members: [], subgroups: [] }) };
    const c = (id: number): RestartCandidate => ({ member: addr(id), state: { identity: { cluster: 'c', schema: 's' }, view, trims: [], logs: [] } });
    const noShard1 = assessRestart([c(1), c(2)], twoShards);
    expect(noShard1.quorum).to.equal(false);
    expect(!noShard1.quorum && noShard1.why).to.equal('the restart needs a majority of view 3 (3 of its 4 members; 2 back); a former member of T[0] shard 1 (nodes 3, 4)');
    expect(assessRestart([c(1), c(2), c(3)], twoShards).quorum).to.equal(true);
    const inadequate = assessRestart([c(1), c(2), c(3)], persistentGroup(4));
    expect(!inadequate.quorum && inadequate.why).to.match(/^the restart needs members enough for the layout/);
  });

  it('the newest logged view decides; the restart view continues its vid with the former members first', () => {
    const a = assessRestart([candidate(3, 4, v(4, 1)), candidate(2, 5, v(5, 0)), candidate(1, 5, v(5, 2))], persistentGroup());
    expect(a.quorum && a.view.vid).to.equal(6);
    expect(a.quorum && a.view.members.map((m) => m.id)).to.deep.equal([1, 2, 3]);
  });

  it('without a logged trim the longest log wins; the floor is the newest HLC; everyone behind gets a tail', () => {
    const cs = [candidate(1, 5, v(5, 2), 30), candidate(2, 5, v(5, 6), 70), candidate(3, 5, undefined)];
    const a = assessRestart(cs, persistentGroup());
    if (!a.quorum) throw new Error(a.why);
    const [shard] = planRestart(cs, a.view, a.lastView).shards;
    expect(shard).to.deep.include({ keepThrough: v(5, 6), source: 2, hlc: { wallUs: 70, logical: 0 } });
    expect(shard.tails).to.deep.equal([
      { to: 1, afterVersion: v(5, 2) },
      { to: 3, afterVersion: -1n },
    ]);
  });
});

describe('core/member: restart plan over two shards', () => {
  it('each shard keeps its own longest log within its own trim, with tails only to its own members', () => {
    const view = { vid: 5, members: [1, 2, 3, 4].map(addr), subgroups: twoShards([1, 2, 3, 4], { vid: -1, members: [], subgroups: [] }) };
    const hlcOf = (wallUs: number) => ({ wallUs, logical: 0 });
    const c = (id: number, logs: RestartState['logs'], trims: RestartState['trims'] = []): RestartCandidate => ({ member: addr(id), state: { identity: { cluster: 'c', schema: 's' }, view, trims, logs } });
    // Shard 1 (nodes 3, 4; 2 senders) ended view 5 with a trim through index 1 of each: seq 3 (1*2+1).
    const trim = { vid: 5, subgroup: 0, shard: 1, shardLeader: 3, throughIndex: [1, 1] };
    const cs = [
      c(1, [{ subgroup: 0, shard: 0, newestVersion: v(5, 4), newestHlc: hlcOf(40) }]),
      c(2, [{ subgroup: 0, shard: 0, newestVersion: v(5, 2), newestHlc: hlcOf(20) }]),
      c(3, [{ subgroup: 0, shard: 1, newestVersion: v(5, 7), newestHlc: hlcOf(70) }], [trim]),
      c(4, [], [trim]),
    ];
    const a = assessRestart(cs, twoShards);
    if (!a.quorum) throw new Error(a.why);
    const [s0, s1] = planRestart(cs, a.view, a.lastView).shards;
    expect(s0).to.deep.include({ subgroup: 0, shard: 0, keepThrough: v(5, 4), source: 1, tails: [{ to: 2, afterVersion: v(5, 2) }], hlc: hlcOf(40) });
    expect(s1).to.deep.include({ subgroup: 0, shard: 1, keepThrough: v(5, 3), source: 3, tails: [{ to: 4, afterVersion: -1n }], hlc: hlcOf(70) });
    expect(s1.reason).to.equal("the ragged trim of view 5 (logged by nodes 3, 4) ends at 5.3; node 3's log is the longest within it (through 5.3)");
  });
});

describe('core/member: restart leader', () => {
  const leader = () => new RestartLeader({ me: addr(1), state: candidate(1, 5, v(5, 1)).state, allocate: persistentGroup(), restartTimeoutUs: 1000, nowUs: 0 });

  it('refuses logs of another cluster, and a log newer than its own restart log, explaining why', () => {
    const l = leader();
    const other = candidate(2, 5, v(5, 1));
    expect(l.onState(other.member, { ...other.state, identity: { cluster: 'staging', schema: 's' } }, 10)).to.deep.equal([
      { kind: 'refuse', to: 2, message: `node 2's logs belong to cluster "staging", not "c": the restart led by node 1 refuses them; point the node at its own cluster's log directory, or remove its logs to join as a new member` },
    ]);
    const ahead = candidate(3, 5, v(6, 0));
    const [out] = l.onState(ahead.member, ahead.state, 10);
    expect(out).to.deep.include({ kind: 'refuse', to: 3 });
    expect((out as { message: string }).message).to.match(/^node 3's log of T\[0\] shard 0 holds version 6\.0, newer than view 5/);
    expect(l.memberIds).to.deep.equal([1]);
  });

  it('announces once all of the last view are back, then releases the start barrier when all are ready', () => {
    const l = leader();
    expect(l.onState(addr(2), candidate(2, 5, v(5, 3)).state, 10)).to.deep.equal([{ kind: 'defer', to: 2, message: 'the restart led by node 1 has a quorum and waits up to 1 ms for nodes 3 of view 5' }]);
    const announced = l.onState(addr(3), candidate(3, 5, undefined).state, 20);
    expect(announced.map((o) => `${o.kind}->${'to' in o ? o.to : ''}`)).to.deep.equal(['announce->1', 'announce->2', 'announce->3']);
    expect(l.onReady(1, 6)).to.deep.equal([]);
    expect(l.onReady(2, 6)).to.deep.equal([]);
    expect(l.onReady(3, 5)).to.deep.equal([]);
    expect(l.onReady(3, 6).map((o) => o.kind)).to.deep.equal(['start', 'start', 'start']);
  });
});

describe('core/member: a late member and what the restart kept', () => {
  const kept = { vid: 6, shards: [{ subgroup: 0, shard: 0, keepThrough: v(5, 3) }] };
  const log = (newest: bigint) => [{ subgroup: 0, shard: 0, newestVersion: newest, newestHlc: { wallUs: 1, logical: 0 } }];

  it('a member last in a view before the restart drops what the restart did not keep', () => {
    expect(lateTruncations(kept, 5, log(v(5, 6)))).to.deep.equal([{ subgroup: 0, shard: 0, afterVersion: v(5, 3), drops: v(5, 6), reason: 'the group restarted in view 6 keeping only those' }]);
    expect(lateTruncations(kept, 5, log(v(5, 2)))).to.deep.equal([]);
  });

  it('a member that took part in the new run keeps its versions of it', () => {
    expect(lateTruncations(kept, 7, log(v(7, 4)))).to.deep.equal([]);
  });
});
