#!/usr/bin/env node
/**
 * Prints how fast the multicast core runs in the simulator (CPU cost of the protocol alone, no
 * network): N members all sending M messages of B bytes to one ordered shard.
 *   node --conditions=@derecho-ts/source --import tsx packages/runtime/src/bench/core-sim.ts [--members 3] [--messages 20000] [--bytes 64] [--window 16] [--smc 1024]
 */
import { Prng } from '../sim/prng.js';
import { SimCluster } from '../sim/sim-cluster.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer, got ${process.argv[i + 1]}`);
  return v;
}

const members = arg('members', 3);
const messages = arg('messages', 20_000);
const payloadBytes = arg('bytes', 64);
const windowSize = arg('window', 16);
const maxSmcPayloadBytes = arg('smc', 1024);
const ids = Array.from({ length: members }, (_, i) => i);
let delivered = 0;
const cluster = new SimCluster({
  view: { vid: 1, members: ids, subgroups: [{ shards: [{ members: ids, senders: ids.map(() => true), mode: 'ordered' }], params: { windowSize, maxSmcPayloadBytes, maxPayloadBytes: Math.max(maxSmcPayloadBytes, payloadBytes) } }] },
  network: { baseDelayUs: 2, jitterUs: 0, bandwidthBytesPerUs: 10_000 },
  prng: new Prng(1),
  observer: { onDeliver: () => void delivered++ },
});
const payload = new Uint8Array(payloadBytes);
const perSender = Math.ceil(messages / members);
for (let i = 0; i < perSender; i++) for (let r = 0; r < members; r++) cluster.scheduleSend(i, r, 0, payload);
const started = process.hrtime.bigint();
cluster.run();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const sent = perSender * members;
process.stdout.write(
  `members=${members} messages=${sent} bytes=${payloadBytes} window=${windowSize} smc=${maxSmcPayloadBytes}: ` +
    `${delivered} deliveries (${delivered / members} per member) in ${seconds.toFixed(2)}s CPU => ` +
    `${Math.round(sent / seconds)} msgs/s through the whole group, ${cluster.eventsRun} sim events, ${cluster.pushesSent} pushes\n`,
);
