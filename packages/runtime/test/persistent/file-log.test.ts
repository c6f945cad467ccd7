/**
 * The on-disk format: reopening, group commit, torn and damaged files, compaction.
 */
import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { expect } from 'chai';
import { hlc } from '../../src/core/hlc.js';
import { CorruptLogError } from '../../src/persistent/errors.js';
import { FileLog } from '../../src/persistent/file-log.js';
import { FILE_HEADER_BYTES, RECORD_HEADER_BYTES } from '../../src/persistent/record-format.js';
import { Persistent } from '../../src/persistent/versioned.js';
import { makeTempDir, NumberList, numberListCodec, removeDir } from './helpers.js';

const require = createRequire(import.meta.url);
const fsCjs = require('node:fs') as typeof fs;

/** Deterministic payload for version v: distinct bytes of a length that varies with v. */
function payloadFor(v: number): Uint8Array {
  const bytes = new Uint8Array(10 + ((v * 37) % 90));
  for (let i = 0; i < bytes.length; i++) bytes[i] = (v * 131 + i * 7) & 0xff;
  return bytes;
}

function writeLog(file: string, versions: number): number[] {
  const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
  for (let v = 1; v <= versions; v++) {
    field.current = payloadFor(v);
    field.version(BigInt(v), hlc(1000 + v));
  }
  field.persist();
  field.close();
  // Record boundaries, for the cut tests: walk the headers.
  const bytes = fs.readFileSync(file);
  const ends: number[] = [];
  for (let at = FILE_HEADER_BYTES; at < bytes.length; ) {
    at += RECORD_HEADER_BYTES + bytes.readUInt32LE(at + 4);
    ends.push(at);
  }
  expect(ends.length).to.equal(versions);
  return ends;
}

function expectIntactPrefix(field: Persistent<Uint8Array>, count: number): void {
  expect(field.count).to.equal(count);
  for (let v = 1; v <= count; v++) expect(Buffer.from(field.get(BigInt(v))).equals(Buffer.from(payloadFor(v))), `version ${v} intact`).to.equal(true);
  if (count > 0) expect(field.latestVersion).to.equal(BigInt(count));
}

