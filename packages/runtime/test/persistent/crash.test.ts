/**
 * Crash safety: a child appends and persists as fast as it can and is killed with SIGKILL at
 * random moments, hundreds of times. After every kill the log is reopened: every version the child
 * was told is durable is present and intact, every version returned at all is intact (nothing past
 * a torn point), and the delta field agrees with the full one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { hlc } from '../../src/core/hlc.js';
import { VersionNotFoundError } from '../../src/persistent/errors.js';
import { PersistentRegistry } from '../../src/persistent/registry.js';
import { makeTempDir, payloadForVersion, removeDir, SumCounter, sumCounterCodec } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const writerSource = path.join(here, 'fixtures', 'crash-writer.ts');
const KILLS = Number(process.env.DERECHO_CRASH_KILLS ?? 200);
const LANES = 2;
const RUNS_PER_DIR = 10;

interface RunResult {
  ready: number | undefined;
  durable: number;
}

const live = new Set<ChildProcess>();

/** Starts the writer, kills it with SIGKILL after a random delay, and reports what it printed. */
function runAndKill(writer: string, dir: string, seed: number, random: () => number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    // Some kills land while it starts or recovers, some around its first batch, most at a random
    // point of the append/persist cycle once it is running (measured from its first persist, so a
    // slow, loaded machine still gets kills in the middle of the cycle).
    const draw = random();
    const phase = draw < 0.1 ? 'startup' : draw < 0.3 ? 'ready' : 'durable';
    if (phase === 'startup') timer = setTimeout(kill, 50 + random() * 250);
    const guard = setTimeout(kill, 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (timer === undefined && out.includes(phase === 'ready' ? 'ready' : 'durable')) timer = setTimeout(kill, random() * (phase === 'ready' ? 10 : 40));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      live.delete(child);
      clearTimeout(timer);
      clearTimeout(guard);
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer exited by itself (code ${code}, signal ${signal}): ${err}`));
        return;
      }
      // Only whole lines count: a line cut by the kill promised nothing.
      const lines = out.split('\n').slice(0, -1);
      let durable = -1;
      let ready: number | undefined;
      for (const line of lines) {
        const [word, n] = line.split(' ');
        if (word === 'durable') durable = Math.max(durable, Number(n));
        if (word === 'ready') ready = Number(n);
      }
      resolve({ ready, durable });
    });
  });
}

/**
 * Reopens the object and checks it against what the writer promised; returns its latest version.
 * Versions after `checkedBefore - 64` are all read back (that is where a torn tail could be); older
 * ones, read back in full by earlier checks, are sampled.
 */
function verify(dir: string, promised: number, checkedBefore: number, random: () => number): number {
  const registry = new PersistentRegistry({ dir, subgroup: 0, shard: 0 });
  const blob = registry.persistent<Uint8Array>('blob', () => new Uint8Array(0));
  const counter = registry.persistent<SumCounter>('counter', () => new SumCounter(), { codec: sumCounterCodec, checkpointEvery: 8 });
  try {
    const latest = Number(registry.latestVersion);
    expect(latest, 'every version reported durable survives').to.be.at.least(promised);
    expect(blob.latestVersion).to.equal(BigInt(latest));
    expect(counter.latestVersion).to.equal(BigInt(latest));
    if (latest > 0) {
      expect(blob.count).to.equal(latest);
      expect(blob.earliestVersion).to.equal(1n);
      const check = (v: number): void => {
        const bytes = blob.getByIndex(v - 1);
        if (!Buffer.from(bytes).equals(Buffer.from(payloadForVersion(v)))) throw new Error(`version ${v} of ${latest} is not intact`);
      };
      const fullFrom = Math.max(1, checkedBefore - 64);
      for (let v = fullFrom; v <= latest; v++) check(v);
      for (let i = 0; i < 200 && fullFrom > 1; i++) check(1 + Math.floor(random() * (fullFrom - 1)));
      expect(blob.timeOf(BigInt(latest))).to.deep.equal(hlc(latest * 10));
      const state = counter.current;
      expect([state.count, state.sum]).to.deep.equal([latest, (latest * (latest + 1)) / 2]);
      const mid = Math.max(1, Math.floor(latest / 2));
      const old = counter.get(BigInt(mid));
      expect([old.count, old.sum]).to.deep.equal([mid, (mid * (mid + 1)) / 2]);
    }
    expect(() => blob.get(BigInt(latest + 1))).to.throw(VersionNotFoundError);
    return latest;
  } finally {
    registry.close();
  }
}

describe('persistent: crash safety under kill -9', function () {
  this.timeout(240_000);
  let bundleDir: string;
  let writer: string;
  before(function () {
    // The writer runs as one pre-bundled ESM file: starting it through tsx costs ~0.5 s per
    // process here, which would make hundreds of kills take minutes. It is built from the same
    // TypeScript sources with the same export condition.
    bundleDir = makeTempDir('crash-bundle');
    writer = path.join(bundleDir, 'crash-writer.mjs');
    buildSync({
      entryPoints: [writerSource],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: writer,
      conditions: ['@derecho-ts/source'],
      logLevel: 'error',
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    });
  });
  after(() => {
    for (const child of live) child.kill('SIGKILL');
    removeDir(bundleDir);
  });

  it(`after each of ${KILLS} kills at random moments, every durable version is present and intact`, async function () {
    const seed = Number(process.env.DERECHO_CRASH_SEED ?? Date.now() % 1_000_000);
    let state = seed >>> 0;
    const random = (): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    const summary = { runs: 0, promisedRuns: 0, maxLatest: 0 };
    const lane = async (laneNo: number, kills: number): Promise<void> => {
      let dir = makeTempDir(`crash${laneNo}`);
      let expectedReady = 0;
      try {
        for (let run = 0; run < kills && !stopped; run++) {
          if (run > 0 && run % RUNS_PER_DIR === 0) {
            removeDir(dir);
            dir = makeTempDir(`crash${laneNo}`);
            expectedReady = 0;
          }
          const result = await runAndKill(writer, dir, seed + laneNo * 100_000 + run, random);
          if (result.ready !== undefined) expect(result.ready, 'the writer recovered what the last check saw').to.equal(expectedReady);
          const latest = verify(dir, result.durable, expectedReady, random);
          summary.runs++;
          if (result.durable >= 0) summary.promisedRuns++;
          summary.maxLatest = Math.max(summary.maxLatest, latest);
          expectedReady = Math.max(latest, 0);
        }
      } catch (err) {
        stopped = true;
        throw new Error(`crash test failed (seed ${seed}, lane ${laneNo}, dir ${dir}): ${(err as Error).message}`);
      } finally {
        removeDir(dir);
      }
    };
    const perLane = Math.ceil(KILLS / LANES);
    // One lane failing stops the others; every lane finishes (and removes its directory) before the verdict.
    let stopped = false;
    const outcomes = await Promise.allSettled(Array.from({ length: LANES }, (_, i) => lane(i, Math.min(perLane, KILLS - i * perLane))));
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    console.log(`      crash test: seed ${seed}, ${summary.runs} kills, ${summary.promisedRuns} after a persist() returned, up to ${summary.maxLatest} versions in a log`);
    expect(summary.runs).to.equal(KILLS);
    // The test is only meaningful if most kills landed while versions were being made durable.
    expect(summary.promisedRuns, 'kills that came after some persist() returned').to.be.greaterThan(KILLS * 0.5);
    expect(summary.maxLatest).to.be.greaterThan(500);
  });
});
