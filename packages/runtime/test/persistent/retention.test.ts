/**
 * Bounded versions: retention policies (last N versions, last T seconds, at most B bytes), the
 * limits they never cross (the newest checkpoint at or below the stable frontier, pinned reads),
 * typed errors for reads below the retained range, deferred compaction that keeps a file-backed
 * field's log and index bounded, and a bounded Volatile field whose heap stays flat.
 *
 * The heap run is 1,000,000 versions here; by hand:
 *   DERECHO_RETENTION_VERSIONS=10000000 npx mocha --no-config -n conditions=@derecho-ts/source \
 *     -n import=tsx --exit packages/runtime/test/persistent/retention.test.ts -g heap
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { expect } from 'chai';
import type { Hlc } from '../../src/core/hlc.js';
import { PersistentMap } from '../../src/persistent/collections.js';
import { NoVersionAtTimeError, TimeTrimmedError, VersionNotFoundError, VersionTrimmedError } from '../../src/persistent/errors.js';
import { FileLog } from '../../src/persistent/file-log.js';
import { PersistentRegistry } from '../../src/persistent/registry.js';
import { Persistent, Volatile } from '../../src/persistent/versioned.js';
import { makeTempDir, NumberList, numberListCodec, removeDir } from './helpers.js';

const hlc = (us: number): Hlc => ({ wallUs: us, logical: 0 });

function fill(field: Volatile<number> | Persistent<number>, from: number, to: number): void {
  for (let v = from; v <= to; v++) {
    field.current = v;
    field.version(BigInt(v), hlc(v));
  }
}

describe('persistent: retention', function () {
  this.timeout(300_000);
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('retention');
  });
  afterEach(() => removeDir(dir));

  it('keeps the last N versions; reads below the retained range fail with typed errors', () => {
    const field = new Volatile<number>(() => 0, { retention: { versions: 100 } });
    fill(field, 1, 1000);
    expect(field.applyRetention(undefined, 1000n, 0)).to.equal(900n);
    expect(field.count).to.equal(100);
    expect(field.earliestVersion).to.equal(901n);
    expect(field.get(901n)).to.equal(901);
    expect(() => field.get(900n)).to.throw(VersionTrimmedError, /was trimmed/);
    // Still a VersionNotFoundError for code that catches that.
    expect(() => field.get(5n)).to.throw(VersionNotFoundError);
    expect(() => field.getByTime(hlc(500))).to.throw(TimeTrimmedError);
    expect(() => field.getByTime(hlc(500))).to.throw(NoVersionAtTimeError);
    // Beyond the newest version is not a trim.
    expect(field.getByTime(hlc(5000))).to.equal(1000);
  });

  it('never trims at or above the newest checkpoint at or below the stable frontier, nor a pinned version', () => {
    const plain = new Volatile<number>(() => 0, { retention: { versions: 1 } });
    fill(plain, 1, 100);
    // Only versions below the stable version go (every record of a plain field is a checkpoint).
    plain.applyRetention(undefined, 40n, 0);
    expect(plain.earliestVersion).to.equal(40n);
    const pin = plain.pin(60n);
    plain.applyRetention(undefined, 100n, 0);
    expect(plain.earliestVersion).to.equal(60n);
    pin.release();
    plain.applyRetention(undefined, 100n, 0);
    expect(plain.earliestVersion).to.equal(100n);
    // A time-indexed read pins the version at its time.
    const timePin = plain.pinAtTime(hlc(100));
    expect(timePin.version).to.equal(100n);
    timePin.release();

    // A delta field: full records every 10 versions (1, 11, 21, ...); stable 57 -> checkpoint 51 stays.
    const delta = new Volatile<NumberList>(() => new NumberList(), { codec: numberListCodec, checkpointEvery: 10, retention: { versions: 1 } });
    for (let v = 1; v <= 80; v++) {
      delta.current.push(v);
      delta.version(BigInt(v), hlc(v));
    }
    delta.applyRetention(undefined, 57n, 0);
    expect(delta.earliestVersion).to.equal(51n);
    expect(delta.get(51n).items.length).to.equal(51);
  });

  it('keeps the versions of the last T seconds, and at most B bytes', () => {
    const timed = new Volatile<number>(() => 0, { retention: { seconds: 1 } });
    for (let v = 1; v <= 100; v++) {
      timed.current = v;
      timed.version(BigInt(v), hlc(v * 100_000)); // 0.1 s apart
    }
    // Now = 10.05 s: versions stamped before 9.05 s go; 91..100 (9.1 s..10 s) stay.
    timed.applyRetention(undefined, 100n, 10_050_000);
    expect(timed.earliestVersion).to.equal(91n);

    const sized = new Volatile<Uint8Array>(() => new Uint8Array(0), { retention: { bytes: 10_000 } });
    for (let v = 1; v <= 200; v++) {
      sized.current = new Uint8Array(952).fill(v & 255); // ~1000 bytes per record with the header
      sized.version(BigInt(v), hlc(v));
    }
    sized.applyRetention(undefined, 200n, 0);
    expect(sized.count).to.be.within(9, 10);
    expect(sized.latestVersion).to.equal(200n);
  });

  it('a registry applies its default to fields without their own policy; invalid policies are refused', () => {
    const registry = new PersistentRegistry({ dir, subgroup: 0, shard: 0, retention: { versions: 10 } });
    const a = registry.volatile<number>('a', () => 0);
    const b = registry.volatile<number>('b', () => 0, { retention: { versions: 50 } });
    for (let v = 1; v <= 100; v++) registry.version(BigInt(v), hlc(v));
    expect(registry.applyRetention(100n)).to.equal(true);
    expect([a.count, b.count]).to.deep.equal([10, 50]);
    expect(() => new Volatile<number>(() => 0, { retention: { versions: 0 } })).to.throw(RangeError, /versions must be a positive integer/);
    expect(() => new Volatile<number>(() => 0, { retention: { keep: 1 } as never })).to.throw(TypeError, /unknown retention key "keep"/);
  });

  it('a bounded file-backed field keeps its log and its index bounded (deferred compaction, reopened intact)', async () => {
    const file = path.join(dir, 'bounded.log');
    const field = new Persistent<number>(() => 0, { retention: { versions: 1000 } });
    field.attach(file, { compaction: 'deferred', compactMinBytes: 256 * 1024 });
    let maxBytes = 0;
    let maxIndex = 0;
    let maxPauseMs = 0;
    const total = 200_000;
    for (let v = 1; v <= total; v++) {
      field.current = v;
      field.version(BigInt(v), hlc(v));
      if (v % 500 === 0) {
        await field.persistAsync();
        field.applyRetention(undefined, BigInt(v), 0);
        const report = await field.compactAsync();
        if (report !== undefined) maxPauseMs = Math.max(maxPauseMs, (report as { finalStepMs: number }).finalStepMs);
        maxBytes = Math.max(maxBytes, fs.statSync(file).size);
        maxIndex = Math.max(maxIndex, (field as unknown as { store: FileLog }).store['index'].physicalLength);
      }
    }
    // ~60 bytes a record: the file is compacted at ~256 KiB dead, so it never nears the ~12 MB of 200,000 records.
    expect(maxBytes, 'file bytes').to.be.below(1_000_000);
    expect(maxIndex, 'index entries').to.be.below(12_000);
    expect(field.count).to.equal(1000);
    field.close();
    const reopened = Persistent.open<number>(file, () => 0);
    expect(reopened.recovery.droppedBytes).to.equal(0);
    expect([reopened.earliestVersion, reopened.latestVersion, reopened.count]).to.deep.equal([BigInt(total - 999), BigInt(total), 1000]);
    expect(reopened.get(BigInt(total - 500))).to.equal(total - 500);
    reopened.close();
    process.stdout.write(`      (longest compaction final step: ${maxPauseMs.toFixed(2)} ms)\n`);
  });

  it('a deferred compaction keeps versions appended and synced while it copies', async () => {
    const file = path.join(dir, 'racing.log');
    const field = new PersistentMap<number, number>({ retention: { versions: 5 } });
    field.attach(file, { compaction: 'deferred', compactMinBytes: 0, compactDeadFraction: 0 });
    for (let v = 1; v <= 3000; v++) {
      field.current.set(v % 50, v);
      field.version(BigInt(v), hlc(v));
    }
    await field.persistAsync();
    field.applyRetention(undefined, 3000n, 0);
    const compaction = field.compactAsync();
    // Appends and a sync in flight while the copy runs.
    for (let v = 3001; v <= 3100; v++) {
      field.current.set(v % 50, v);
      field.version(BigInt(v), hlc(v));
    }
    const sync = field.persistAsync();
    await Promise.all([compaction, sync]);
    for (let v = 3101; v <= 3110; v++) {
      field.current.set(v % 50, v);
      field.version(BigInt(v), hlc(v));
    }
    await field.persistAsync();
    const expected = [...field.current];
    field.close();
    const reopened = new PersistentMap<number, number>();
    reopened.attach(file);
    expect(reopened.recovery.droppedBytes).to.equal(0);
    expect(reopened.latestVersion).to.equal(3110n);
    expect([...reopened.current]).to.deep.equal(expected);
    expect(reopened.get(3050n).get(0)).to.equal(3050);
    reopened.close();
  });

  it('heap: a bounded Volatile field stays flat over many versions', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const total = Number(process.env.DERECHO_RETENTION_VERSIONS ?? 1_000_000);
    const early = Math.max(100_000, Math.floor(total / 10));
    const field = new Volatile<number>(() => 0, { retention: { versions: 1000 } });
    const heapAt = (): number => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    let earlyHeap = 0;
    const started = Date.now();
    for (let v = 1; v <= total; v++) {
      field.current = v;
      field.version(BigInt(v), hlc(v));
      if (v % 256 === 0) field.applyRetention(undefined, BigInt(v), 0);
      if (v === early) earlyHeap = heapAt();
    }
    const endHeap = heapAt();
    const mb = (n: number) => (n / 1e6).toFixed(1);
    process.stdout.write(`      (heapUsed at ${early} versions ${mb(earlyHeap)} MB, at ${total} ${mb(endHeap)} MB; ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    expect(field.count).to.be.at.most(1000 + 256);
    // Unbounded, this would grow by ~200 MB per million versions.
    expect(endHeap - earlyHeap, 'heap growth').to.be.below(8e6);
  });
});
