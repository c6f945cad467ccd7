/**
 * What durability costs a replicated object: DurableKV (a Persistent map) on 3 members in this one
 * process (loopback fabric), for each of: persistent shard with fsync, persistent without fsync,
 * persistent with persistence disabled, and an ordered shard. Prints, per configuration:
 * - puts/s: one member puts --count values of --payload-bytes as fast as the window allows and
 *   waits for the last one's globalPersistence();
 * - put -> globalPersistence() latency p50/p99 over --samples sequential puts.
 * The three members share this process's event loop and the machine's cores, so absolute figures
 * are lower than one member per process; the differences between configurations are the point.
 *
 *   node --conditions=@derecho-ts/source --import tsx packages/examples/src/bench/durable-kv.ts [--count N] [--samples N] [--payload-bytes N] [--keys N]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Group, shards } from '@derecho-ts/runtime';
import { freeLoopbackPorts } from '@derecho-ts/runtime/testing';
import { wireSchema } from '../derecho.generated.js';
import { DurableKV } from '../durable-kv/durable-kv.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${process.argv[i + 1]}`);
  return n;
}

const count = arg('count', 5000);
const samples = arg('samples', 300);
const payloadBytes = arg('payload-bytes', 100);
// A Persistent map without deltas logs the whole map per version: the key space bounds what each version costs.
const keys = arg('keys', 16);

interface Setup {
  readonly name: string;
  readonly mode: 'persistent' | 'ordered';
  readonly enabled: boolean;
  readonly fsync: boolean;
}

const setups: Setup[] = [
  { name: 'persistent, fsync', mode: 'persistent', enabled: true, fsync: true },
  { name: 'persistent, no fsync', mode: 'persistent', enabled: true, fsync: false },
  { name: 'persistent, persistence off', mode: 'persistent', enabled: false, fsync: true },
  { name: 'ordered (volatile)', mode: 'ordered', enabled: true, fsync: true },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function run(setup: Setup): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'derecho-bench-durable-kv-'));
  const ports = await freeLoopbackPorts(3);
  const members = await Promise.all(
    [0, 1, 2].map((id) =>
      Group.join({
        schema: wireSchema,
        minMembers: 3,
        subgroups: [{ type: DurableKV, layout: shards({ minNodes: 3, mode: setup.mode }) }],
        config: {
          cluster: { secret: 'a durable-kv benchmark secret', contact: `127.0.0.1:${ports[0]}` },
          node: { id, host: '127.0.0.1', port: ports[id] },
          logging: { level: 'warn' },
          persistence: { enabled: setup.enabled, fsync: setup.fsync, dir: path.join(root, `node-${id}`) },
        },
      }),
    ),
  );
  try {
    const kv = members[0].subgroup(DurableKV);
    const value = new Uint8Array(payloadBytes).fill(7);
    const started = process.hrtime.bigint();
    let last = kv.ordered.put('k0', value);
    for (let i = 1; i < count; i++) {
      if (kv.queued >= 64) await kv.whenWritable(64);
      last = kv.ordered.put(`k${i % keys}`, value);
    }
    await last.globalPersistence();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const latenciesUs: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = process.hrtime.bigint();
      await kv.ordered.put(`k${i % keys}`, value).globalPersistence();
      latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    latenciesUs.sort((a, b) => a - b);
    return `${setup.name.padEnd(30)} ${Math.round(count / seconds).toString().padStart(8)} puts/s   put->globalPersistence p50 ${Math.round(percentile(latenciesUs, 0.5))} us, p99 ${Math.round(percentile(latenciesUs, 0.99))} us`;
  } finally {
    await Promise.all(members.map((g) => g.close()));
    fs.rmSync(root, { recursive: true, force: true });
  }
}

console.log(`DurableKV, 3 members in one process, ${payloadBytes}-byte values over ${keys} keys, ${count} pipelined puts, ${samples} sequential samples; logs under ${os.tmpdir()}`);
for (const setup of setups) console.log(await run(setup));
process.exit(0);
