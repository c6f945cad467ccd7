/**
 * OrderedCallResults on its own: what each accessor gives before delivery, at delivery and after,
 * with replies arriving early, late, failing, from removed members, and after an abort. The
 * promises are made lazily, so each case asks at a different moment.
 */
import { expect } from 'chai';
import { makeVersion } from '../../src/core/version.js';
import { PersistenceFrontier } from '../../src/rpc/persistence-frontier.js';
import { OrderedCallResults } from '../../src/rpc/query-results.js';
import { NodeRemovedError, RemoteError, SenderRemovedError } from '../../src/rpc/rpc-errors.js';

const members = [4, 5, 6];
const version = makeVersion(2, 9);
const hlc = { wallUs: 77, logical: 1 };
const none = new Map<number, string>();
const settle = async <T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> => p.then((value) => ({ value }), (error: unknown) => ({ error }));
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('OrderedCallResults', () => {
  it('asked before delivery: resolves with the delivering members, version, HLC and every reply', async () => {
    const r = new OrderedCallResults<string>();
    const all = r.all();
    const all2 = r.all();
    const replies = r.replies;
    const v = r.version;
    const h = r.hlc;
    const persisted = r.globalPersistence();
    expect(r.reply(5, { ok: true, value: 'five' })).to.equal(false); // early: waits for delivery
    expect(r.delivered(members, version, hlc, true, undefined, none)).to.equal(false);
    expect(await v).to.equal(version);
    expect(await h).to.deep.equal(hlc);
    await persisted;
    expect(r.reply(4, { ok: true, value: 'four' })).to.equal(false);
    expect(r.reply(6, { ok: true, value: 'six' })).to.equal(true);
    expect([...(await all)]).to.deep.equal([[4, 'four'], [5, 'five'], [6, 'six']]);
    // Each caller of all() gets a map of its own.
    (await all).clear();
    expect([...(await all2)]).to.deep.equal([[4, 'four'], [5, 'five'], [6, 'six']]);
    const map = await replies;
    expect([...map.keys()]).to.deep.equal(members);
    expect(await map.get(5)).to.equal('five');
    expect(await r.replies).to.equal(map);
    expect(r.version).to.equal(r.version);
  });

  it('asked after everything settled: the same answers', async () => {
    const r = new OrderedCallResults<number>();
    r.delivered(members, version, hlc, true, undefined, none);
    for (const m of members) r.reply(m, { ok: true, value: m * 10 });
    expect([...(await r.all())]).to.deep.equal([[4, 40], [5, 50], [6, 60]]);
    expect(await r.first()).to.equal(40);
    expect(await r.version).to.equal(version);
  });

  it('void calls resolve every entry at delivery', async () => {
    const r = new OrderedCallResults<void>();
    expect(r.delivered(members, version, hlc, false, undefined, none)).to.equal(true);
    expect([...(await r.all())]).to.deep.equal([[4, undefined], [5, undefined], [6, undefined]]);
    expect(await (await r.replies).get(6)).to.equal(undefined);
  });

  it('all() rejects with the first failure: in member order for those already in, then the first to come', async () => {
    const early = new OrderedCallResults<number>();
    early.reply(6, { ok: false, error: new RemoteError(6, 'TypeError', 'six') });
    early.reply(5, { ok: false, error: new RemoteError(5, 'TypeError', 'five') });
    early.delivered(members, version, hlc, true, undefined, none);
    expect(((await settle(early.all())).error as Error).message).to.match(/node 5/);

    const late = new OrderedCallResults<number>();
    late.delivered(members, version, hlc, true, undefined, none);
    const all = late.all();
    late.reply(4, { ok: true, value: 1 });
    late.reply(6, { ok: false, error: new RemoteError(6, 'TypeError', 'six') });
    // Rejects now, without waiting for node 5.
    expect(((await settle(all)).error as Error).message).to.match(/node 6/);
    expect(late.reply(5, { ok: true, value: 1 })).to.equal(true);
  });

  it('removed members reject their open entries with NodeRemovedError, only theirs', async () => {
    const r = new OrderedCallResults<number>();
    r.delivered(members, version, hlc, true, undefined, new Map([[6, 'crashed before delivery']]));
    r.reply(4, { ok: true, value: 4 });
    expect(r.nodeRemoved(4, 'too late')).to.equal(false); // already answered: stays answered
    expect(r.nodeRemoved(5, 'crashed')).to.equal(true);
    const map = await r.replies;
    expect(await map.get(4)).to.equal(4);
    const five = await settle(map.get(5)!);
    const six = await settle(map.get(6)!);
    expect(five.error).to.be.instanceOf(NodeRemovedError);
    expect((five.error as Error).message).to.match(/crashed/);
    expect((six.error as Error).message).to.match(/crashed before delivery/);
    expect(await r.first()).to.equal(4);
  });

  it('an abort before delivery rejects everything; after delivery, only what was still open', async () => {
    const before = new OrderedCallResults<number>();
    const v = before.version;
    before.abort(new SenderRemovedError('left'));
    for (const p of [v, before.hlc, before.replies, before.all(), before.localPersistence()]) expect((await settle(p as Promise<unknown>)).error).to.be.instanceOf(SenderRemovedError);
    expect(before.delivered(members, version, hlc, true, undefined, none)).to.equal(true);

    const after = new OrderedCallResults<number>();
    after.delivered(members, version, hlc, true, undefined, none);
    after.reply(4, { ok: true, value: 4 });
    const all = after.all();
    after.abort(new SenderRemovedError('left'));
    expect((await settle(all)).error).to.be.instanceOf(SenderRemovedError);
    expect(await after.version).to.equal(version);
    expect(await (await after.replies).get(4)).to.equal(4);
  });

  it('persistent subgroups: local and global persistence follow the frontiers, asked before or after delivery', async () => {
    const frontier = new PersistenceFrontier(0);
    const r = new OrderedCallResults<number>();
    const localEarly = r.localPersistence();
    const globalEarly = r.globalPersistence();
    let localDone = false;
    let globalDone = false;
    void localEarly.then(() => (localDone = true));
    void globalEarly.then(() => (globalDone = true));
    r.delivered(members, version, hlc, true, frontier, none);
    const globalLate = r.globalPersistence();
    await tick();
    expect([localDone, globalDone]).to.deep.equal([false, false]);
    frontier.advanceLocal(version - 1n);
    await tick();
    expect(localDone).to.equal(false);
    frontier.advanceLocal(version);
    await tick();
    expect([localDone, globalDone]).to.deep.equal([true, false]);
    frontier.advanceGlobal(version + 5n);
    await globalEarly;
    await globalLate;
    await r.localPersistence();
    // A frontier that failed (disk error, or the node left) rejects what is still beyond it.
    const s = new OrderedCallResults<number>();
    s.delivered(members, version + 10n, hlc, true, frontier, none);
    const waiting = s.globalPersistence();
    frontier.fail(new Error('EIO'));
    expect(((await settle(waiting)).error as Error).message).to.equal('EIO');
    expect(((await settle(s.localPersistence())).error as Error).message).to.equal('EIO');
    await r.globalPersistence(); // already reached: still resolved
  });

  it('nobody awaiting a failure is not a crash', async () => {
    // Failures nobody awaits must not become unhandled rejections.
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const q = new OrderedCallResults<number>();
      void q.replies;
      void q.version;
      q.abort(new Error('x'));
      const d = new OrderedCallResults<number>();
      d.delivered(members, version, hlc, true, undefined, none);
      void d.replies;
      void d.all();
      d.reply(4, { ok: false, error: new RemoteError(4, 'E', 'm') });
      await tick();
      await tick();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).to.deep.equal([]);
  });
});
