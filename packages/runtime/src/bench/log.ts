/**
 * `derecho bench log`: the versioned log store on this machine's disk.
 *
 * - Durable versions per second (and MB/s of values) with group commit, for each value size and
 *   batch size (versions per persist()), beside the raw limit measured in the same run on the same
 *   filesystem: a plain loop writing the same bytes per batch followed by one fdatasync.
 * - p50/p99 latency of get(v) and getByTime(t) on a log of --read-versions versions (default
 *   1,000,000), and the time to reopen (recover) that log.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { intValue, numberValue, parseCommand, printUsage, type Command } from '../cli/command.js';
import { hlc } from '../core/hlc.js';
import { percentiles, type Latency } from './latency-percentiles.js';
import { RECORD_HEADER_BYTES } from '../persistent/record-format.js';
import { Persistent } from '../persistent/versioned.js';

interface Args {
  payloadBytes: number[];
  batches: number[];
  seconds: number;
  readVersions: number;
  readPayloadBytes: number;
  samples: number;
  dir: string;
  json: boolean;
}

const usage = `usage: derecho bench log [--payload-bytes N] [--batch N] [--seconds S] [--read-versions N]
                         [--read-payload-bytes N] [--samples N] [--dir DIR] [--json]
  --payload-bytes N       value size (default: 100, 1024 and 10240)
  --batch N               versions per persist() (default: 1, 16 and 256)
  --seconds S             time per write configuration (default 1)
  --read-versions N       log length for the read and recovery figures (default 1000000; 0 skips)
  --read-payload-bytes N  value size in that log (default 100)
  --samples N             reads timed per read figure (default 200000)
  --dir DIR               where to write (default: the OS temp directory); removed afterwards
  --json                  print one JSON object instead of text
`;

function parse(argv: string[]): Args | undefined {
  const parsed = parseCommand(argv, {
    'payload-bytes': { type: 'string' },
    batch: { type: 'string' },
    seconds: { type: 'string' },
    'read-versions': { type: 'string' },
    'read-payload-bytes': { type: 'string' },
    samples: { type: 'string' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed === undefined) return undefined;
  const v = parsed.values;
  const int = (text: string | undefined, name: string, min: number): number | undefined => (text === undefined ? undefined : intValue(text, name, min, Number.MAX_SAFE_INTEGER));
  const payload = int(v['payload-bytes'], '--payload-bytes', 1);
  const batch = int(v.batch, '--batch', 1);
  return {
    payloadBytes: payload === undefined ? [100, 1024, 10240] : [payload],
    batches: batch === undefined ? [1, 16, 256] : [batch],
    seconds: numberValue(v.seconds, '--seconds', 0.05, 1),
    readVersions: int(v['read-versions'], '--read-versions', 0) ?? 1_000_000,
    readPayloadBytes: int(v['read-payload-bytes'], '--read-payload-bytes', 1) ?? 100,
    samples: int(v.samples, '--samples', 1) ?? 200_000,
    dir: v.dir ?? os.tmpdir(),
    json: v.json === true,
  };
}

function nowSeconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 2654435761) >>> 24;
  return bytes;
}

interface WriteFigure {
  payloadBytes: number;
  batch: number;
  versionsPerSec: number;
  mbPerSec: number;
  rawVersionsPerSec: number;
  rawMbPerSec: number;
  /** Our rate as a fraction of the raw limit. */
  ofRaw: number;
}

interface Sample {
  versions: number;
  seconds: number;
}

/** Disk sync latency drifts (the disk is shared), so ours and raw alternate in short rounds and are summed. */
const ROUNDS = 4;

/** Versions through Persistent<Uint8Array>: `batch` versions, then persist(), for `seconds`. */
function measureLog(dir: string, payloadBytes: number, batch: number, seconds: number): Sample {
  const file = path.join(dir, `bench-${payloadBytes}-${batch}.log`);
  const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
  const values = [randomBytes(payloadBytes), randomBytes(payloadBytes).reverse()];
  let v = 0;
  const started = nowSeconds();
  let elapsed = 0;
  while (elapsed < seconds) {
    for (let i = 0; i < batch; i++) {
      v++;
      field.current = values[v & 1];
      field.version(BigInt(v), hlc(v));
    }
    field.persist();
    elapsed = nowSeconds() - started;
  }
  field.close();
  fs.rmSync(file, { force: true });
  return { versions: v, seconds: elapsed };
}

/** The raw limit: the same bytes per batch (values plus record headers) written, then one fdatasync. */
function measureRaw(dir: string, payloadBytes: number, batch: number, seconds: number): Sample {
  const file = path.join(dir, `raw-${payloadBytes}-${batch}.bin`);
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(batch * (payloadBytes + RECORD_HEADER_BYTES), 7);
  let position = 0;
  let versions = 0;
  const started = nowSeconds();
  let elapsed = 0;
  while (elapsed < seconds) {
    position += fs.writeSync(fd, chunk, 0, chunk.length, position);
    fs.fdatasyncSync(fd);
    versions += batch;
    elapsed = nowSeconds() - started;
  }
  fs.closeSync(fd);
  fs.rmSync(file, { force: true });
  return { versions, seconds: elapsed };
}


interface ReadFigures {
  versions: number;
  payloadBytes: number;
  fileBytes: number;
  buildSeconds: number;
  recoverySeconds: number;
  get: Latency;
  getByTime: Latency;
}

