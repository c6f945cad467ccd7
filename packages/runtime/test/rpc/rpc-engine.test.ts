/**
 * The RPC engine against a fake transport (no sockets): what it multicasts and sends, how
 * deliveries run on the replica, replies that come before the caller's own delivery, calls made
 * between views, failures, and bytes from a peer that do not parse.
 */
import { expect } from 'chai';
import pino from 'pino';
import type { DeliverOutput } from '../../src/core/core-io.js';
import type { GroupView } from '../../src/core/membership/group-view.js';
import { makeVersion } from '../../src/core/version.js';
import { currentVersion } from '../../src/rpc/current-version.js';
import { SchemaCodec } from '../../src/rpc/marshal.js';
import { defineWireSchema } from '../../src/rpc/marshal-schema.js';
import { RpcEngine, type RpcTransport } from '../../src/rpc/rpc-engine.js';
import type { QueryResults } from '../../src/replicated/types.js';
import { InvalidNodeError, NodeRemovedError, RemoteError, SenderRemovedError } from '../../src/rpc/rpc-errors.js';
import { decodeOrderedRequest, decodeRpcFrame, orderedReplyHeader, p2pRequestHeader, readOrderedReplies, ReplyStatus, RpcKind } from '../../src/rpc/rpc-wire.js';

const schema = defineWireSchema({
  hash: 'test',
  classes: {
    Counter: {
      methods: {
        add: { id: 1, ordered: true, p2p: false, params: [{ name: 'n', type: { t: 'number' }, optional: false }], result: { t: 'number' } },
        get: { id: 2, ordered: false, p2p: true, params: [], result: { t: 'number' } },
        note: { id: 3, ordered: true, p2p: false, params: [{ name: 's', type: { t: 'string' }, optional: false }], result: { t: 'void' } },
        version: { id: 4, ordered: true, p2p: false, params: [], result: { t: 'bigint' } },
        echo: { id: 5, ordered: true, p2p: false, params: [{ name: 'tag', type: { t: 'string' }, optional: false }], result: { t: 'string' } },
        later: { id: 6, ordered: true, p2p: false, params: [{ name: 'tag', type: { t: 'string' }, optional: false }], result: { t: 'string' } },
      },
    },
  },
  types: {},
  structures: [],
});

class Counter {
  total = 0;
  applied = 0;
  notes: string[] = [];
  constructor(readonly node = -1) {}
  /** Says who answered, what it was asked, and how many echo calls it applied before. */
  echo(tag: string): string {
    return `${this.node}/${tag}/${this.applied++}`;
  }
  /** The same, answered after a turn of the event loop. */
  async later(tag: string): Promise<string> {
    const answer = this.echo(tag);
    await new Promise((resolve) => setImmediate(resolve));
    return answer;
  }
  add(n: number): number {
    if (n < 0) throw new RangeError('negative');
    this.total += n;
    return this.total;
  }
  get(): number {
    return this.total;
  }
  note(s: string): void {
    this.notes.push(s);
  }
  version(): bigint {
    return currentVersion().version;
  }
}

const view: GroupView = {
  vid: 0,
  members: [0, 1, 2].map((id) => ({ id, host: '127.0.0.1', port: 1000 + id })),
  subgroups: [{ type: 'Counter', index: 0, shards: [{ members: [0, 1, 2], senders: [true, true, true], mode: 'ordered' }], params: { windowSize: 8, maxPayloadBytes: 1024, maxSmcPayloadBytes: 1024, blockBytes: 1024 } }],
};

