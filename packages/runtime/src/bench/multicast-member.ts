/**
 * One member of a multicast run, as a child process of `derecho bench bandwidth|latency` or of a
 * process test. It joins the group, sends its share, records what it delivered, prints one JSON
 * result line on stdout, and stays in the group until its parent writes "exit" on stdin (a member
 * that left early would stall the others' stability).
 *
 * Input: the JSON of MulticastMemberTask in the environment variable DERECHO_MEMBER_TASK.
 */
import { createHash } from 'node:crypto';
import { fillPayload } from './payload-pattern.js';
import { customShards } from '../layout/constructors.js';
import { Group } from '../replicated/group.js';
import type { RawDelivery } from '../replicated/raw-subgroup.js';

export interface MulticastMemberTask {
  readonly config: object;
  readonly numNodes: number;
  /** Node ids of the members that send (in the layout's reserved-sender list). */
  readonly senderIds: readonly number[];
  readonly memberIds: readonly number[];
  readonly mode: 'ordered' | 'unordered';
  readonly messagesPerSender: number;
  readonly payloadBytes: number;
  /** 'bandwidth': send as fast as the window allows. 'latency': one message in flight at a time. */
  readonly pattern: 'bandwidth' | 'latency';
  /** Payloads carry (sender, index) and a pattern so receivers can verify them byte for byte. */
  readonly verifyPayloads: boolean;
  /** When set, every fourth message of a sender has this size instead (e.g. above the SMC limit, so
   *  one sender's stream alternates between SMC and RDMC). */
  readonly everyFourthBytes?: number;
  /** 'sha256' (tests): digests cover every payload byte. 'fast' (benchmarks): an FNV-1a digest over
   *  sender, index, length and the first and last 8 payload bytes, cheap enough not to dominate. */
  readonly digest?: 'sha256' | 'fast';
}

/** The size of message `index` of any sender in this task. */
export function payloadSize(task: Pick<MulticastMemberTask, 'payloadBytes' | 'everyFourthBytes'>, index: number): number {
  return task.everyFourthBytes !== undefined && index % 4 === 3 ? task.everyFourthBytes : task.payloadBytes;
}

export interface MulticastMemberResult {
  readonly nodeId: number;
  readonly delivered: number;
  readonly elapsedNs: number;
  /** SHA-256 over (sender, index, payload) of every delivery in delivery order. */
  readonly orderDigest: string;
  /** Per sender: SHA-256 over (index, payload) in delivery order. */
  readonly senderDigests: Record<string, string>;
  readonly firstVersion: string;
  readonly lastVersion: string;
  /** Latency pattern, at the sender: send-to-own-delivery times in microseconds. */
  readonly latenciesUs?: readonly number[];
  readonly errors: readonly string[];
  /** CPU time this process used between the start and the last delivery, and the receive-path
   *  counters over the same span: load-independent figures of where the time goes. */
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly pollBatches: number;
  readonly remoteWrites: number;
}


/** Checks that a delivery is the `count`-th message (from 0) its sender sent, byte for byte. */
function checkPayload(d: RawDelivery, count: number, task: MulticastMemberTask): string | undefined {
  const payloadBytes = payloadSize(task, count);
  if (d.payload.length !== payloadBytes) return `message ${count} of sender ${d.sender} has ${d.payload.length} bytes, expected ${payloadBytes}`;
  const expected = new Uint8Array(payloadBytes);
  fillPayload(expected, d.sender, count);
  for (let i = 0; i < payloadBytes; i++) if (expected[i] !== d.payload[i]) return `message ${count} of sender ${d.sender} differs at byte ${i}`;
  return undefined;
}

interface Digest {
  update(bytes: Uint8Array): Digest;
  digest(encoding: 'hex'): string;
}

