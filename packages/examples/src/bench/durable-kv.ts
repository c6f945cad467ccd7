/**
 * What durability costs a replicated object: DurableKV (a PersistentMap) on 3 members in this one
 * process (loopback fabric), for each of: persistent shard with fsync, persistent without fsync,
 * persistent with persistence disabled, and an ordered shard. Prints, per configuration:
 * - puts/s: every replica's map starts with --keys keys; after one warm-up put (which logs the
 *   whole map as the first checkpoint), one member puts --count values of --payload-bytes over
 *   those keys as fast as the window allows and waits for the last one's globalPersistence();
 * - put -> globalPersistence() latency p50/p99 over --samples sequential puts.
 * The three members share this process's event loop and the machine's cores, so absolute figures
 * are lower than one member per process; the differences between configurations are the point.
 *
 *   derecho-examples bench durable-kv [--count N] [--samples N] [--payload-bytes N] [--keys N] [--json]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Group, shards } from '@derecho-ts/runtime';
import { freeLoopbackPorts, intValue, parseCommand, printUsage, type Command } from '@derecho-ts/runtime/internals';
import { wireSchema } from '../derecho.generated.js';
import { DurableKV } from '../durable-kv/durable-kv.js';

const USAGE = `usage: derecho-examples bench durable-kv [--count N] [--samples N] [--payload-bytes N] [--keys N] [--json]
  What durability costs: DurableKV puts with fsync, without, with persistence off, and volatile.
  --count N          pipelined puts per configuration (default 5000)
  --samples N        sequential puts timed to global persistence (default 300)
  --payload-bytes N  value size (default 100)
  --keys N           distinct keys (default 16)
  --json             print one JSON object instead of text
`;

interface Options {
  readonly count: number;
  readonly samples: number;
  readonly payloadBytes: number;
  /** Keys every replica's map holds before the puts (a PersistentMap logs only the key each put changes). */
  readonly keys: number;
}

interface Figure {
  readonly setup: string;
  readonly putsPerSecond: number;
  readonly putToGlobalPersistenceP50Us: number;
  readonly putToGlobalPersistenceP99Us: number;
  /** The first put, which logs the prefilled map whole (its first checkpoint). */
  readonly warmUpMs: number;
}

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

/** A replica whose map already holds `keys` keys (the same at every member; its first version logs them). */
function prefilled(keys: number, payloadBytes: number): DurableKV {
  const kv = new DurableKV();
  const value = new Uint8Array(payloadBytes).fill(1);
  for (let i = 0; i < keys; i++) kv.data.current.set(`k${i}`, value);
  return kv;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function runSetup(setup: Setup, o: Options): Promise<Figure> {
  const { count, samples, payloadBytes, keys } = o;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'derecho-bench-durable-kv-'));
  const ports = await freeLoopbackPorts(3);
  const members = await Promise.all(
    [0, 1, 2].map((id) =>
      Group.join({
        argv: [],
        schema: wireSchema,
        minMembers: 3,
        subgroups: [{ type: DurableKV, layout: shards({ minNodes: 3, mode: setup.mode }), factory: () => prefilled(keys, payloadBytes) }],
        config: {
          cluster: { secret: 'a durable-kv benchmark secret', contact: `127.0.0.1:${ports[0]}` },
          node: { id, host: '127.0.0.1', port: ports[id] },
          logging: { level: 'warn' },
          // The warm-up put logs a prefilled map whole at all three members, on this one event
          // loop: with a million keys that takes seconds, which must not look like a failure.
          failure: { failureTimeoutMs: Math.max(2000, keys / 20) },
          persistence: { enabled: setup.enabled, fsync: setup.fsync, dir: path.join(root, `node-${id}`) },
        },
      }),
    ),
  );
  try {
    const kv = members[0].subgroup(DurableKV);
    const value = new Uint8Array(payloadBytes).fill(7);
    const warmUpStarted = process.hrtime.bigint();
    await kv.ordered.put('k0', value).globalPersistence();
    const warmUpMs = Number(process.hrtime.bigint() - warmUpStarted) / 1e6;
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
    return { setup: setup.name, putsPerSecond: count / seconds, putToGlobalPersistenceP50Us: percentile(latenciesUs, 0.5), putToGlobalPersistenceP99Us: percentile(latenciesUs, 0.99), warmUpMs };
  } finally {
    await Promise.all(members.map((g) => g.close()));
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, { count: { type: 'string' }, samples: { type: 'string' }, 'payload-bytes': { type: 'string' }, keys: { type: 'string' }, json: { type: 'boolean' } });
  if (parsed === undefined) return printUsage({ usage: USAGE });
  const v = parsed.values;
  const o: Options = {
    count: intValue(v.count, '--count', 1, 10_000_000, 5000),
    samples: intValue(v.samples, '--samples', 1, 1_000_000, 300),
    payloadBytes: intValue(v['payload-bytes'], '--payload-bytes', 0, 1 << 20, 100),
    keys: intValue(v.keys, '--keys', 1, 1_000_000, 16),
  };
  const json = v.json === true;
  if (!json) process.stdout.write(`DurableKV, 3 members in one process, ${o.payloadBytes}-byte values over ${o.keys} keys, ${o.count} pipelined puts, ${o.samples} sequential samples; logs under ${os.tmpdir()}\n`);
  const figures: Figure[] = [];
  for (const setup of setups) {
    const f = await runSetup(setup, o);
    figures.push(f);
    if (!json) process.stdout.write(`${f.setup.padEnd(30)} ${Math.round(f.putsPerSecond).toString().padStart(8)} puts/s   put->globalPersistence p50 ${Math.round(f.putToGlobalPersistenceP50Us)} us, p99 ${Math.round(f.putToGlobalPersistenceP99Us)} us (warm-up put ${Math.round(f.warmUpMs)} ms)\n`);
  }
  if (json) process.stdout.write(`${JSON.stringify({ benchmark: 'durable-kv', ...o, figures, loadAverage: os.loadavg() })}\n`);
  return 0;
}

export const durableKv: Command = { name: 'derecho-examples bench durable-kv', usage: USAGE, run };