function harness(nodeId = 0, options: { remoteStacks?: boolean } = {}) {
  const sent: { to: number; bytes: Uint8Array }[] = [];
  const multicasts: Uint8Array[] = [];
  const dropped: { peer: number; why: string }[] = [];
  let installed: GroupView | undefined = view;
  const transport: RpcTransport = {
    nodeId,
    channel: 2,
    log: pino({ level: 'silent' }),
    view: () => installed,
    multicast: (_g, payload) => multicasts.push(payload),
    sendP2P: (to, chunks) => {
      const bytes = Buffer.concat(chunks.map((c) => Buffer.from(c)));
      sent.push({ to, bytes: new Uint8Array(bytes) });
    },
    dropPeer: (peer, why) => dropped.push({ peer, why }),
  };
  const codec = new SchemaCodec(schema);
  const counter = new Counter();
  const engine = new RpcEngine(transport, codec, new Map([['Counter', { className: 'Counter', create: () => counter }]]), codec, options);
  engine.onView(view);
  let seq = 0;
  const deliver = (payload: Uint8Array, sender: number): void => {
    const d: DeliverOutput = { kind: 'deliver', subgroup: 0, shard: 0, senderNode: sender, index: seq, version: makeVersion(0, seq), hlc: { wallUs: 100 + seq, logical: 0 }, payload, cooked: true };
    seq++;
    engine.onDeliver(d, view);
  };
  return { engine, codec, counter, sent, multicasts, dropped, deliver, setView: (v: GroupView | undefined) => (installed = v) };
}

