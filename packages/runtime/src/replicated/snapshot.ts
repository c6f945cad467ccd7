/**
 * Consistent cuts across shards: `group.snapshot(time)` is a handle on which reads of any shard of
 * any typed subgroup see the state as of one HLC instant. Each read is a historical p2p read
 * (`asOf`) answered only by a replica whose shard's stability frontier has passed the instant, so
 * its answer can no longer change: two readers of the same cut get the same answers, from any
 * replica, without locks and without stopping writers. A replica not there yet refuses
 * (`notStable`) and the read tries again until `waitMs`; a replica that fails hands the read to
 * the next member of the shard (unless the caller named the node).
 */
import type { Hlc } from '../core/hlc.js';
import { toHlc, type TimeLike } from '../rpc/historical-read.js';
import { HistoricalReadError, NodeRemovedError } from '../rpc/rpc-errors.js';
import { guarded, methodsOf, requireShardMember, type SubgroupTarget } from './typed-subgroup.js';
import type { NodeId, P2PMethodName, P2PMethodsOf } from './types.js';

export interface SnapshotOptions {
  /**
   * How long a read may wait for a replica's stability frontier to pass the instant (a cut at
   * "now" waits about a heartbeat or two). Default 5000 ms.
   */
  readonly waitMs?: number;
}

/** Reads of one shard as of the snapshot's instant. */
export interface SnapshotShard<T> {
  readonly type: string;
  readonly index: number;
  readonly shard: number;
  /** Members of the shard in the current view. */
  readonly members: readonly NodeId[];
  /** The `@P2P()` methods as of the instant, at `nodeId` (default: the shard's members in turn, past failed ones). */
  p2p(nodeId?: NodeId): P2PMethodsOf<T, P2PMethodName<T>>;
}

export const DEFAULT_SNAPSHOT_WAIT_MS = 5000;
const FIRST_RETRY_MS = 2;
const MAX_RETRY_MS = 50;

export function snapshotInstant(time: TimeLike | undefined, nowUs: number): Hlc {
  return time === undefined ? toHlc(nowUs, 'group.snapshot()') : toHlc(time, 'group.snapshot()');
}

export function checkSnapshotOptions(options: SnapshotOptions): number {
  const waitMs = options.waitMs ?? DEFAULT_SNAPSHOT_WAIT_MS;
  if (!Number.isFinite(waitMs) || waitMs < 0) throw new RangeError(`group.snapshot(): waitMs must be a non-negative number of milliseconds, got ${String(waitMs)}`);
  return waitMs;
}

export function createSnapshotShard<T>(target: SubgroupTarget, time: Hlc, waitMs: number): SnapshotShard<T> {
  const where = `${target.className}[${target.index}] shard ${target.shard} as of ${time.wallUs}.${time.logical}`;
  const selector = { kind: 'asOf' as const, point: { time } };
  const codecs = methodsOf(target, 'p2p');
  return {
    type: target.className,
    index: target.index,
    shard: target.shard,
    get members() {
      return target.members();
    },
    p2p(nodeId?: NodeId) {
      if (nodeId !== undefined) requireShardMember(target, nodeId);
      const stub: Record<string, unknown> = {};
      for (const codec of codecs) {
        stub[codec.methodName] = (...args: unknown[]) => read(target, nodeId, waitMs, (node) => target.engine.callP2P(target.subgroupId, node, codec, args, selector));
      }
      return guarded(stub, `snapshot ${where}${nodeId === undefined ? '' : ` at node ${nodeId}`} (the @P2P() methods)`, codecs.map((c) => c.methodName));
    },
  };
}

/** One snapshot read: retried while the replica is not stable yet, moved on from failed members. */
async function read(target: SubgroupTarget, fixedNode: NodeId | undefined, waitMs: number, call: (node: NodeId) => Promise<unknown>): Promise<unknown> {
  const deadline = Date.now() + waitMs;
  const tried = new Set<NodeId>();
  let retryMs = FIRST_RETRY_MS;
  for (;;) {
    const node = fixedNode ?? target.members().find((m) => !tried.has(m));
    if (node === undefined) throw new NodeRemovedError(-1, `every member of ${target.className}[${target.index}] shard ${target.shard} failed during the snapshot read`);
    try {
      return await call(node);
    } catch (err) {
      if (err instanceof HistoricalReadError && err.reason === 'notStable' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
        continue;
      }
      if (err instanceof NodeRemovedError && fixedNode === undefined) {
        tried.add(node);
        continue;
      }
      if (err instanceof HistoricalReadError && err.reason === 'notStable') {
        throw new HistoricalReadError(err.nodeId, 'notStable', `${err.message.replace(/^node \d+: /, '')} (waited ${waitMs} ms for the shard's stability frontier; raise snapshot waitMs, or check that the shard is not wedged)`);
      }
      throw err;
    }
  }
}
