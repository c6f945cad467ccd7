/**
 * A member for the "leader outside every shard" scenario (issue 10). One raw subgroup, one shard
 * of exactly 3 members whose reserved ids are 0..4, so a node with another id (100) joins the
 * group but no shard, and becomes leader once the lower ranks fail. Nodes 3 and 4 send
 * continuously. Lines to the parent:
 *   `VIEW <vid> <ids,...>` at each installed view; `DELIVERED <vid> <n>` every 500 deliveries
 *   (n counts deliveries in that view); `SHUTDOWN <reason> <message>`;
 *   `RESULT <json>` after `report` (errors: versions or HLCs that did not strictly increase).
 */
import { createInterface } from 'node:readline';
import { Group, customShards, compareHlc, formatHlc, type Hlc } from '@derecho-ts/runtime';

interface Task {
  readonly config: object;
  /** How many members form the group (nodes 0..initialMembers-1); the others join it later. */
  readonly initialMembers: number;
  readonly late: boolean;
}

const task = JSON.parse(process.env.DERECHO_MEMBER_TASK ?? 'null') as Task;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const layout = customShards([{ minNodes: 3, maxNodes: 3, reservedNodeIds: [0, 1, 2, 3, 4], mode: 'ordered' }]);
const group = await Group.join({ config: task.config, subgroups: [{ name: 'log', layout }], minMembers: task.late ? undefined : task.initialMembers });
const me = group.nodeId;
const errors: string[] = [];
let last: { version: bigint; hlc: Hlc } | undefined;
const perView = new Map<number, number>();

group.on('view', (v) => say(`VIEW ${v.vid} ${v.members.map((m) => m.id).join(',')}`));
group.on('shutdown', (e) => say(`SHUTDOWN ${e.reason} ${e.message.replace(/\n/g, ' ')}`));
say(`VIEW ${group.view.vid} ${group.view.members.map((m) => m.id).join(',')}`);

// Node 100 is in no shard at first: it hears of deliveries only once it moves into the shard.
const sub = group.rawSubgroup('log');
sub.on('deliver', (d) => {
  if (last !== undefined && (d.version <= last.version || compareHlc(d.hlc, last.hlc) <= 0)) {
    if (errors.length < 20) errors.push(`v${d.version} @${formatHlc(d.hlc)} delivered after v${last.version} @${formatHlc(last.hlc)}`);
  }
  last = { version: d.version, hlc: d.hlc };
  const vid = Number(d.version >> 32n);
  const n = (perView.get(vid) ?? 0) + 1;
  perView.set(vid, n);
  if (n % 500 === 0) say(`DELIVERED ${vid} ${n}`);
});

let sending = me === 3 || me === 4;
const sendLoop = async (): Promise<void> => {
  const payload = new Uint8Array(64);
  let sent = 0;
  while (sending) {
    try {
      if (sub.queued >= 32) await sub.whenWritable(8);
      if (!sending) break;
      new DataView(payload.buffer).setUint32(0, sent++, true);
      sub.send(payload);
    } catch (err) {
      // Not in the shard while a view change moves it (cannot happen for 3 and 4; reported if it does).
      errors.push(`send: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // A steady stream, not a flood: every view has deliveries and the machine stays responsive.
    if (sent % 8 === 0) await new Promise((r) => setTimeout(r, 1));
  }
};
const loop = sendLoop();

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'report') {
    sending = false;
    await loop;
    say(`RESULT ${JSON.stringify({ nodeId: me, errors, perView: Object.fromEntries(perView) })}`);
  } else if (line === 'exit') break;
}
await group.close();
process.exit(0);