describe('RpcEngine (fake transport)', () => {
  it('an ordered call multicasts its request; delivery runs it and replies come back into the map', async () => {
    const h = harness(0);
    const results = h.engine.callOrdered<number>(0, h.codec.method('Counter', 'add'), [5]);
    expect(h.multicasts).to.have.length(1);
    const req = decodeOrderedRequest(h.multicasts[0]);
    expect(req).to.include({ methodId: 1, caller: 0 });
    // Node 1's reply arrives before my own delivery: it must wait for the map.
    const body = h.codec.method('Counter', 'add').encodeResult(5);
    h.engine.onFrame(1, Buffer.concat([orderedReplyHeader(2, ReplyStatus.Ok, 0, req.invocation).subarray(1), body]));
    h.deliver(h.multicasts[0], 0);
    expect(h.counter.total).to.equal(5);
    h.engine.onFrame(2, Buffer.concat([orderedReplyHeader(2, ReplyStatus.Ok, 0, req.invocation).subarray(1), body]));
    expect([...(await results.all())]).to.deep.equal([[0, 5], [1, 5], [2, 5]]);
    expect(await results.version).to.equal(makeVersion(0, 0));
    expect(await results.hlc).to.deep.equal({ wallUs: 100, logical: 0 });
  });

  it('a delivery of another member\'s call runs here and answers that caller by P2P, one frame per delivery batch', async () => {
    const h = harness(1);
    const codec = h.codec.method('Counter', 'add');
    const other = harness(0);
    other.engine.callOrdered(0, codec, [7]);
    other.engine.callOrdered(0, codec, [-1]);
    h.deliver(other.multicasts[0], 0);
    h.deliver(other.multicasts[1], 0);
    // The replies of one batch go out together when the batch (this synchronous run) ends.
    expect(h.sent).to.deep.equal([]);
    await Promise.resolve();
    expect(h.sent.map((s) => s.to)).to.deep.equal([0]);
    const frame = decodeRpcFrame(h.sent[0].bytes.subarray(1));
    expect(frame.kind).to.equal(RpcKind.OrderedReplies);
    const entries: { status: ReplyStatus; invocation: number; body: unknown }[] = [];
    if (frame.kind === RpcKind.OrderedReplies) readOrderedReplies(frame.frame, (e) => entries.push({ status: e.status, invocation: e.invocation, body: e.frame.slice(e.bodyStart, e.bodyEnd) }));
    const sentInvocations = other.multicasts.map((m) => decodeOrderedRequest(m).invocation);
    expect(entries.map((e) => [e.status, e.invocation])).to.deep.equal([
      [ReplyStatus.Ok, sentInvocations[0]],
      [ReplyStatus.Exception, sentInvocations[1]],
    ]);
    expect(codec.decodeResult(entries[0].body as Uint8Array)).to.equal(7);
  });

  it('currentVersion() inside a handler is the delivery\'s version; outside it throws', async () => {
    const h = harness(0);
    h.deliver(h.engine.callOrdered(0, h.codec.method('Counter', 'add'), [1]) && h.multicasts[0], 0);
    const r = h.engine.callOrdered<bigint>(0, h.codec.method('Counter', 'version'), []);
    h.deliver(h.multicasts[1], 0);
    expect((await r.replies).get(0)).to.not.equal(undefined);
    expect(await (await r.replies).get(0)).to.equal(makeVersion(0, 1));
    expect(() => currentVersion()).to.throw(/only available inside an @Ordered\(\) handler/);
  });

  it('a void call has no replies: its map resolves at delivery with every member', async () => {
    const h = harness(0);
    const r = h.engine.callOrdered<void>(0, h.codec.method('Counter', 'note'), ['hi']);
    h.deliver(h.multicasts[0], 0);
    expect([...(await r.all()).keys()]).to.deep.equal([0, 1, 2]);
    expect(h.counter.notes).to.deep.equal(['hi']);
    expect(h.sent).to.deep.equal([]);
  });

  it('calls made with no view installed wait for the next view', () => {
    const h = harness(0);
    h.setView(undefined);
    h.engine.callOrdered(0, h.codec.method('Counter', 'add'), [1]);
    expect(h.multicasts).to.have.length(0);
    h.setView(view);
    h.engine.onView(view);
    expect(h.multicasts).to.have.length(1);
  });

  it('a failed member rejects its open entries and p2p calls with NodeRemovedError; leaving rejects with SenderRemovedError', async () => {
    const h = harness(0);
    const r = h.engine.callOrdered<number>(0, h.codec.method('Counter', 'add'), [1]);
    const p = h.engine.callP2P<number>(0, 2, h.codec.method('Counter', 'get'), []);
    h.deliver(h.multicasts[0], 0);
    h.engine.onPeerFailed(2, 'connection closed');
    const replies = await r.replies;
    expect(await replies.get(0)).to.equal(1);
    expect(await replies.get(2)!.then(() => undefined, (e: unknown) => e)).to.be.instanceOf(NodeRemovedError);
    expect(await p.then(() => undefined, (e: unknown) => e)).to.be.instanceOf(NodeRemovedError);
    const pending = h.engine.callOrdered<number>(0, h.codec.method('Counter', 'add'), [1]);
    h.engine.close('test');
    expect(await pending.all().then(() => undefined, (e: unknown) => e)).to.be.instanceOf(SenderRemovedError);
  });

  it('p2p requests run on the replica and answer; remote exceptions come back as RemoteError', async () => {
    const target = harness(1);
    target.counter.total = 42;
    const caller = harness(0);
    const p = caller.engine.callP2P<number>(0, 1, caller.codec.method('Counter', 'get'), []);
    target.engine.onFrame(0, caller.sent[0].bytes.subarray(1));
    caller.engine.onFrame(1, target.sent[0].bytes.subarray(1));
    expect(await p).to.equal(42);
    expect(() => caller.engine.callP2P(0, 1, caller.codec.method('Counter', 'add'), [1])).to.throw(TypeError, /not a @P2P\(\) method/);
    expect(() => caller.engine.callP2P(0, 9, caller.codec.method('Counter', 'get'), [])).to.throw(InvalidNodeError, /node 9 is not a member of Counter\[0\]/);
  });

  it('bytes that do not parse drop the peer and change nothing', () => {
    const h = harness(1);
    const garbage = [new Uint8Array([]), new Uint8Array([9]), new Uint8Array([2, 0, 1]), Buffer.concat([p2pRequestHeader(2, 2, 0, 1).subarray(1), Buffer.from([0xc1])]), Buffer.concat([orderedReplyHeader(2, 7 as ReplyStatus, 0, 1).subarray(1)])];
    for (const g of garbage) h.engine.onFrame(0, g);
    expect(h.dropped.map((d) => d.peer)).to.deep.equal([0, 0, 0, 0, 0]);
    expect(h.dropped[1].why).to.match(/malformed RPC message: unknown RPC frame kind 9/);
    expect(h.sent).to.deep.equal([]);
  });

  it('a remote exception reply carries the name and message', async () => {
    const h = harness(0);
    const r = h.engine.callOrdered<number>(0, h.codec.method('Counter', 'add'), [-1]);
    h.deliver(h.multicasts[0], 0);
    const err = await r.first().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RemoteError);
    expect((err as RemoteError).message).to.equal('node 0: RangeError: negative');
    // Without logging.remoteStacks the cause says where the stack is not, not a stack of this node.
    expect((err as RemoteError).remoteStack).to.equal(undefined);
    expect((err as RemoteError).cause).to.include({ name: 'RangeError', message: 'negative' });
    expect((err as RemoteError).cause.stack).to.match(/node 0 sends no stacks; set logging.remoteStacks there/);
  });

  it('with remoteStacks, a p2p exception comes back with the handler\'s stack as remoteStack and cause.stack', async () => {
    const target = harness(1, { remoteStacks: true });
    const caller = harness(0);
    const p = caller.engine.callP2P<number>(0, 1, caller.codec.method('Counter', 'get'), []);
    target.counter.get = () => {
      throw new TypeError('the replica tripped');
    };
    target.engine.onFrame(0, caller.sent[0].bytes.subarray(1));
    caller.engine.onFrame(1, target.sent[0].bytes.subarray(1));
    const err = (await p.then(() => undefined, (e: unknown) => e)) as RemoteError;
    expect(err).to.be.instanceOf(RemoteError);
    expect(err.remoteStack).to.match(/^TypeError: the replica tripped\n\s+at /);
    expect(err.remoteStack).to.match(/rpc-engine\.test\.ts/);
    expect(err.cause.stack).to.equal(err.remoteStack);
  });
});

