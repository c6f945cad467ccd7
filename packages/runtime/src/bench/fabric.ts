/**
 * `derecho bench fabric [--json] [--iterations N] [--rdmc-mib N] [--block-kib N] [--puts N] [--only latency,rdmc,rate]`:
 * the native data plane against raw TCP on loopback (peer processes are spawned here).
 */
import { runFabricBench, type FabricBenchOptions } from '@derecho-ts/rdma-native';
import { intValue, parseCommand, printUsage, UsageError, type Command } from '../cli/command.js';

const USAGE = `usage: derecho bench fabric [--iterations N] [--rdmc-mib N] [--block-kib N] [--puts N] [--only PARTS] [--json]
  The native data plane against raw TCP on loopback (peer processes are spawned here).
  --iterations N  round trips timed per latency figure
  --rdmc-mib N    RDMC message size in MiB
  --block-kib N   RDMC block size in KiB
  --puts N        SST puts timed for the put-rate figure
  --only PARTS    comma-separated subset of latency,rdmc,rate (default: all)
  --json          print one JSON object instead of text
`;

const PARTS = ['latency', 'rdmc', 'rate'] as const;

function parse(args: string[]): { json: boolean; options: FabricBenchOptions } | undefined {
  const parsed = parseCommand(args, {
    iterations: { type: 'string' },
    'rdmc-mib': { type: 'string' },
    'block-kib': { type: 'string' },
    puts: { type: 'string' },
    only: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed === undefined) return undefined;
  const v = parsed.values;
  const options: FabricBenchOptions = {};
  if (v.iterations !== undefined) options.iterations = intValue(v.iterations, '--iterations', 1, 10_000_000);
  if (v['rdmc-mib'] !== undefined) options.rdmcBytes = intValue(v['rdmc-mib'], '--rdmc-mib', 1, 4096) * 1024 * 1024;
  if (v['block-kib'] !== undefined) options.rdmcBlockBytes = intValue(v['block-kib'], '--block-kib', 1, 1 << 20) * 1024;
  if (v.puts !== undefined) options.putCount = intValue(v.puts, '--puts', 1, 100_000_000);
  if (v.only !== undefined) {
    const names = v.only.split(',');
    for (const n of names) if (!(PARTS as readonly string[]).includes(n)) throw new UsageError(`--only takes a comma-separated subset of ${PARTS.join(',')}; got ${JSON.stringify(n)}`);
    options.parts = names as (typeof PARTS)[number][];
  }
  return { json: v.json === true, options };
}

async function run(args: string[]): Promise<number> {
  const parsed = parse(args);
  if (parsed === undefined) return printUsage({ usage: USAGE });
  const r = await runFabricBench(parsed.options);
  if (parsed.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  }
  const ran = new Set(parsed.options.parts ?? ['latency', 'rdmc', 'rate']);
  const lines = [`provider: ${r.provider}`];
  if (ran.has('latency')) {
    lines.push(
      `sst put round trip, event-driven (I/O thread receives, one JS wake per batch):`,
      `  8 B:    median ${r.sstRoundTrip8B.medianUs} us, p99 ${r.sstRoundTrip8B.p99Us} us  (raw tcp ${r.rawRoundTrip8B.medianUs} / ${r.rawRoundTrip8B.p99Us} us; ratio ${r.sstToRawLatency8B}x)`,
      `  1 KiB:  median ${r.sstRoundTrip1KiB.medianUs} us, p99 ${r.sstRoundTrip1KiB.p99Us} us  (raw tcp ${r.rawRoundTrip1KiB.medianUs} / ${r.rawRoundTrip1KiB.p99Us} us; ratio ${r.sstToRawLatency1KiB}x)`,
      `sst put round trip, busy-polling (poll({ inline: true }) on both sides):`,
      `  8 B:    median ${r.sstBusyRoundTrip8B.medianUs} us, p99 ${r.sstBusyRoundTrip8B.p99Us} us  (ratio to raw ${r.sstBusyToRawLatency8B}x)`,
      `  1 KiB:  median ${r.sstBusyRoundTrip1KiB.medianUs} us, p99 ${r.sstBusyRoundTrip1KiB.p99Us} us  (ratio to raw ${r.sstBusyToRawLatency1KiB}x)`,
    );
  }
  if (ran.has('rdmc')) {
    lines.push(
      `rdmc ${r.rdmcBytes / 1048576} MiB to 2 receivers (block ${r.rdmcBlockBytes / 1024} KiB): ${r.rdmcReceiverGBps.map((g) => `${g} GB/s`).join(', ')}  (raw single stream ${r.rawStreamGBps} GB/s; ratio ${r.rdmcToRaw})`,
    );
  }
  if (ran.has('rate')) {
    lines.push(`sst 64-byte puts to 2 peers: ${r.sstPutsPerSecond} puts/s one by one, ${r.sstBatchedPutsPerSecond} puts/s with batchPuts (${r.sstPutCount} puts)`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export const fabric: Command = { name: 'derecho bench fabric', usage: USAGE, run };
