/**
 * `derecho bench core`: how fast the multicast core runs in the simulator (CPU cost of the
 * protocol alone, no network): N members all sending M messages of B bytes to one ordered shard.
 */
import { intValue, parseCommand, printUsage, type Command } from '../cli/command.js';
import { Prng } from '../sim/prng.js';
import { SimCluster } from '../sim/sim-cluster.js';

const USAGE = `usage: derecho bench core [--members N] [--messages N] [--bytes N] [--window N] [--smc N]
  The multicast core alone in the simulator (no network): every member sends to one ordered shard.
  --members N   members, all senders (default 3)
  --messages N  messages in all (default 20000)
  --bytes N     payload size (default 64)
  --window N    send window (default 16)
  --smc N       largest payload sent through the SST (default 1024)
`;

function run(args: string[]): number {
  const parsed = parseCommand(args, { members: { type: 'string' }, messages: { type: 'string' }, bytes: { type: 'string' }, window: { type: 'string' }, smc: { type: 'string' } });
  if (parsed === undefined) return printUsage({ usage: USAGE });
  const v = parsed.values;
  const members = intValue(v.members, '--members', 1, 64, 3);
  const messages = intValue(v.messages, '--messages', 1, 100_000_000, 20_000);
  const payloadBytes = intValue(v.bytes, '--bytes', 0, 1 << 24, 64);
  const windowSize = intValue(v.window, '--window', 1, 65536, 16);
  const maxSmcPayloadBytes = intValue(v.smc, '--smc', 0, 1 << 24, 1024);
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
  return 0;
}

export const core: Command = { name: 'derecho bench core', usage: USAGE, run };