/**
 * Three engines wired to each other through fake transports: multicasts queue up and are
 * delivered to every engine in one order when the test says so; P2P frames wait in `wire` until
 * the test hands them over (or loses them, as a crash would).
 */
function cluster() {
  const nodes = [0, 1, 2];
  const queue: { sender: number; payload: Uint8Array }[] = [];
  const wire: { from: number; to: number; bytes: Uint8Array }[] = [];
  const dropped: { at: number; peer: number; why: string }[] = [];
  const codec = new SchemaCodec(schema);
  const replicas = nodes.map((id) => new Counter(id));
  const engines = nodes.map((id) => {
    const transport: RpcTransport = {
      nodeId: id,
      channel: 2,
      log: pino({ level: 'silent' }),
      view: () => view,
      multicast: (_g, payload) => queue.push({ sender: id, payload }),
      sendP2P: (to, chunks) => wire.push({ from: id, to, bytes: new Uint8Array(Buffer.concat(chunks.map((c) => Buffer.from(c)))) }),
      dropPeer: (peer, why) => dropped.push({ at: id, peer, why }),
    };
    const engine = new RpcEngine(transport, codec, new Map([['Counter', { className: 'Counter', create: () => replicas[id] }]]));
    engine.onView(view);
    return engine;
  });
  let seq = 0;
  /** Delivers everything queued, in queue order, at every engine: one delivery batch. */
  const deliverAll = (): void => {
    for (const { sender, payload } of queue.splice(0)) {
      const d: DeliverOutput = { kind: 'deliver', subgroup: 0, shard: 0, senderNode: sender, index: seq, version: makeVersion(0, seq), hlc: { wallUs: seq, logical: 0 }, payload, cooked: true };
      seq++;
      for (const e of engines) e.onDeliver(d, view);
    }
  };
  /** Hands over the P2P frames now on the wire that `keep` accepts; the others are lost. */
  const transfer = (keep: (f: { from: number; to: number }) => boolean = () => true): number => {
    const frames = wire.splice(0);
    for (const f of frames) if (keep(f)) engines[f.to].onFrame(f.from, f.bytes.subarray(1));
    return frames.length;
  };
  return { engines, codec, replicas, queue, wire, dropped, deliverAll, transfer };
}

