/**
 * `derecho bench history`: historical reads of a whole replicated object, as a `@P2P()` method
 * run with `p2p(n).at(v)` / `.asOf(t)` executes them at the replica: resolve the version, build
 * the object as of it (each versioned field reconstructed from its nearest checkpoint), run the
 * method, release the pin. The object has a Persistent counter and a PersistentMap of --keys
 * sensors, each version changing one sensor, --versions versions on disk. Beside it, in the same
 * run, the same method on the live object: the floor a historical read cannot go below.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { intValue, parseCommand, printUsage, type Command } from '../cli/command.js';
import { hlc } from '../core/hlc.js';
import { PersistentMap } from '../persistent/collections.js';
import { Persistent } from '../persistent/versioned.js';
import { ReplicaHistory } from '../rpc/historical-replica.js';
import { percentiles, type Latency } from './latency-percentiles.js';

interface Args {
  versions: number;
  keys: number;
  samples: number;
  checkpointEvery: number;
  dir: string;
  json: boolean;
}

const usage = `usage: derecho bench history [--versions N] [--keys N] [--samples N] [--checkpoint-every N] [--dir DIR] [--json]
  --versions N          versions of the object, on disk (default 1000000)
  --keys N              sensors in its PersistentMap (default 100; the read decodes a checkpoint of them)
  --samples N           reads timed per figure (default 100000)
  --checkpoint-every N  the map's delta chain length between full records (default 32)
  --dir DIR             where the logs go (default: the OS temp directory); removed afterwards
  --json                print one JSON object instead of text
`;

function parse(argv: string[]): Args | undefined {
  const parsed = parseCommand(argv, {
    versions: { type: 'string' },
    keys: { type: 'string' },
    samples: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed === undefined) return undefined;
  const v = parsed.values;
  const int = (text: string | undefined, name: string, min: number, fallback: number): number => (text === undefined ? fallback : intValue(text, name, min, Number.MAX_SAFE_INTEGER));
  return {
    versions: int(v.versions, '--versions', 1, 1_000_000),
    keys: int(v.keys, '--keys', 1, 100),
    samples: int(v.samples, '--samples', 1, 100_000),
    checkpointEvery: int(v['checkpoint-every'], '--checkpoint-every', 1, 32),
    dir: v.dir ?? os.tmpdir(),
    json: v.json === true,
  };
}

/** The replicated object of the benchmark: what a user's sensor store looks like. */
class SensorStore {
  constructor(
    readonly readings: Persistent<number>,
    readonly sensors: PersistentMap<string, number>,
  ) {}

  /** The @P2P() read the benchmark times. */
  reading(sensor: string): number | undefined {
    return this.sensors.current.get(sensor);
  }
}


function time(samples: number, read: (i: number) => void): Latency {
  for (let i = 0; i < Math.min(samples, 5000); i++) read(i); // warm-up
  const ns = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    read(i);
    ns[i] = Number(process.hrtime.bigint() - t0);
  }
  return percentiles(ns);
}

async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args === undefined) return printUsage({ usage });
  fs.mkdirSync(args.dir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(args.dir, 'derecho-bench-history-'));
  const say = (line: string): void => {
    if (!args.json) process.stdout.write(`${line}\n`);
  };
  try {
    say(`derecho bench history: an object of ${args.versions} versions (a counter and a map of ${args.keys} sensors, checkpoint every ${args.checkpointEvery}) under ${dir}`);
    const readings = Persistent.open<number>(path.join(dir, 'readings.log'), () => 0);
    const sensors = new PersistentMap<string, number>({ checkpointEvery: args.checkpointEvery });
    sensors.attach(path.join(dir, 'sensors.log'));
    const timeOf = (v: number): number => 1_700_000_000_000_000 + v * 10;
    const buildStart = process.hrtime.bigint();
    for (let v = 1; v <= args.versions; v++) {
      readings.current += 1;
      sensors.current.set(`sensor-${v % args.keys}`, v);
      readings.version(BigInt(v), hlc(timeOf(v)));
      sensors.version(BigInt(v), hlc(timeOf(v)));
      if (v % 4096 === 0) {
        readings.persist();
        sensors.persist();
      }
    }
    readings.persist();
    sensors.persist();
    const buildSeconds = Number(process.hrtime.bigint() - buildStart) / 1e9;
    say(`  built in ${buildSeconds.toFixed(1)} s`);

    const store = new SensorStore(readings, sensors);
    const history = new ReplicaHistory(store as unknown as Record<string, unknown>, 'SensorStore');
    let seed = 12345;
    const pick = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return 1 + (seed % args.versions);
    };
    const method = SensorStore.prototype.reading;
    let sink = 0;
    const live = time(args.samples, () => {
      sink += method.call(store, `sensor-${pick() % args.keys}`) ?? 0;
    });
    const readAt = (point: { version: bigint } | { time: { wallUs: number; logical: number } }): void => {
      const past = history.stateAt(history.resolve(point));
      try {
        sink += method.call(past.instance as unknown as SensorStore, `sensor-${pick() % args.keys}`) ?? 0;
      } finally {
        past.release();
      }
    };
    const at = time(args.samples, () => readAt({ version: BigInt(pick()) }));
    const asOf = time(args.samples, () => readAt({ time: hlc(timeOf(pick()) + 5) }));
    readings.close();
    sensors.close();
    say(`  live read (the floor):  p50 ${live.p50Us.toFixed(2)} us   p99 ${live.p99Us.toFixed(2)} us`);
    say(`  at(version):            p50 ${at.p50Us.toFixed(2)} us   p99 ${at.p99Us.toFixed(2)} us   (${args.samples} random versions)`);
    say(`  asOf(time):             p50 ${asOf.p50Us.toFixed(2)} us   p99 ${asOf.p99Us.toFixed(2)} us`);
    const target = { historicalReadP50Under50Us: args.versions >= 1_000_000 ? at.p50Us < 50 && asOf.p50Us < 50 : null };
    say(`targets: historicalReadP50Under50Us=${target.historicalReadP50Under50Us === null ? 'not measured (fewer than 1000000 versions)' : target.historicalReadP50Under50Us ? 'met' : 'MISSED'}`);
    if (args.json) process.stdout.write(`${JSON.stringify({ bench: 'history', node: process.version, versions: args.versions, keys: args.keys, checkpointEvery: args.checkpointEvery, buildSeconds, live, at, asOf, target, sink: sink > 0 })}\n`);
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const historyBench: Command = { name: 'derecho bench history', usage, run };
