import { expect } from 'chai';
import { GroupFormation, type FormationOutput } from '../../src/core/membership/formation.js';
import type { GroupSubgroup, MemberAddress } from '../../src/core/membership/group-view.js';

const addr = (id: number): MemberAddress => ({ id, host: '127.0.0.1', port: 20000 + id });
const params = { windowSize: 16, maxPayloadBytes: 1024, maxSmcPayloadBytes: 1024, blockBytes: 65536 };

/** Adequate with at least `n` members: one shard holding all of them. */
const atLeast = (n: number) => (ids: readonly number[]): GroupSubgroup[] | undefined =>
  ids.length < n ? undefined : [{ type: 'T', index: 0, shards: [{ members: [...ids], senders: ids.map(() => true), mode: 'ordered' }], params }];

const kinds = (out: FormationOutput[]) => out.map((o) => `${o.kind}->${o.to}`);

describe('group formation (leader side)', () => {
  it('collects joiners until the layout is adequate, then announces view 0 to everyone', () => {
    const f = new GroupFormation({ leader: addr(0), allocate: atLeast(3) });
    expect(f.start()).to.deep.equal([]);
    // A joiner counted before the group can form hears why it waits (an answer: it need not ask again).
    expect(f.onJoinRequest(addr(1))).to.deep.equal([{ kind: 'defer', to: 1, message: 'the layout needs more members than the 2 that have joined' }]);
    const out = f.onJoinRequest(addr(2));
    expect(kinds(out)).to.deep.equal(['announce->0', 'announce->1', 'announce->2']);
    const view = f.formedView!;
    expect(view.vid).to.equal(0);
    expect(view.members.map((m) => m.id)).to.deep.equal([0, 1, 2]);
    expect(view.subgroups[0].shards[0].members).to.deep.equal([0, 1, 2]);
  });

  it('an adequate leader alone forms at once unless told to wait for more', () => {
    expect(kinds(new GroupFormation({ leader: addr(0), allocate: atLeast(1) }).start())).to.deep.equal(['announce->0']);
    const waiting = new GroupFormation({ leader: addr(0), allocate: atLeast(1), minMembers: 2 });
    expect(waiting.start()).to.deep.equal([]);
    const three = new GroupFormation({ leader: addr(0), allocate: atLeast(1), minMembers: 3 });
    expect(three.onJoinRequest(addr(4))).to.deep.equal([{ kind: 'defer', to: 4, message: 'the group forms once 3 members have joined; 2 so far' }]);
    expect(kinds(waiting.onJoinRequest(addr(5)))).to.deep.equal(['announce->0', 'announce->5']);
  });

  it('releases the start barrier only when every member is ready, once', () => {
    const f = new GroupFormation({ leader: addr(0), allocate: atLeast(2) });
    f.onJoinRequest(addr(1));
    expect(f.onReady(0, 0)).to.deep.equal([]);
    expect(f.onReady(0, 0), 'a repeated ready changes nothing').to.deep.equal([]);
    expect(f.onReady(7, 0), 'a stranger is ignored').to.deep.equal([]);
    expect(f.onReady(1, 3), 'a ready for another view is ignored').to.deep.equal([]);
    expect(kinds(f.onReady(1, 0))).to.deep.equal(['start->0', 'start->1']);
    expect(f.isStarted).to.equal(true);
    expect(f.onReady(1, 0)).to.deep.equal([]);
  });

  it('refuses a duplicate node id and joins after the group formed, with reasons', () => {
    const f = new GroupFormation({ leader: addr(0), allocate: atLeast(3) });
    f.onJoinRequest(addr(1));
    // The same joiner asking again (same address) is counted once and hears the same answer.
    expect(kinds(f.onJoinRequest(addr(1)))).to.deep.equal(['defer->1']);
    const dup = f.onJoinRequest({ ...addr(1), port: 31000 });
    expect(dup).to.have.length(1);
    expect(dup[0]).to.include({ kind: 'refuse', to: 1, code: 'idInUse' });
    f.onJoinRequest(addr(2));
    const late = f.onJoinRequest(addr(3));
    expect(late[0]).to.include({ kind: 'refuse', to: 3, code: 'formed' });
  });

  it('forgets a joiner lost before the view formed', () => {
    const f = new GroupFormation({ leader: addr(0), allocate: atLeast(3) });
    f.onJoinRequest(addr(1));
    f.onJoinerLost(1);
    expect(kinds(f.onJoinRequest(addr(2)))).to.deep.equal(['defer->2']);
    expect(kinds(f.onJoinRequest(addr(3)))).to.deep.equal(['announce->0', 'announce->2', 'announce->3']);
  });
});
