/**
 * The Member's joiner side and formation, fed by hand: what a node does from its start until its
 * first view runs (retries, refusals, deadlines, the start barrier), with no sockets and no timers.
 */
import { expect } from 'chai';
import { Member, type MemberOptions } from '../../src/core/member/member.js';
import type { MemberOutput } from '../../src/core/member/member-io.js';
import type { GroupView } from '../../src/core/membership/group-view.js';
import { viewLayoutFor } from '../../src/core/membership/group-view.js';
import { SstLayout } from '../../src/core/sst-layout.js';
import { initializeSstTable } from '../../src/core/sst-table.js';
import { addr, groupView, wholeGroup } from '../membership/vm-harness.js';
import { memberOptions, MS } from './member-options.js';


function member(id: number, overrides: Partial<MemberOptions> = {}): Member {
  return new Member(memberOptions(id, wholeGroup(), overrides));
}

const kinds = (outs: readonly MemberOutput[]) => outs.map((o) => (o.kind === 'sendControl' ? `${o.message.type}->${o.to}` : o.kind));

function table(view: GroupView, id: number): ArrayBuffer {
  const layout = SstLayout.forView(viewLayoutFor(view, id));
  const buffer = new ArrayBuffer(layout.tableBytes);
  initializeSstTable(layout, buffer, view.vid);
  return buffer;
}

describe('core/member: joining and forming', () => {
  it('a joiner dials the contact, asks the node that answered, and retries a refusal that may pass until its deadline', () => {
    const j = member(2, { joinTimeoutUs: 500 * MS });
    expect(kinds(j.step({ kind: 'start', nowUs: 0 }))).to.deep.equal(['note', 'dialContact']);
    expect(kinds(j.step({ kind: 'connected', node: 1 }))).to.deep.equal(['join->1']);
    // The id is still held by a failed incarnation of this node: ask again after retryUs.
    const refused = j.step({ kind: 'control', from: 1, message: { type: 'refused', code: 'idInUse', message: 'node id 2 is already in use by a member of view 4' } });
    expect(kinds(refused)).to.deep.equal(['note']);
    expect(j.step({ kind: 'tick', nowUs: 20 * MS })).to.deep.equal([]);
    expect(kinds(j.step({ kind: 'tick', nowUs: 60 * MS }))).to.deep.equal(['join->1']);
    // At the deadline the error says what the last refusal was.
    const failed = j.step({ kind: 'tick', nowUs: 600 * MS });
    expect(kinds(failed)).to.deep.equal(['joinFailed']);
    expect((failed[0] as { message: string }).message).to.match(/node 2 did not join within 500 ms \(contact 10\.0\.0\.1:7001\): node 1 refused the join \(idInUse\): node id 2 is already in use by a member of view 4/);
    expect(j.stopped).to.equal(true);
  });

  it('an unanswered join is asked again, then the contact is dialed anew', () => {
    const j = member(2);
    j.step({ kind: 'start', nowUs: 0 });
    j.step({ kind: 'connected', node: 1 });
    expect(kinds(j.step({ kind: 'tick', nowUs: 2100 * MS }))).to.deep.equal(['join->1']);
    expect(kinds(j.step({ kind: 'tick', nowUs: 4200 * MS }))).to.deep.equal(['note', 'dropPeers', 'dialContact']);
    // A deferral is an answer: silence after it is expected and not retried at once.
    j.step({ kind: 'connected', node: 3 });
    j.step({ kind: 'control', from: 3, message: { type: 'deferred', message: 'the group forms once 3 members have joined; 2 so far' } });
    expect(j.step({ kind: 'tick', nowUs: 5000 * MS })).to.deep.equal([]);
  });

  it('a contact that refuses us for good fails the join at once, naming it; one that is not up yet is dialed again', () => {
    const j = member(2);
    j.step({ kind: 'start', nowUs: 0 });
    expect(kinds(j.step({ kind: 'contactUnreachable', final: false, reason: 'connection refused' }))).to.deep.equal(['note']);
    expect(kinds(j.step({ kind: 'tick', nowUs: 60 * MS }))).to.deep.equal(['dialContact']);
    const out = j.step({ kind: 'contactUnreachable', final: true, reason: 'refused our connection: wrong cluster secret' });
    expect(out).to.deep.equal([{ kind: 'joinFailed', message: 'cannot join through the contact at 10.0.0.1:7001: refused our connection: wrong cluster secret' }]);
  });

  it('formation: the contact defers joiners with the reason, announces view 0, and releases the start barrier once all are ready', () => {
    const c = member(1, { minMembers: 3 });
    c.step({ kind: 'start', nowUs: 0 });
    c.step({ kind: 'connected', node: 2 });
    const first = c.step({ kind: 'control', from: 2, message: { type: 'join', member: addr(2) } });
    expect(first.find((o) => o.kind === 'sendControl')).to.deep.equal({ kind: 'sendControl', to: 2, message: { type: 'deferred', message: 'the group forms once 3 members have joined; 2 so far' } });
    c.step({ kind: 'connected', node: 3 });
    const formed = c.step({ kind: 'control', from: 3, message: { type: 'join', member: addr(3) } });
    // View 0 goes to the joiners; the contact enters it itself: connected to both already, it asks for its table.
    expect(kinds(formed).filter((k) => k !== 'note')).to.deep.equal(['view->2', 'view->3', 'createTable']);
    const view = (formed.find((o) => o.kind === 'createTable') as { view: GroupView }).view;
    expect(view.members.map((m) => m.id)).to.deep.equal([1, 2, 3]);
    // Its own readiness counts; the others' complete the barrier.
    expect(c.step({ kind: 'tableReady', vid: 0, table: table(view, 1) })).to.deep.equal([]);
    expect(c.step({ kind: 'control', from: 2, message: { type: 'ready', vid: 0 } })).to.deep.equal([]);
    const started = c.step({ kind: 'control', from: 3, message: { type: 'ready', vid: 0 } });
    expect(kinds(started).slice(0, 3)).to.deep.equal(['start->2', 'start->3', 'viewStarted']);
    expect(c.view?.vid).to.equal(0);
  });

  it('a joiner of a running group enters its first view only with the state of its shards, continuing their HLC', () => {
    const j = member(3);
    j.step({ kind: 'start', nowUs: 0 });
    j.step({ kind: 'connected', node: 1 });
    const view: GroupView = { ...groupView([1, 2, 3]), vid: 4 };
    const out = j.step({ kind: 'control', from: 1, message: { type: 'view', view, stateTransfers: [{ subgroup: 0, shard: 0, from: 1, to: 3 }] } });
    expect(kinds(out)).to.deep.equal(['connect']);
    expect(j.step({ kind: 'connected', node: 2 })).to.deep.equal([]);
    const hlc = { wallUs: 9_000_000, logical: 3 };
    const ready = j.step({ kind: 'control', from: 1, message: { type: 'state', vid: 4, subgroup: 0, state: new Uint8Array([7]), hlc } });
    expect(kinds(ready)).to.deep.equal(['installState', 'createTable']);
    const started = j.step({ kind: 'tableReady', vid: 4, table: table(view, 3) });
    expect(started[0]).to.deep.include({ kind: 'viewStarted', first: true });
    expect(j.viewManager!.core.shardOf(0)!.lastDeliveredHlc).to.deep.equal(hlc);
  });
});
