/**
 * What the RPC layer alone costs per ordered call, without a network or a protocol under it:
 * `members` engines in one process, wired by fake transports. Every member calls in turn; the
 * multicasts are "delivered" to every engine in one order (as the core would), then the reply
 * frames of that batch are handed to their callers. The figure is per member per call: each call
 * is made once and applied (and, for non-void methods, answered) by every member, so one member's
 * share is the total divided by members × calls. Returns figures; printing is the caller's.
 */
import type { DeliverOutput } from '../core/core-io.js';
import type { GroupView } from '../core/membership/group-view.js';
import { makeVersion } from '../core/version.js';
import { createLogger } from '../util/logger.js';
import type { QueryResults } from '../rpc/query-results-api.js';
import type { WireSchema } from '../rpc/marshal-schema.js';
import { SchemaCodec } from '../rpc/marshal.js';
import { RpcEngine, type RpcTransport } from '../rpc/rpc-engine.js';

export interface RpcLayerBenchOptions {
  readonly schema: WireSchema;
  readonly className: string;
  readonly methodName: string;
  readonly args: readonly unknown[];
  /** Builds member `nodeId`'s replica. */
  readonly create: (nodeId: number) => object;
  readonly members?: number;
  /** Timed calls in all (after a warm-up of a tenth as many). */
  readonly calls?: number;
  /** Calls per member per delivery batch. */
  readonly batch?: number;
  /** Await every call's `all()` (else nobody reads the results, as a throughput-bound writer). */
  readonly awaitAll?: boolean;
}

export interface RpcLayerFigure {
  /** Wall time per member per call (the loop runs alone on one thread). */
  readonly nsPerCallPerMember: number;
  /** CPU time of this process per member per call (GC threads included). */
  readonly cpuNsPerCallPerMember: number;
}

export async function measureRpcLayerCost(options: RpcLayerBenchOptions): Promise<RpcLayerFigure> {
  const memberCount = options.members ?? 3;
  const calls = options.calls ?? 90_000;
  const batch = options.batch ?? 100;
  const memberIds = Array.from({ length: memberCount }, (_, i) => i);
  const view: GroupView = {
    vid: 0,
    members: memberIds.map((id) => ({ id, host: '127.0.0.1', port: 1 })),
    subgroups: [
      {
        type: options.className,
        index: 0,
        shards: [{ members: memberIds, senders: memberIds.map(() => true), mode: 'ordered' }],
        params: { windowSize: 1024, maxPayloadBytes: 1 << 20, maxSmcPayloadBytes: 1 << 20, blockBytes: 1 << 20 },
      },
    ],
  };
  const queued: { sender: number; payload: Uint8Array }[] = [];
  const frames: { from: number; to: number; bytes: Uint8Array }[] = [];
  const log = createLogger('silent');
  const codec = new SchemaCodec(options.schema);
  const deliveryCodec = new SchemaCodec(options.schema, {}, { copyBuffers: false });
  const engines = memberIds.map((id) => {
    const transport: RpcTransport = {
      nodeId: id,
      channel: 2,
      log,
      view: () => view,
      // The core copies what it sends and delivers a copy: so does this stand-in.
      multicast: (_subgroup, payload) => queued.push({ sender: id, payload: payload.slice() }),
      sendP2P: (to, chunks) => frames.push({ from: id, to, bytes: (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).subarray(1) }),
      dropPeer: (peer, why) => {
        throw new Error(`rpc layer bench: node ${id} dropped ${peer}: ${why}`);
      },
    };
    const engine = new RpcEngine(transport, codec, new Map([[options.className, { className: options.className, create: () => options.create(id) }]]), deliveryCodec);
    engine.onView(view);
    return engine;
  });
  const method = codec.method(options.className, options.methodName);
  let seq = 0;
  let pending = 0;
  const done = (): void => {
    pending--;
  };
  const round = (): void => {
    for (let k = 0; k < batch; k++) {
      for (const engine of engines) {
        const results: QueryResults<unknown> = engine.callOrdered(0, method, options.args);
        if (options.awaitAll) {
          pending++;
          void results.all().then(done, done);
        }
      }
    }
    for (const { sender, payload } of queued.splice(0)) {
      const d: DeliverOutput = { kind: 'deliver', subgroup: 0, shard: 0, senderNode: sender, index: seq, version: makeVersion(0, seq), hlc: { wallUs: seq, logical: 0 }, payload, cooked: true };
      seq++;
      for (const engine of engines) engine.onDeliver(d, view);
    }
  };
  /** Replies go out when a batch's synchronous run ends: let them, then hand them over. */
  const settle = async (): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve));
    for (const f of frames.splice(0)) engines[f.to].onFrame(f.from, f.bytes);
    await new Promise((resolve) => setImmediate(resolve));
  };
  const rounds = Math.max(1, Math.round(calls / (batch * memberCount)));
  for (let i = 0; i < Math.max(1, Math.round(rounds / 10)); i++) {
    round();
    await settle();
  }
  const startNs = process.hrtime.bigint();
  const startCpu = process.cpuUsage();
  for (let i = 0; i < rounds; i++) {
    round();
    await settle();
  }
  const elapsedNs = Number(process.hrtime.bigint() - startNs);
  const cpu = process.cpuUsage(startCpu);
  if (pending !== 0) throw new Error(`rpc layer bench: ${pending} calls still wait for replies`);
  for (const engine of engines) engine.close('bench over');
  const perMemberCalls = rounds * batch * memberCount * memberCount;
  return { nsPerCallPerMember: elapsedNs / perMemberCalls, cpuNsPerCallPerMember: ((cpu.user + cpu.system) * 1000) / perMemberCalls };
}
