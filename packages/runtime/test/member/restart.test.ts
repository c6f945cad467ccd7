/**
 * Total restart (reference §2.13) driven through whole Members over a tiny in-test pump and
 * virtual time: quorum, timeouts, which log wins, truncation, tail-only transfer, late members,
 * an absent restart leader, and a running group found instead of restarted. Every outcome is also
 * checked against §2.15 item 10 (`checkTotalRestart`).
 */
import { expect } from 'chai';
import { checkTotalRestart } from '../../src/core/member/restart-check.js';
import type { RestartTrim } from '../../src/core/member/restart-state.js';
import { lastView, logOf, MS, RestartPump, v } from './restart-harness.js';

const VIEW5 = lastView([1, 2, 3], 5);

function checkItem10(pump: RestartPump, before: Map<number, ReturnType<typeof logOf>>, keepThrough: bigint): void {
  const after = new Map([...pump.nodes].filter(([, n]) => n.up).map(([id, n]) => [id, n.log]));
  expect(checkTotalRestart({ subgroup: 0, shard: 0, restartVid: 6, keepThrough, before, after })).to.deep.equal([]);
}

describe('core/member: total restart', () => {
  it('a quorum restarts after the grace for the missing member: the first view continues the vids; the late member joins the running group', () => {
    const pump = new RestartPump();
    const logs = new Map([
      [1, logOf(5, 4)],
      [2, logOf(5, 4)],
    ]);
    pump.add(1, [...logs.get(1)!]);
    pump.add(2, [...logs.get(2)!]);
    pump.start(1, pump.stateOf(1, VIEW5));
    pump.start(2, pump.stateOf(2, VIEW5));
    // A quorum (2 of 3), so the leader waits restartTimeout for node 3, telling node 2 why.
    expect(pump.notes(2).some((m) => /has a quorum and waits up to 1000 ms for nodes 3 of view 5/.test(m))).to.equal(true);
    expect(pump.startedView(1)).to.equal(undefined);
    pump.advance(1100 * MS);
    expect(pump.startedView(1)?.vid).to.equal(6);
    expect(pump.startedView(2)?.members.map((m) => m.id)).to.deep.equal([1, 2]);
    expect(pump.node(1).member.phaseName).to.equal('running');
    checkItem10(pump, logs, v(5, 3));
    // Node 3 comes late: node 1 runs the group, so it is sent to the group's leader and asks to
    // join; its log went beyond what the restart kept (5.3): those versions were never committed.
    pump.add(3, logOf(5, 6));
    pump.start(3, pump.stateOf(3, VIEW5));
    expect(pump.sent(1)).to.include('redirect->3');
    expect(pump.sent(3).slice(-1)).to.deep.equal(['join->1']);
    expect(pump.node(3).log.map((e) => e.version)).to.deep.equal(logOf(5, 4).map((e) => e.version));
    expect(pump.notes(3)).to.include('node 3 drops the versions of subgroup 0 shard 0 after 5.3 (its log ends at 5.5): the group restarted in view 6 keeping only those');
    expect(pump.notes(3).some((m) => /a group is running .* joins it instead of restarting it/.test(m))).to.equal(true);
  });

  it('all of the last view back: the restart does not wait for the grace', () => {
    const pump = new RestartPump();
    for (const id of [1, 2, 3]) pump.add(id, logOf(5, 3));
    // Nodes 3 and 2 ask node 1 before it started: it is not leading yet, so they ask again.
    for (const id of [3, 2, 1]) pump.start(id, pump.stateOf(id, VIEW5));
    pump.advance(200 * MS);
    for (const id of [1, 2, 3]) expect(pump.startedView(id)?.vid).to.equal(6);
  });

  it('without a quorum the restart fails after restartTimeout, naming who is missing, at the leader and its followers', () => {
    const pump = new RestartPump();
    const five = lastView([1, 2, 3, 4, 5], 5);
    pump.add(1, logOf(5, 3));
    pump.add(2, logOf(5, 3));
    pump.start(1, pump.stateOf(1, five));
    pump.start(2, pump.stateOf(2, five));
    pump.advance(900 * MS);
    expect(pump.node(1).stopped).to.equal(undefined);
    pump.advance(1100 * MS);
    const message = pump.node(1).stopped!;
    expect(message).to.match(/no restart quorum within 1000 ms \(back: nodes 1, 2; missing: nodes 3, 4, 5\): the restart needs a majority of view 5 \(3 of its 5 members; 2 back\)/);
    expect(pump.node(2).stopped).to.equal(message);
  });

  it('the longest log wins and members behind receive only the tail they lack', () => {
    const pump = new RestartPump();
    const logs = new Map([
      [1, logOf(5, 3)],
      [2, logOf(5, 8)],
      [3, logOf(4, 6)],
    ]);
    for (const [id, log] of logs) pump.add(id, [...log]);
    for (const id of [1, 2, 3]) pump.start(id, pump.stateOf(id, VIEW5));
    expect(pump.startedView(3)?.vid).to.equal(6);
    const versions = (id: number) => pump.node(id).log.map((e) => e.version);
    expect(versions(1)).to.deep.equal(logOf(5, 8).map((e) => e.version));
    expect(versions(2)).to.deep.equal(logOf(5, 8).map((e) => e.version));
    expect(versions(3)).to.deep.equal([...logOf(4, 6), ...logOf(5, 8)].map((e) => e.version));
    // Node 1 lacked 5.3-5.7, node 3 all of view 5: 5 + 8 entries, never the whole of node 2's log twice.
    expect(pump.node(2).tailEntriesSent).to.equal(5 + 8);
    expect(pump.node(1).outputs.filter((o) => o.kind === 'appendLogTail')).to.have.length(1);
    // The new run's deliveries continue after the newest HLC of the kept log.
    expect(pump.node(1).member.viewManager!.core.shardOf(0)!.lastDeliveredHlc).to.deep.equal(logs.get(2)![7].hlc);
    // Node 3's log of view 4 is not the longest log's; the checker sees only what the shard kept.
    const before = new Map([
      [1, logs.get(1)!],
      [2, logs.get(2)!],
    ]);
    const after = new Map([...pump.nodes].map(([id, n]) => [id, n.log.filter((e) => e.version >= v(5, 0))]));
    expect(checkTotalRestart({ subgroup: 0, shard: 0, restartVid: 6, keepThrough: v(5, 7), before, after })).to.deep.equal([]);
  });

  it('a tail that arrives before its restart view is kept until the view comes', () => {
    const pump = new RestartPump();
    const logs = new Map([
      [1, logOf(5, 2)],
      [2, logOf(5, 3)],
      [3, logOf(5, 6)],
    ]);
    for (const [id, log] of logs) pump.add(id, [...log]);
    // Node 2 hears of the restart view only after node 3, the source, sent it its tail.
    pump.holdMessage = (from, to, message) => from === 1 && to === 2 && message.type === 'restartView';
    for (const id of [1, 2, 3]) pump.start(id, pump.stateOf(id, VIEW5));
    expect(pump.node(2).outputs.some((o) => o.kind === 'appendLogTail')).to.equal(false);
    pump.releaseMessages();
    for (const id of [1, 2, 3]) expect(pump.startedView(id)?.vid).to.equal(6);
    checkItem10(pump, logs, v(5, 5));
  });

  it('versions beyond the committed ragged trim are truncated everywhere, with the reason', () => {
    const pump = new RestartPump();
    // View 5 ended with a trim through index 1 of each of 3 senders: seq 5 (1*3+2) is the last.
    const trim: RestartTrim = { vid: 5, subgroup: 0, shard: 0, shardLeader: 1, throughIndex: [1, 1, 1] };
    const logs = new Map([
      [1, logOf(5, 5)],
      [2, logOf(5, 9)],
      [3, logOf(5, 6)],
    ]);
    for (const [id, log] of logs) pump.add(id, [...log]);
    pump.start(1, pump.stateOf(1, VIEW5, [trim]));
    pump.start(2, pump.stateOf(2, VIEW5));
    pump.start(3, pump.stateOf(3, VIEW5, [trim]));
    for (const id of [1, 2, 3]) expect(pump.node(id).log.map((e) => e.version)).to.deep.equal(logOf(5, 6).map((e) => e.version));
    expect(pump.node(2).outputs).to.deep.include({ kind: 'truncateLog', subgroup: 0, shard: 0, afterVersion: v(5, 5) });
    expect(pump.notes(2).find((m) => /drops the versions/.test(m))).to.match(/node 2 drops the versions of subgroup 0 shard 0 after 5\.5 \(its log ends at 5\.8\): the ragged trim of view 5 \(logged by nodes 1, 3\) ends at 5\.5.*never delivered everywhere/);
    checkItem10(pump, logs, v(5, 5));
  });

  it('an absent restart leader: the next candidate leads', () => {
    const pump = new RestartPump();
    pump.add(2, logOf(5, 2));
    pump.add(3, logOf(5, 2));
    pump.start(2, pump.stateOf(2, VIEW5));
    pump.start(3, pump.stateOf(3, VIEW5));
    pump.advance(1100 * MS);
    expect(pump.startedView(2)?.members.map((m) => m.id)).to.deep.equal([2, 3]);
    expect(pump.startedView(3)?.vid).to.equal(6);
  });

  it('a candidate ahead of the leader comes back before the restart: it takes over and the others follow it', () => {
    const pump = new RestartPump();
    const five = lastView([1, 2, 3, 4, 5], 5);
    for (const id of [2, 3, 4]) pump.add(id, logOf(5, 2));
    pump.start(2, pump.stateOf(2, five));
    pump.start(3, pump.stateOf(3, five));
    expect(pump.notes(2)).to.include('node 2 leads the restart from the logs of view 5');
    // Node 1 returns while node 2 waits for a quorum (3 of 5).
    pump.add(1, logOf(5, 2));
    pump.start(1, pump.stateOf(1, five));
    pump.start(4, pump.stateOf(4, five));
    expect(pump.notes(2)).to.include('node 1 (logs of view 5) goes before node 2 (view 5) as the restart leader: following it');
    pump.advance(1100 * MS);
    for (const id of [1, 2, 3, 4]) expect(pump.startedView(id)?.members.map((m) => m.id)).to.deep.equal([1, 2, 3, 4]);
  });

  it('a node removed before the last view comes back: the leader of the newest view leads, without a tug of war', () => {
    const pump = new RestartPump();
    const view4 = lastView([1, 2, 3, 4], 4);
    const view5 = lastView([2, 3, 4], 5);
    pump.add(2, logOf(5, 3));
    pump.add(3, logOf(5, 3));
    pump.start(2, pump.stateOf(2, view5));
    pump.start(3, pump.stateOf(3, view5));
    // Node 1 was removed in view 5; by its own last view it would lead. Node 2 waits for node 4.
    pump.add(1, logOf(4, 2));
    pump.start(1, pump.stateOf(1, view4));
    expect(pump.notes(1)).to.include('node 2 (logs of view 5) goes before node 1 (view 4) as the restart leader: following it');
    pump.advance(1100 * MS);
    for (const id of [1, 2, 3]) expect(pump.startedView(id)?.members.map((m) => m.id)).to.deep.equal([2, 3, 1]);
    expect(pump.node(1).log.map((e) => e.version)).to.deep.equal([...logOf(4, 2), ...logOf(5, 3)].map((e) => e.version));
  });

  it('a member lost before the restart view starts: the leader plans again from the logs as they are now', () => {
    const pump = new RestartPump();
    const logs = new Map([
      [1, logOf(5, 3)],
      [2, logOf(5, 8)],
      [3, logOf(5, 5)],
    ]);
    for (const [id, log] of logs) pump.add(id, [...log]);
    pump.holdTables = true;
    for (const id of [1, 2, 3]) pump.start(id, pump.stateOf(id, VIEW5));
    // The plan was carried out (node 2's tails arrived), but node 2 crashes before the view starts.
    expect(pump.node(1).log).to.have.length(8);
    pump.crash(2);
    pump.releaseTables();
    expect(pump.notes(1)).to.include('node 2 of restart view 6 was lost before it started: planning the restart again without it');
    // Nodes 1 and 3 are a quorum of view 5; the leader waits the grace for node 2, then restarts with the logs it got.
    pump.advance(1100 * MS);
    for (const id of [1, 3]) expect(pump.startedView(id)?.members.map((m) => m.id)).to.deep.equal([1, 3]);
    checkItem10(pump, logs, v(5, 7));
  });

  it('the restart leader lost before the restart view starts: the next candidate leads a new round', () => {
    const pump = new RestartPump();
    const logs = new Map([
      [1, logOf(5, 3)],
      [2, logOf(5, 4)],
      [3, logOf(5, 6)],
    ]);
    for (const [id, log] of logs) pump.add(id, [...log]);
    pump.holdTables = true;
    for (const id of [1, 2, 3]) pump.start(id, pump.stateOf(id, VIEW5));
    pump.crash(1);
    pump.releaseTables();
    pump.advance(1100 * MS);
    for (const id of [2, 3]) expect(pump.startedView(id)?.members.map((m) => m.id)).to.deep.equal([2, 3]);
    expect(pump.notes(3)).to.include('restart leader node 1 was lost before restart view 6 started: following the next candidate');
    checkItem10(pump, logs, v(5, 5));
  });

  it('a running group is joined, not restarted: a restarted contact does not form a second group', () => {
    const pump = new RestartPump();
    // Nodes 2 and 3 run a group (formed by node 2); node 1, the configured contact, comes back with logs.
    pump.add(2, [], { isContact: true });
    pump.add(3, [], { contact: { host: '10.0.0.2', port: 7002 } });
    pump.start(2);
    pump.start(3);
    expect(pump.node(2).member.phaseName).to.equal('running');
    pump.add(1, logOf(5, 3));
    pump.start(1, pump.stateOf(1, VIEW5));
    expect(pump.sent(1)).to.include('join->2');
    expect(pump.startedView(1)).to.equal(undefined);
    expect(pump.node(1).member.phaseName).to.equal('asking');
  });

  it('configured restart leaders, none reachable: the join deadline says so, naming them', () => {
    const five = lastView([1, 2, 3, 4, 5], 5);
    const fresh = new RestartPump({ joinTimeoutUs: 1000 * MS, restartTimeoutUs: 500 * MS, restartLeaders: [1, 2] });
    fresh.add(4, logOf(5, 1));
    fresh.start(4, fresh.stateOf(4, five));
    fresh.advance(2100 * MS);
    expect(fresh.node(4).stopped).to.equal('node 4 did not restart from its logs of view 5 within 2000 ms: no restart leader candidate (nodes 1, 2) answered: start a majority of view 5, or check restart.leaders');
  });

  it('restart state of another cluster or schema, or a log newer than its restart log, is refused with a reason', () => {
    const pump = new RestartPump();
    for (const id of [1, 2, 3]) pump.add(id, logOf(5, 2));
    pump.node(3).log = logOf(7, 2);
    pump.start(1, pump.stateOf(1, VIEW5));
    pump.start(2, pump.stateOf(2, VIEW5, [], { cluster: 'test', schema: 'xyz' }));
    pump.start(3, pump.stateOf(3, VIEW5));
    expect(pump.node(2).stopped).to.match(/node 2's logs belong to schema xyz, not abc \(the replicated types or their layout changed\)/);
    // Node 3 finds its own logs inconsistent before it asks anyone.
    expect(pump.node(3).stopped).to.match(/node 3's log of T\[0\] shard 0 holds version 7\.1, newer than view 5, the last view its restart log holds/);
    expect(pump.sent(3)).to.deep.equal([]);
    pump.advance(1100 * MS);
    expect(pump.node(1).stopped).to.match(/missing: nodes 2, 3/);
  });

  it('the checker catches a version beyond the trim and a diverging replica', () => {
    const before = new Map([
      [1, logOf(5, 4)],
      [2, logOf(5, 4)],
    ]);
    const diverged = logOf(5, 4);
    diverged[2] = { ...diverged[2], digest: 'other' };
    const violations = checkTotalRestart({ subgroup: 0, shard: 0, restartVid: 6, keepThrough: v(5, 2), before, after: new Map([[1, logOf(5, 4)], [2, diverged.slice(0, 3)]]) });
    expect(violations.join('\n')).to.match(/node 1 still holds 5\.3, beyond the agreed trim 5\.2/);
    expect(violations.join('\n')).to.match(/node 2's entry 2 is 5\.2 .*other.*, the longest log's 5\.2/);
  });
});
