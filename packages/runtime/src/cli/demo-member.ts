/**
 * One member of `derecho demo`: joins a 3-process fabric on loopback, exchanges SST rows with the
 * other two, takes part in one RDMC multicast, prints what it saw and exits. Driven by the demo
 * parent over IPC: it reports { port }, then receives { peers }.
 */
import { createHash } from 'node:crypto';
import { Endpoint, type PollResult } from '@derecho-ts/rdma-native';

const nodeId = Number(process.argv[2]);
const members = [1, 2, 3];
const rowBytes = 32;
const say = (line: string) => process.stdout.write(`[node ${nodeId}] ${line}\n`);

const ep = Endpoint.open({ nodeId, buildHash: 'derecho-demo', secret: 'demo-cluster-secret' });
const batches: PollResult[] = [];
ep.onPoll((r) => batches.push(r));
process.send?.({ port: ep.port });

process.once('message', (raw) => {
  void run((raw as { peers: { nodeId: number; port: number }[] }).peers).then(
    () => {
      ep.close();
      process.exit(0);
    },
    (err: unknown) => {
      say(`failed: ${err instanceof Error ? err.message : String(err)}`);
      ep.close();
      process.exit(1);
    },
  );
});

async function run(peers: { nodeId: number; port: number }[]): Promise<void> {
  for (const p of peers) ep.connect(p.nodeId, '127.0.0.1', p.port);
  await ep.waitConnected(peers.map((p) => p.nodeId), 10_000);

  // SST: each member writes a greeting into its own row and pushes it to the other two.
  const sst = ep.createRegion({ regionId: 1, rowBytes, members });
  const greeting = (id: number) => `hello from node ${id}`;
  sst.ownRow().set(new TextEncoder().encode(greeting(nodeId)));
  sst.put([[0, rowBytes]]);
  const text = (id: number) => new TextDecoder().decode(sst.rowOf(id)).replace(/\0+$/, '');
  const others = members.filter((m) => m !== nodeId);
  await ep.waitFor(() => others.every((m) => text(m) === greeting(m)), 10_000, 'the other rows', others);
  for (const m of others) say(`row of node ${m}: "${text(m)}"`);

  // RDMC: node 1 multicasts 3 MiB + 17 bytes to the group in 256 KiB blocks.
  const group = ep.createRdmcGroup({ groupId: 1, members, blockBytes: 256 * 1024 });
  if (nodeId === 1) {
    const data = new Uint8Array(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 255;
    say(`sending ${data.length} bytes, sha256 ${createHash('sha256').update(data).digest('hex').slice(0, 16)}`);
    group.send(data);
  }
  const seen = () => batches.flatMap((b) => b.rdmc);
  await ep.waitFor(() => seen().length > 0, 20_000, 'the rdmc message', others);
  const m = seen()[0];
  const what = m.ownMessage ? 'every receiver has my message' : `received from node ${m.sender}`;
  say(`rdmc: ${what}: ${m.data.byteLength} bytes, sha256 ${createHash('sha256').update(m.data).digest('hex').slice(0, 16)}`);
  // Stay until everyone is done so no one sees the others leave as a failure mid-demo.
  const done = ep.createRegion({ regionId: 2, rowBytes: 1, members });
  done.ownRow()[0] = 1;
  done.put([[0, 1]]);
  // No failure watch here: a member that has seen everyone finish leaves, which is not a failure.
  await ep.waitFor(() => others.every((o) => done.rowOf(o)[0] === 1), 10_000, 'the others to finish');
}
