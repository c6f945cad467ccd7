/**
 * Reply batching alone, against a fake transport: one frame per caller per delivery batch, a
 * frame sent at once when it reaches its bound, the replies of a failed caller dropped, and on
 * close the replies already computed sent and later ones not.
 */
import { expect } from 'chai';
import pino from 'pino';
import { SchemaCodec } from '../../src/rpc/marshal.js';
import { defineWireSchema } from '../../src/rpc/marshal-schema.js';
import { ReplyBatcher } from '../../src/rpc/reply-batcher.js';
import type { RpcTransport } from '../../src/rpc/rpc-transport.js';
import { decodeRpcFrame, readOrderedReplies, ReplyStatus, RpcKind } from '../../src/rpc/rpc-wire.js';

const schema = defineWireSchema({
  hash: 'test',
  classes: { Echo: { methods: { echo: { id: 1, ordered: true, p2p: false, params: [{ name: 's', type: { t: 'string' }, optional: false }], result: { t: 'string' } } } } },
  types: {},
  structures: [],
});
const codec = new SchemaCodec(schema).method('Echo', 'echo');

function harness() {
  const sent: { to: number; invocations: number[]; statuses: ReplyStatus[] }[] = [];
  const transport: RpcTransport = {
    nodeId: 0,
    channel: 2,
    log: pino({ level: 'silent' }),
    view: () => undefined,
    multicast: () => {
      throw new Error('reply batching never multicasts');
    },
    sendP2P: (to, chunks) => {
      const frame = decodeRpcFrame(Buffer.concat(chunks.map((c) => Buffer.from(c))).subarray(1));
      if (frame.kind !== RpcKind.OrderedReplies) throw new Error(`expected an OrderedReplies frame, got kind ${frame.kind}`);
      const invocations: number[] = [];
      const statuses: ReplyStatus[] = [];
      readOrderedReplies(frame.frame, (entry) => {
        invocations.push(entry.invocation);
        statuses.push(entry.status);
      });
      sent.push({ to, invocations, statuses });
    },
    dropPeer: () => {},
  };
  return { sent, batcher: new ReplyBatcher(transport) };
}

const nextMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ReplyBatcher', () => {
  it('sends one frame per caller when the delivery batch ends, errors included', async () => {
    const { sent, batcher } = harness();
    batcher.add(1, 0, 10, codec, true, 'a');
    batcher.add(2, 0, 11, codec, true, 'b');
    batcher.add(1, 0, 12, codec, false, new RangeError('no'));
    expect(sent).to.deep.equal([]);
    await nextMicrotasks();
    expect(sent).to.deep.equal([
      { to: 1, invocations: [10, 12], statuses: [ReplyStatus.Ok, ReplyStatus.Exception] },
      { to: 2, invocations: [11], statuses: [ReplyStatus.Ok] },
    ]);
  });

  it('drops the replies due to a caller that failed', async () => {
    const { sent, batcher } = harness();
    batcher.add(1, 0, 10, codec, true, 'a');
    batcher.add(2, 0, 11, codec, true, 'b');
    batcher.dropCaller(1);
    await nextMicrotasks();
    expect(sent.map((s) => s.to)).to.deep.equal([2]);
  });

  it('on close sends the replies already computed, and none after', async () => {
    const { sent, batcher } = harness();
    batcher.add(1, 0, 10, codec, true, 'a');
    batcher.close();
    expect(sent).to.deep.equal([{ to: 1, invocations: [10], statuses: [ReplyStatus.Ok] }]);
    batcher.add(1, 0, 11, codec, true, 'late');
    await nextMicrotasks();
    expect(sent).to.have.length(1);
  });

  it('sends a frame at once when its bodies reach the byte bound', () => {
    const { sent, batcher } = harness();
    const big = 'x'.repeat(3 << 20);
    batcher.add(1, 0, 10, codec, true, big);
    expect(sent).to.deep.equal([]);
    batcher.add(1, 0, 11, codec, true, big);
    expect(sent).to.deep.equal([{ to: 1, invocations: [10, 11], statuses: [ReplyStatus.Ok, ReplyStatus.Ok] }]);
  });
});
