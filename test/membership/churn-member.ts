/**
 * A member that multicasts continuously until told to stop, for failure tests. Protocol with the
 * parent, one line each way:
 *   member -> parent: `VIEW <vid> <ids,...>` at each installed view; `DELIVERED <n>` every 2000
 *                     deliveries; `SENT <count>` after "stop"; `RESULT <json>` at the end;
 *                     `SHUTDOWN <reason>` if the group stopped this node.
 *   parent -> member: `stop` (stop sending); `expect <json {sender: count}>` (finish once these
 *                     are delivered); `leave` (stop sending, leave the group); `exit`;
 *                     `block <ms>` (the next delivery handler busy-waits that long, then the
 *                     member says `BLOCKED <ms actually blocked>`).
 * Every payload carries (sender, per-sender counter) and a byte pattern, checked at delivery:
 * a sender's messages must arrive exactly once, in order, byte for byte.
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Group, customShards } from '@derecho-ts/runtime';
import { fillPayload } from '@derecho-ts/runtime/internals';

interface ChurnTask {
  readonly config: object;
  readonly memberIds: readonly number[];
  readonly payloadBytes: number;
  /** Joins a running group (no waiting for the others at formation). */
  readonly late?: boolean;
  /** How many members form the group (the rest of memberIds join later). */
  readonly initialMembers: number;
}

const task = JSON.parse(process.env.DERECHO_MEMBER_TASK ?? 'null') as ChurnTask;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const layout = customShards([{ minNodes: 2, maxNodes: task.memberIds.length, mode: 'ordered' }]);
const group = await Group.join({ config: task.config, subgroups: [{ name: 'churn', layout }], minMembers: task.late ? undefined : task.initialMembers });
const me = group.nodeId;
const sub = group.rawSubgroup('churn');
const counts = new Map<number, number>();
const order = createHash('sha256');
/** Per view: a digest of what was delivered in it (a joiner compares from its first view on). */
const perView = new Map<number, ReturnType<typeof createHash>>();
const errors: string[] = [];
let delivered = 0;
let blockNextDeliveryMs = 0;
let expected: Record<string, number> | undefined;
let finished = false;
const views: string[] = [];

const report = (): void => {
  if (finished || expected === undefined) return;
  for (const [sender, n] of Object.entries(expected)) if ((counts.get(Number(sender)) ?? 0) < n) return;
  finished = true;
  const viewDigests = Object.fromEntries([...perView].map(([vid, h]) => [vid, h.digest('hex')]));
  say(`RESULT ${JSON.stringify({ nodeId: me, delivered, digest: order.digest('hex'), viewDigests, counts: Object.fromEntries(counts), views, errors: errors.slice(0, 20) })}`);
};

// A sender that left the view and comes back is a new process whose counter starts again at 0.
let inView = new Set(group.view.members.map((m) => m.id));
const departed = new Set<number>();
group.on('view', (v) => {
  const now = new Set(v.members.map((m) => m.id));
  for (const id of inView) if (!now.has(id)) departed.add(id);
  for (const id of now)
    if (departed.has(id)) {
      departed.delete(id);
      counts.delete(id);
    }
  inView = now;
  views.push(`${v.vid}:${v.members.map((m) => m.id).join(',')}`);
  say(`VIEW ${v.vid} ${v.members.map((m) => m.id).join(',')}`);
});
group.on('shutdown', (e) => say(`SHUTDOWN ${e.reason}`));
views.push(`${group.view.vid}:${group.view.members.map((m) => m.id).join(',')}`);
say(`VIEW ${group.view.vid} ${group.view.members.map((m) => m.id).join(',')}`);

sub.on('deliver', (d) => {
  if (blockNextDeliveryMs > 0) {
    // A slow synchronous handler: the event loop does nothing else meanwhile.
    const start = Date.now();
    while (Date.now() - start < blockNextDeliveryMs);
    blockNextDeliveryMs = 0;
    say(`BLOCKED ${Date.now() - start}`);
  }
  // `counts` holds each sender's next expected counter. A late joiner sees the old senders'
  // streams from the middle: it adopts the counter of the first message it gets from each.
  const carried = new DataView(d.payload.buffer, d.payload.byteOffset, d.payload.byteLength).getUint32(4, true);
  const n = counts.get(d.sender) ?? (task.late ? carried : 0);
  counts.set(d.sender, n + 1);
  const expect = new Uint8Array(task.payloadBytes);
  fillPayload(expect, d.sender, n);
  if (d.payload.length !== expect.length || !expect.every((b, i) => b === d.payload[i])) errors.push(`message ${n} of sender ${d.sender} is not the ${n}-th it sent (duplicate, gap or corruption)`);
  const h = new Uint8Array(8);
  new DataView(h.buffer).setUint32(0, d.sender, true);
  new DataView(h.buffer).setUint32(4, n, true);
  order.update(h).update(d.payload);
  const vid = Number(d.version >> 32n);
  let pv = perView.get(vid);
  if (pv === undefined) perView.set(vid, (pv = createHash('sha256')));
  pv.update(h).update(d.payload);
  delivered++;
  if (delivered % 2000 === 0) say(`DELIVERED ${delivered}`);
  report();
});

let sending = true;
let sent = 0;
const sendLoop = async (): Promise<void> => {
  while (sending) {
    if (sub.queued >= 32) await sub.whenWritable(8);
    if (!sending) break;
    const p = new Uint8Array(task.payloadBytes);
    fillPayload(p, me, sent);
    sub.send(p);
    sent++;
    // Yield now and then so deliveries and the protocol run.
    if (sent % 16 === 0) await new Promise((r) => setImmediate(r));
  }
};
const loop = sendLoop();

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stop') {
    sending = false;
    await loop;
    say(`SENT ${sent}`);
  } else if (line.startsWith('expect ')) {
    expected = JSON.parse(line.slice(7)) as Record<string, number>;
    report();
  } else if (line === 'leave') {
    sending = false;
    await loop;
    void group.leave();
  } else if (line.startsWith('block ')) {
    blockNextDeliveryMs = Number(line.slice(6));
  } else if (line === 'exit') {
    break;
  }
}
group.close();
process.exit(0);
