/**
 * `derecho bench fabric [--json] [--iterations N] [--rdmc-mib N] [--block-kib N] [--puts N] [--only latency,rdmc,rate]`:
 * the native data plane against raw TCP on loopback (peer processes are spawned here).
 */
import { runFabricBench, type FabricBenchOptions } from '@derecho-ts/rdma-native';

function parse(args: string[]): { json: boolean; options: FabricBenchOptions } {
  const options: FabricBenchOptions = {};
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const num = (): number => {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number, got ${JSON.stringify(args[i])}`);
      return v;
    };
    if (a === '--json') json = true;
    else if (a === '--iterations') options.iterations = Math.floor(num());
    else if (a === '--rdmc-mib') options.rdmcBytes = Math.floor(num() * 1024 * 1024);
    else if (a === '--block-kib') options.rdmcBlockBytes = Math.floor(num() * 1024);
    else if (a === '--puts') options.putCount = Math.floor(num());
    else if (a === '--only') {
      const names = (args[++i] ?? '').split(',');
      for (const n of names)
        if (n !== 'latency' && n !== 'rdmc' && n !== 'rate') throw new Error(`--only takes latency,rdmc,rate; got ${JSON.stringify(n)}`);
      options.parts = names as ('latency' | 'rdmc' | 'rate')[];
    }
    else throw new Error(`unknown argument ${JSON.stringify(a)} (expected --json, --iterations, --rdmc-mib, --block-kib, --puts, --only)`);
  }
  return { json, options };
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(args);
  } catch (err) {
    process.stderr.write(`derecho bench fabric: ${(err as Error).message}\n`);
    return 2;
  }
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
