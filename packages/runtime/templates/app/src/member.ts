/**
 * One member of the group: `node dist/member.js <nodeId>`, with the cluster in the environment
 * (see run-local.ts). Node 0 is the contact: it forms the group, the others join through it. Once
 * all three are in, node 0 makes an ordered call and prints every replica's reply as one line:
 * `RESULT {"0":5,"1":5,"2":5}`. Each member leaves when its stdin closes.
 */
import { Group, shards } from '@derecho-ts/runtime';
import { Counter } from './counter.js';
import { wireSchema } from './derecho.generated.js';

const nodeId = Number(process.argv[2]);
const ports = (process.env.DERECHO_APP_PORTS ?? '').split(',').map(Number);
const secret = process.env.DERECHO_APP_SECRET ?? '';
if (!Number.isInteger(nodeId) || ports[nodeId] === undefined || secret.length < 16) {
  console.error('usage: DERECHO_APP_PORTS=p0,p1,p2 DERECHO_APP_SECRET=<16+ characters> node dist/member.js <nodeId>');
  process.exit(2);
}

const group = await Group.join({
  config: {
    cluster: { secret, contact: `127.0.0.1:${ports[0]}` },
    node: { id: nodeId, host: '127.0.0.1', port: ports[nodeId] },
    // 'info' shows membership events; members starting at the same moment retry their first connections.
    logging: { level: 'error' },
  },
  schema: wireSchema,
  subgroups: [{ type: Counter, layout: shards({ minNodes: 3 }) }],
  minMembers: 3,
});

if (nodeId === 0) {
  const replies = await group.subgroup(Counter).ordered.add(5).all();
  console.log(`RESULT ${JSON.stringify(Object.fromEntries(replies))}`);
}

process.stdin.resume();
process.stdin.on('end', () => {
  void group.close().then(() => process.exit(0));
});