describe('persistent: file log format and recovery', function () {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('file');
  });
  afterEach(() => removeDir(dir));

  it('reopens with every version, time and value; the header carries the format version', function () {
    const file = path.join(dir, 'a.log');
    writeLog(file, 50);
    const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
    expectIntactPrefix(field, 50);
    expect(field.recovery.droppedBytes).to.equal(0);
    expect(field.recovery.created).to.equal(false);
    expect(field.timeOf(7n)).to.deep.equal(hlc(1007));
    expect(Buffer.from(field.current).equals(Buffer.from(payloadFor(50)))).to.equal(true);
    field.close();
    const bytes = fs.readFileSync(file);
    expect(bytes.subarray(0, 8).toString('latin1')).to.equal('DRCHLOG\0');
    expect(bytes.readUInt32LE(8)).to.equal(1);
  });

  it('keeps real wall-clock HLCs (beyond 32 bits of microseconds) and logical counters exactly', function () {
    const file = path.join(dir, 'a.log');
    const field = Persistent.open<number>(file, () => 0);
    const base = 1_763_700_000_000_000;
    for (let v = 1; v <= 20; v++) {
      field.current = v;
      field.version(BigInt(v), hlc(base + Math.floor(v / 3) * 1_000_003, v % 3));
    }
    field.close();
    const reopened = Persistent.open<number>(file, () => 0);
    for (let v = 1; v <= 20; v++) expect(reopened.timeOf(BigInt(v))).to.deep.equal(hlc(base + Math.floor(v / 3) * 1_000_003, v % 3));
    expect(reopened.getByTime(hlc(base + 2 * 1_000_003, 0))).to.equal(6);
    reopened.close();
  });

  it('refuses a file of another format version or with a damaged header, naming the file', function () {
    const file = path.join(dir, 'a.log');
    writeLog(file, 3);
    const bytes = fs.readFileSync(file);
    const other = Buffer.from(bytes);
    other.writeUInt32LE(99, 8);
    fs.writeFileSync(file, other);
    expect(() => FileLog.open(file)).to.throw(CorruptLogError, /header checksum mismatch/);
    other.writeUInt32LE(crc32(other.subarray(0, 60)), 60);
    fs.writeFileSync(file, other);
    expect(() => FileLog.open(file)).to.throw(CorruptLogError, /a\.log: log format version 99 is not supported \(this build reads versions 1 and 2\)/);
    const flipped = Buffer.from(bytes);
    flipped[2] ^= 0x40;
    fs.writeFileSync(file, flipped);
    expect(() => FileLog.open(file)).to.throw(CorruptLogError, /not a derecho-ts log file/);
    fs.writeFileSync(path.join(dir, 'b.log'), Buffer.concat([Buffer.from('garbage garbage garbage garbage garbage garbage garbage garbage garbage')]));
    expect(() => FileLog.open(path.join(dir, 'b.log'))).to.throw(CorruptLogError, /b\.log.*magic missing/);
  });

  it('group commit: one fdatasync per persist(), however many versions it covers', function () {
    const file = path.join(dir, 'a.log');
    const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
    const original = fsCjs.fdatasyncSync;
    let syncs = 0;
    fsCjs.fdatasyncSync = (fd: number) => {
      syncs++;
      original(fd);
    };
    syncBuiltinESMExports();
    try {
      for (let v = 1; v <= 500; v++) {
        field.current = payloadFor(v);
        field.version(BigInt(v), hlc(v));
      }
      expect(syncs).to.equal(0);
      expect(field.lastPersistedVersion).to.equal(-1n);
      expect(field.persist()).to.equal(500n);
      expect(syncs).to.equal(1);
      expect(field.persist()).to.equal(500n);
      expect(syncs, 'nothing new: no sync').to.equal(1);
      field.current = payloadFor(501);
      field.version(501n, hlc(501));
      expect(field.persist()).to.equal(501n);
      expect(syncs).to.equal(2);
    } finally {
      fsCjs.fdatasyncSync = original;
      syncBuiltinESMExports();
      field.close();
    }
  });

  it('persistAsync: one fdatasync off the event loop, covering what was recorded when it was called', async function () {
    const file = path.join(dir, 'a.log');
    const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
    const original = fsCjs.fdatasync;
    let syncs = 0;
    fsCjs.fdatasync = ((fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
      syncs++;
      original(fd, callback);
    }) as typeof fs.fdatasync;
    syncBuiltinESMExports();
    try {
      for (let v = 1; v <= 100; v++) {
        field.current = payloadFor(v);
        field.version(BigInt(v), hlc(v));
      }
      const pending = field.persistAsync();
      field.current = payloadFor(101);
      field.version(101n, hlc(101));
      expect(() => field.truncate(50n)).to.throw(/cannot truncate while persistAsync\(\) is in flight/);
      expect(await pending).to.equal(100n);
      expect(syncs).to.equal(1);
      expect(field.lastPersistedVersion).to.equal(100n);
      expect(await field.persistAsync()).to.equal(101n);
      expect(syncs).to.equal(2);
    } finally {
      fsCjs.fdatasync = original;
      syncBuiltinESMExports();
      field.close();
    }
    const reopened = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
    expectIntactPrefix(reopened, 101);
    reopened.close();
  });

  it('reads versions not yet persisted, and versions handed to the OS by the flush threshold', function () {
    const file = path.join(dir, 'a.log');
    const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0), { flushThresholdBytes: 500 });
    for (let v = 1; v <= 40; v++) {
      field.current = payloadFor(v);
      field.version(BigInt(v), hlc(v));
    }
    expectIntactPrefix(field, 40);
    expect(field.lastPersistedVersion).to.equal(-1n);
    field.close();
  });

  it('cuts a file truncated at any byte back to the last whole record and reports what it dropped', function () {
    const file = path.join(dir, 'a.log');
    const ends = writeLog(file, 12);
    const whole = fs.readFileSync(file);
    expect(whole.length).to.equal(ends[ends.length - 1]);
    for (let cut = ends[8]; cut < whole.length; cut++) {
      fs.writeFileSync(file, whole.subarray(0, cut));
      const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
      const kept = ends.filter((end) => end <= cut).length;
      expectIntactPrefix(field, kept);
      const lastEnd = ends[kept - 1];
      expect(field.recovery.droppedBytes).to.equal(cut - lastEnd);
      if (cut > lastEnd) {
        expect(field.recovery.droppedAtOffset).to.equal(lastEnd);
        expect(field.recovery.droppedReason).to.match(/incomplete record/);
      }
      field.close();
      expect(fs.statSync(file).size, 'the torn tail is cut from the file').to.equal(lastEnd);
    }
    // Shorter than a header: recreated, nothing to lose.
    fs.writeFileSync(file, whole.subarray(0, 10));
    const empty = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
    expect(empty.recovery.created).to.equal(true);
    expect(empty.count).to.equal(0);
    empty.close();
  });

  it('a flipped byte anywhere in the last record cuts that record, never returns it', function () {
    const file = path.join(dir, 'a.log');
    const ends = writeLog(file, 10);
    const whole = fs.readFileSync(file);
    for (let at = ends[8]; at < ends[9]; at++) {
      const damaged = Buffer.from(whole);
      damaged[at] ^= 0x01;
      fs.writeFileSync(file, damaged);
      const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
      expectIntactPrefix(field, 9);
      expect(field.recovery.droppedBytes).to.equal(ends[9] - ends[8]);
      expect(field.recovery.droppedReason).to.match(/checksum|magic|kind|length|incomplete/);
      field.close();
    }
  });

  it('a flipped byte inside durable data followed by intact records is refused, or cut on request', function () {
    const file = path.join(dir, 'a.log');
    const ends = writeLog(file, 10);
    const whole = fs.readFileSync(file);
    for (const at of [ends[3] + 2, ends[3] + 20, ends[3] + RECORD_HEADER_BYTES + 3]) {
      const damaged = Buffer.from(whole);
      damaged[at] ^= 0x80;
      fs.writeFileSync(file, damaged);
      expect(() => Persistent.open<Uint8Array>(file, () => new Uint8Array(0))).to.throw(CorruptLogError, /followed by an intact record.*refusing to open/);
      expect(fs.readFileSync(file).equals(damaged), 'a refused file is left untouched').to.equal(true);
      const repaired = Persistent.open<Uint8Array>(file, () => new Uint8Array(0), { repair: 'truncate' });
      expectIntactPrefix(repaired, 4);
      expect(repaired.recovery.droppedBytes).to.equal(whole.length - ends[3]);
      expect(repaired.recovery.droppedReason).to.match(/repair/);
      repaired.close();
    }
  });

  it('bytes damaged after opening are detected on read and never returned as data', function () {
    const file = path.join(dir, 'a.log');
    const ends = writeLog(file, 10);
    const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
    const fd = fs.openSync(file, 'r+');
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, ends[4] + RECORD_HEADER_BYTES + 1);
    one[0] ^= 0xff;
    fs.writeSync(fd, one, 0, 1, ends[4] + RECORD_HEADER_BYTES + 1);
    fs.closeSync(fd);
    expect(() => field.get(6n)).to.throw(CorruptLogError, /version 6/);
    expect(Buffer.from(field.get(5n)).equals(Buffer.from(payloadFor(5)))).to.equal(true);
    field.close();
  });

  it('trimming most of a log compacts the file; the result reopens identically', function () {
    const file = path.join(dir, 'a.log');
    writeLog(file, 200);
    const before = fs.statSync(file).size;
    const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0), { compactMinBytes: 1000 });
    field.trim(150n);
    expect(field.earliestVersion).to.equal(151n);
    field.close();
    const after = fs.statSync(file).size;
    expect(after).to.be.lessThan(before / 3);
    expect(fs.existsSync(`${file}.compact`)).to.equal(false);
    const reopened = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
    expect(reopened.count).to.equal(50);
    expect(reopened.earliestVersion).to.equal(151n);
    for (let v = 151; v <= 200; v++) expect(Buffer.from(reopened.get(BigInt(v))).equals(Buffer.from(payloadFor(v)))).to.equal(true);
    // Trimmed versions stay trimmed and the floor stays: an older version is refused.
    expect(() => reopened.version(150n, hlc(5000))).to.throw(/strictly increasing/);
    reopened.close();
  });

  it('compaction keeps the delta base below the trim point, and the compacted file reopens cleanly', function () {
    const file = path.join(dir, 'delta.log');
    const opts = { codec: numberListCodec, checkpointEvery: 4, compactMinBytes: 0, compactDeadFraction: 0 };
    const field = Persistent.open<NumberList>(file, () => new NumberList(), opts);
    for (let v = 1; v <= 10; v++) {
      field.current.push(v);
      field.version(BigInt(v), hlc(v));
    }
    field.persist();
    const before = fs.statSync(file).size;
    field.trim(6n); // version 7 is a delta on the full record of version 5
    expect(fs.statSync(file).size, 'compacted').to.be.lessThan(before);
    for (let v = 11; v <= 12; v++) {
      field.current.push(v);
      field.version(BigInt(v), hlc(v));
    }
    field.close();
    const reopened = Persistent.open<NumberList>(file, () => new NumberList(), opts);
    expect(reopened.recovery.droppedBytes).to.equal(0);
    expect(reopened.earliestVersion).to.equal(7n);
    expect(reopened.count).to.equal(6);
    expect(reopened.get(7n).items).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(reopened.current.items).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    reopened.close();
  });

  it('a leftover .compact file from a crashed compaction is ignored and removed', function () {
    const file = path.join(dir, 'a.log');
    writeLog(file, 5);
    fs.writeFileSync(`${file}.compact`, 'half-written');
    const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
    expectIntactPrefix(field, 5);
    expect(fs.existsSync(`${file}.compact`)).to.equal(false);
    field.close();
  });

  it('truncate is durable at once: a reopen (without persist) does not see the dropped versions', function () {
    const file = path.join(dir, 'a.log');
    writeLog(file, 20);
    const field = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
    field.truncate(12n);
    expect(field.latestVersion).to.equal(12n);
    expect(Buffer.from(field.current).equals(Buffer.from(payloadFor(12)))).to.equal(true);
    // A second handle on the file sees the cut without the first persisting anything.
    const other = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
    expectIntactPrefix(other, 12);
    other.close();
    field.close();
  });
});