const settle = async <T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> => p.then((value) => ({ value }), (error: unknown) => ({ error }));

describe('RpcEngine: replies batched per caller and delivery batch', () => {
  it('many concurrent calls from every member: one reply frame per caller per member per batch, each call with exactly its own replies', async () => {
    const c = cluster();
    const echo = c.codec.method('Counter', 'echo');
    const add = c.codec.method('Counter', 'add');
    const note = c.codec.method('Counter', 'note');
    const calls: { caller: number; kind: 'echo' | 'add' | 'note'; tag: string; results: QueryResults<unknown> }[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) {
        for (const caller of [0, 1, 2]) {
          const tag = `${caller}.${round}.${i}`;
          if (i % 7 === 3) calls.push({ caller, kind: 'add', tag, results: c.engines[caller].callOrdered(0, add, [-1]) });
          else if (i % 5 === 4) calls.push({ caller, kind: 'note', tag, results: c.engines[caller].callOrdered(0, note, [tag]) });
          else calls.push({ caller, kind: 'echo', tag, results: c.engines[caller].callOrdered(0, echo, [tag]) });
        }
      }
      c.deliverAll();
      expect(c.wire).to.have.length(0);
      await Promise.resolve();
      // Every member answers each other caller once for the whole batch.
      const frames = c.wire.map((f) => `${f.from}->${f.to}`).sort();
      expect(frames).to.deep.equal(['0->1', '0->2', '1->0', '1->2', '2->0', '2->1']);
      for (const f of c.wire) expect(decodeRpcFrame(f.bytes.subarray(1)).kind).to.equal(RpcKind.OrderedReplies);
      c.transfer();
    }
    // Delivery order is the queue order, so each replica's n-th echo is the same call everywhere.
    const echoOrder = calls.filter((x) => x.kind === 'echo').map((x) => x.tag);
    for (const call of calls) {
      const replies = await call.results.replies;
      expect([...replies.keys()]).to.deep.equal([0, 1, 2]);
      for (const [node, p] of replies) {
        const got = await settle(p);
        if (call.kind === 'echo') expect(got.value).to.equal(`${node}/${call.tag}/${echoOrder.indexOf(call.tag)}`);
        else if (call.kind === 'note') expect(got).to.deep.equal({ value: undefined });
        else {
          expect(got.error).to.be.instanceOf(RemoteError);
          expect((got.error as RemoteError).message).to.equal(`node ${node}: RangeError: negative`);
        }
      }
    }
    expect(c.replicas.map((r) => r.notes.length)).to.deep.equal([36, 36, 36]);
    expect(c.dropped).to.deep.equal([]);
  });

  it('async handlers answer into whatever frame is open when they finish', async () => {
    const c = cluster();
    const later = c.codec.method('Counter', 'later');
    const results = [0, 1, 2].map((caller) => c.engines[caller].callOrdered<string>(0, later, [`t${caller}`]));
    c.deliverAll();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(c.transfer()).to.equal(6);
    for (let caller = 0; caller < 3; caller++) {
      expect([...(await results[caller].all())]).to.deep.equal([0, 1, 2].map((node) => [node, `${node}/t${caller}/${caller}`]));
    }
  });

  it('a member that fails mid-batch rejects exactly the replies it had not sent, with NodeRemovedError', async () => {
    const c = cluster();
    const echo = c.codec.method('Counter', 'echo');
    const first = [0, 1, 2].map((i) => c.engines[0].callOrdered<string>(0, echo, [`a${i}`]));
    c.deliverAll();
    await Promise.resolve();
    c.transfer();
    // Second batch: node 2 applies the calls but crashes before its reply frame leaves.
    const second = [0, 1, 2].map((i) => c.engines[0].callOrdered<string>(0, echo, [`b${i}`]));
    // And one call of another caller, whose entries must not be touched by node 0's bookkeeping.
    const fromOne = c.engines[1].callOrdered<string>(0, echo, ['c']);
    c.deliverAll();
    await Promise.resolve();
    c.transfer((f) => f.from !== 2);
    c.engines[0].onPeerFailed(2, 'connection reset');
    c.engines[1].onPeerFailed(2, 'connection reset');
    for (const [i, r] of first.entries()) expect([...(await r.all())]).to.deep.equal([[0, `0/a${i}/${i}`], [1, `1/a${i}/${i}`], [2, `2/a${i}/${i}`]]);
    for (const [i, r] of second.entries()) {
      const replies = await r.replies;
      expect(await replies.get(0)).to.equal(`0/b${i}/${3 + i}`);
      expect(await replies.get(1)).to.equal(`1/b${i}/${3 + i}`);
      const lost = await settle(replies.get(2)!);
      expect(lost.error).to.be.instanceOf(NodeRemovedError);
      expect((lost.error as NodeRemovedError).message).to.match(/connection reset/);
      expect(await r.first()).to.equal(`0/b${i}/${3 + i}`);
    }
    const other = await fromOne.replies;
    expect(await other.get(0)).to.equal('0/c/6');
    expect(await other.get(1)).to.equal('1/c/6');
    expect((await settle(other.get(2)!)).error).to.be.instanceOf(NodeRemovedError);
    // A late frame from the failed node changes nothing.
    c.wire.length = 0;
    expect(c.dropped).to.deep.equal([]);
  });

  it('replies to calls made before a failure but delivered after it list the failed member as removed', async () => {
    const c = cluster();
    const echo = c.codec.method('Counter', 'echo');
    const r = c.engines[0].callOrdered<string>(0, echo, ['x']);
    c.engines[0].onPeerFailed(2, 'gone');
    c.deliverAll();
    await Promise.resolve();
    c.transfer((f) => f.from !== 2);
    const replies = await r.replies;
    expect(await replies.get(1)).to.equal('1/x/0');
    expect((await settle(replies.get(2)!)).error).to.be.instanceOf(NodeRemovedError);
  });

  it('malformed reply frames drop the peer with a reason; a well-formed one for unknown calls is ignored', () => {
    const c = cluster();
    const frame = (count: number, entries: number[][]): Uint8Array => {
      const parts = [Buffer.from([RpcKind.OrderedReplies, 0, count & 0xff, count >> 8])];
      for (const [status, subgroup, invocation, bodyBytes, actualBytes] of entries) {
        const e = Buffer.alloc(16);
        e[0] = status;
        e.writeUInt32LE(subgroup, 4);
        e.writeUInt32LE(invocation, 8);
        e.writeUInt32LE(bodyBytes, 12);
        parts.push(e, Buffer.alloc(actualBytes ?? bodyBytes, 0xc0));
      }
      return Buffer.concat(parts);
    };
    const bad: [Uint8Array, RegExp][] = [
      [frame(0, []), /with no entries/],
      [frame(2, [[0, 0, 1, 1]]), /entry 1 of 2 is cut short/],
      [frame(1, [[0, 0, 1, 10, 3]]), /claims 10 body bytes/],
      [frame(1, [[7, 0, 1, 1]]), /unknown reply status 7/],
      [Buffer.concat([frame(1, [[0, 0, 1, 1]]), Buffer.from([1])]), /1 bytes after the last of 1 entries/],
      [new Uint8Array([RpcKind.OrderedReplies, 0, 1]), /at least 4 bytes/],
    ];
    for (const [bytes] of bad) c.engines[0].onFrame(1, bytes);
    expect(c.dropped.map((d) => d.peer)).to.deep.equal(bad.map(() => 1));
    c.dropped.forEach((d, i) => expect(d.why).to.match(bad[i][1]));
    c.dropped.length = 0;
    c.engines[0].onFrame(1, frame(2, [[0, 0, 12345, 1], [1, 0, 999, 1]]));
    expect(c.dropped).to.deep.equal([]);
  });
});