/** FNV-1a over a sample of each update: enough to tell reordered or substituted messages apart. */
class FastDigest implements Digest {
  private h = 0x811c9dc5;
  update(bytes: Uint8Array): Digest {
    let h = this.h ^ bytes.length;
    const n = bytes.length;
    const sample = n <= 16 ? n : 8;
    for (let i = 0; i < sample; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    if (n > 16) for (let i = n - 8; i < n; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    this.h = h >>> 0;
    return this;
  }
  digest(): string {
    return this.h.toString(16).padStart(8, '0');
  }
}

async function main(): Promise<void> {
  const task = JSON.parse(process.env.DERECHO_MEMBER_TASK ?? 'null') as MulticastMemberTask | null;
  if (task === null) throw new Error('DERECHO_MEMBER_TASK is not set');
  const layout = customShards([{ minNodes: task.numNodes, maxNodes: task.numNodes, mode: task.mode, reservedNodeIds: task.memberIds, reservedSenderIds: task.senderIds }]);
  const group = await Group.join({ config: task.config, subgroups: [{ name: 'bench', layout }], minMembers: task.numNodes });
  const me = group.nodeId;
  const sub = group.rawSubgroup('bench');
  const expected = task.messagesPerSender * task.senderIds.length;
  const makeDigest = task.digest === 'fast' ? () => new FastDigest() : () => createHash('sha256');
  const order = makeDigest();
  const perSender = new Map<number, Digest>();
  const errors: string[] = [];
  // Per sender: how many of its messages were delivered, and the last protocol index. Indices
  // strictly increase but may skip: in ordered mode null messages consume indices too.
  const counts = new Map<number, number>();
  const lastIndex = new Map<number, number>();
  const header = new Uint8Array(8);
  const headerView = new DataView(header.buffer);
  let delivered = 0;
  let firstVersion = -1n;
  let lastVersion = -1n;
  const latenciesUs: number[] = [];
  let ownSentAtNs = 0n;
  let onOwnDelivery: (() => void) | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });

  sub.on('deliver', (d) => {
    delivered++;
    if (firstVersion < 0n) firstVersion = d.version;
    if (task.mode === 'ordered' && d.version <= lastVersion) errors.push(`version ${d.version} after ${lastVersion}`);
    lastVersion = d.version;
    const count = counts.get(d.sender) ?? 0;
    counts.set(d.sender, count + 1);
    const prev = lastIndex.get(d.sender) ?? -1;
    if (d.index <= prev) errors.push(`sender ${d.sender}: index ${d.index} delivered after index ${prev}`);
    if (task.mode === 'unordered' && d.index !== prev + 1) errors.push(`sender ${d.sender}: index ${d.index} delivered after ${prev} in unordered mode (no nulls there)`);
    lastIndex.set(d.sender, d.index);
    if (task.verifyPayloads) {
      const problem = checkPayload(d, count, task);
      if (problem) errors.push(problem);
    }
    headerView.setUint32(0, d.sender, true);
    headerView.setUint32(4, d.index, true);
    order.update(header).update(d.payload);
    let h = perSender.get(d.sender);
    if (h === undefined) perSender.set(d.sender, (h = makeDigest()));
    h.update(header.subarray(4)).update(d.payload);
    if (d.sender === me && onOwnDelivery) {
      latenciesUs.push(Number(process.hrtime.bigint() - ownSentAtNs) / 1000);
      onOwnDelivery();
    }
    if (delivered === expected) finish();
  });

  const startNs = process.hrtime.bigint();
  const startCpu = process.cpuUsage();
  const startStats = { ...group.stats };
  if (task.senderIds.includes(me)) {
    // send() copies, so without verification one buffer per size serves every message (as in
    // Derecho's own benchmark, which allocates nothing per message either).
    const reused = new Map<number, Uint8Array>();
    const payload = (index: number): Uint8Array => {
      const size = payloadSize(task, index);
      if (!task.verifyPayloads) {
        let p = reused.get(size);
        if (p === undefined) reused.set(size, (p = new Uint8Array(size)));
        return p;
      }
      const p = new Uint8Array(size);
      fillPayload(p, me, index);
      return p;
    };
    if (task.pattern === 'latency') {
      for (let i = 0; i < task.messagesPerSender; i++) {
        const own = new Promise<void>((resolve) => {
          onOwnDelivery = resolve;
        });
        ownSentAtNs = process.hrtime.bigint();
        sub.send(payload(i));
        await own;
      }
      onOwnDelivery = undefined;
    } else {
      for (let i = 0; i < task.messagesPerSender; i++) {
        if (sub.queued >= 64) await sub.whenWritable(16);
        sub.send(payload(i));
      }
    }
  }
  if (expected > 0) await done;
  const elapsedNs = Number(process.hrtime.bigint() - startNs);
  const cpu = process.cpuUsage(startCpu);
  const result: MulticastMemberResult = {
    nodeId: me,
    delivered,
    elapsedNs,
    orderDigest: order.digest('hex'),
    senderDigests: Object.fromEntries([...perSender].map(([s, h]) => [String(s), h.digest('hex')])),
    firstVersion: String(firstVersion),
    lastVersion: String(lastVersion),
    latenciesUs: task.pattern === 'latency' && task.senderIds.includes(me) ? latenciesUs : undefined,
    errors: errors.slice(0, 20),
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    pollBatches: group.stats.pollBatches - startStats.pollBatches,
    remoteWrites: group.stats.remoteWrites - startStats.remoteWrites,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  // Stay until the parent says every member is done.
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) if (String(chunk).includes('exit')) break;
  group.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`multicast member failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