function measureReads(dir: string, versions: number, payloadBytes: number, samples: number): ReadFigures {
  const file = path.join(dir, 'bench-reads.log');
  const build = nowSeconds();
  const writer = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
  const value = randomBytes(payloadBytes);
  const timeOf = (v: number): number => 1_700_000_000_000_000 + v * 10;
  for (let v = 1; v <= versions; v++) {
    writer.current = value;
    writer.version(BigInt(v), hlc(timeOf(v)));
    if (v % 4096 === 0) writer.persist();
  }
  writer.close();
  const buildSeconds = nowSeconds() - build;
  const fileBytes = fs.statSync(file).size;

  const reopen = nowSeconds();
  const reader = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
  const recoverySeconds = nowSeconds() - reopen;
  if (reader.count !== versions) throw new Error(`bench: reopened log holds ${reader.count} versions, expected ${versions}`);

  let seed = 12345;
  const pick = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return 1 + (seed % versions);
  };
  // Warm-up, then timed reads of random versions.
  for (let i = 0; i < 10_000; i++) reader.get(BigInt(pick()));
  const getNs = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const v = BigInt(pick());
    const t0 = process.hrtime.bigint();
    reader.get(v);
    getNs[i] = Number(process.hrtime.bigint() - t0);
  }
  const timeNs = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t = hlc(timeOf(pick()) + 5);
    const t0 = process.hrtime.bigint();
    reader.getByTime(t);
    timeNs[i] = Number(process.hrtime.bigint() - t0);
  }
  reader.close();
  fs.rmSync(file, { force: true });
  return { versions, payloadBytes, fileBytes, buildSeconds, recoverySeconds, get: percentiles(getNs), getByTime: percentiles(timeNs) };
}

async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args === undefined) return printUsage({ usage });
  fs.mkdirSync(args.dir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(args.dir, 'derecho-bench-log-'));
  const say = (line: string): void => {
    if (!args.json) process.stdout.write(`${line}\n`);
  };
  try {
    say(`derecho bench log: writing under ${dir}; ${args.seconds}s per configuration`);
    say('payload  batch   durable versions/s      MB/s   | raw write+fdatasync versions/s      MB/s  | of raw');
    const writes: WriteFigure[] = [];
    for (const payloadBytes of args.payloadBytes) {
      for (const batch of args.batches) {
        const total = { raw: { versions: 0, seconds: 0 }, ours: { versions: 0, seconds: 0 } };
        for (let round = 0; round < ROUNDS; round++) {
          for (const [which, sample] of [
            ['raw', measureRaw(dir, payloadBytes, batch, args.seconds / ROUNDS)],
            ['ours', measureLog(dir, payloadBytes, batch, args.seconds / ROUNDS)],
          ] as const) {
            total[which].versions += sample.versions;
            total[which].seconds += sample.seconds;
          }
        }
        const raw = total.raw.versions / total.raw.seconds;
        const ours = total.ours.versions / total.ours.seconds;
        const figure: WriteFigure = {
          payloadBytes,
          batch,
          versionsPerSec: Math.round(ours),
          mbPerSec: Number(((ours * payloadBytes) / 1e6).toFixed(2)),
          rawVersionsPerSec: Math.round(raw),
          rawMbPerSec: Number(((raw * payloadBytes) / 1e6).toFixed(2)),
          ofRaw: Number((ours / raw).toFixed(3)),
        };
        writes.push(figure);
        say(
          `${String(payloadBytes).padStart(7)} ${String(batch).padStart(6)} ${String(figure.versionsPerSec).padStart(20)} ${figure.mbPerSec.toFixed(2).padStart(9)}   | ${String(figure.rawVersionsPerSec).padStart(30)} ${figure.rawMbPerSec.toFixed(2).padStart(9)}  | ${(figure.ofRaw * 100).toFixed(0).padStart(5)}%`,
        );
      }
    }
    let reads: ReadFigures | undefined;
    if (args.readVersions > 0) {
      say(`building a log of ${args.readVersions} versions of ${args.readPayloadBytes} B ...`);
      reads = measureReads(dir, args.readVersions, args.readPayloadBytes, args.samples);
      say(`  built in ${reads.buildSeconds.toFixed(2)} s, ${(reads.fileBytes / 1e6).toFixed(1)} MB on disk`);
      say(`  reopen (recovery scan): ${(reads.recoverySeconds * 1000).toFixed(0)} ms`);
      say(`  get(v):        p50 ${reads.get.p50Us.toFixed(2)} us   p99 ${reads.get.p99Us.toFixed(2)} us   (${args.samples} random versions)`);
      say(`  getByTime(t):  p50 ${reads.getByTime.p50Us.toFixed(2)} us   p99 ${reads.getByTime.p99Us.toFixed(2)} us`);
    }
    const target = writes.find((w) => w.payloadBytes === 1024 && w.batch === 256);
    const targets = {
      batch256of1KiBAtLeast40000PerSec: target === undefined ? null : target.versionsPerSec >= 40_000,
      readsP50Under5Us: reads === undefined ? null : reads.get.p50Us < 5 && reads.getByTime.p50Us < 5,
      recoveryOf1MUnder2s: reads === undefined || reads.versions < 1_000_000 ? null : reads.recoverySeconds < 2,
    };
    say(`targets: ${Object.entries(targets).map(([k, ok]) => `${k}=${ok === null ? 'not measured' : ok ? 'met' : 'MISSED'}`).join('  ')}`);
    if (args.json) {
      process.stdout.write(
        `${JSON.stringify({ bench: 'log', node: process.version, dir: args.dir, secondsPerConfig: args.seconds, writes, reads, targets })}\n`,
      );
    }
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const log: Command = { name: 'derecho bench log', usage, run };
