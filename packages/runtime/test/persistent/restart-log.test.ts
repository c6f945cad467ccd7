/**
 * The restart log: views and ragged trims read back after reopening, torn and damaged tails, group
 * commit and disk failures.
 */
import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';
import { expect } from 'chai';
import { hlc } from '../../src/core/hlc.js';
import { CorruptLogError } from '../../src/persistent/errors.js';
import { FILE_HEADER_BYTES } from '../../src/persistent/record-format.js';
import { type LoggedTrim, RESTART_LOG_FILE_NAME, RestartLog, RestartLogError } from '../../src/persistent/restart-log.js';
import { Persistent } from '../../src/persistent/versioned.js';
import { makeTempDir, removeDir, viewOf } from './helpers.js';

const require = createRequire(import.meta.url);
const fsCjs = require('node:fs') as typeof fs;

function trimOf(vid: number, subgroup: number, through: number[]): LoggedTrim {
  return { vid, subgroup, shard: 0, shardLeader: 1, throughIndex: through };
}

/** Runs `body` with fs.fdatasync counted (and failing with `fail`, or held while `hold()` says so). */
async function withSyncCounter<T>(body: (syncs: () => number) => Promise<T>, fail?: Error, hold?: () => Promise<void>): Promise<T> {
  const original = fsCjs.fdatasync;
  let syncs = 0;
  fsCjs.fdatasync = ((fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
    syncs++;
    if (fail !== undefined) setImmediate(() => callback(fail));
    else void (hold?.() ?? Promise.resolve()).then(() => original(fd, callback));
  }) as typeof fs.fdatasync;
  syncBuiltinESMExports();
  try {
    return await body(() => syncs);
  } finally {
    fsCjs.fdatasync = original;
    syncBuiltinESMExports();
  }
}

describe('persistent: restart log (views and ragged trims)', function () {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = makeTempDir('restart');
    file = path.join(dir, RESTART_LOG_FILE_NAME);
  });
  afterEach(() => removeDir(dir));

  it('reads back the last view, the one before it and their trims, before and after reopening', async function () {
    const log = RestartLog.open(dir);
    expect(log.recovery.created).to.equal(true);
    expect(log.read()).to.deep.equal({ view: undefined, previousView: undefined, trims: [] });
    await log.appendView(viewOf(0, [1, 2, 3]));
    expect(log.read()).to.deep.equal({ view: viewOf(0, [1, 2, 3]), previousView: undefined, trims: [] });
    await Promise.all([log.appendTrim(trimOf(0, 0, [4, 3, 5])), log.appendTrim(trimOf(0, 1, [-1]))]);
    await log.appendView(viewOf(1, [1, 2]));
    const expected = { view: viewOf(1, [1, 2]), previousView: viewOf(0, [1, 2, 3]), trims: [trimOf(0, 0, [4, 3, 5]), trimOf(0, 1, [-1])] };
    expect(log.read()).to.deep.equal(expected);
    await log.close();

    const reopened = RestartLog.open(dir);
    expect(reopened.recovery.created).to.equal(false);
    expect(reopened.recovery.droppedBytes).to.equal(0);
    expect(reopened.read()).to.deep.equal(expected);
    // A view ending when the member stopped: its own trim comes after the previous view's.
    await reopened.appendTrim(trimOf(1, 0, [7, 8]));
    await reopened.close();
    const again = RestartLog.open(dir);
    expect(again.read()).to.deep.equal({ ...expected, trims: [...expected.trims, trimOf(1, 0, [7, 8])] });
    await again.close();
  });

  it('keeps only what a restart reads: records older than the view before the last are trimmed', async function () {
    const log = RestartLog.open(dir);
    for (let vid = 0; vid < 6; vid++) {
      await log.appendView(viewOf(vid, [1, 2, 3 + vid]));
      await log.appendTrim(trimOf(vid, 0, [vid, vid + 1]));
    }
    await log.appendView(viewOf(6, [1, 2]));
    const expected = { view: viewOf(6, [1, 2]), previousView: viewOf(5, [1, 2, 8]), trims: [trimOf(5, 0, [5, 6])] };
    expect(log.read()).to.deep.equal(expected);
    await log.close();
    const reopened = RestartLog.open(dir);
    expect(reopened.read()).to.deep.equal(expected);
    await reopened.close();
  });

  it('stays small over many views: the dead records are compacted away, and the reopened log reads the same', async function () {
    this.timeout(120_000);
    const log = RestartLog.open(dir, { fsync: false });
    const big = Array.from({ length: 200 }, (_, i) => i);
    for (let vid = 0; vid < 300; vid++) {
      await log.appendView(viewOf(vid, big));
      await log.appendTrim(trimOf(vid, 0, big));
    }
    const expected = { view: viewOf(299, big), previousView: viewOf(298, big), trims: [trimOf(298, 0, big), trimOf(299, 0, big)] };
    expect(log.read()).to.deep.equal(expected);
    await log.close();
    // About 300 views of ~4 KiB were written; a compaction runs once 256 KiB are dead.
    expect(fs.statSync(file).size).to.be.below(400 << 10);
    const reopened = RestartLog.open(dir);
    expect(reopened.read()).to.deep.equal(expected);
    await reopened.close();
  });

  it('a torn last record, cut at every byte, is cut from the file and reported; what was durable before it reads back', async function () {
    this.timeout(120_000);
    const log = RestartLog.open(dir);
    await log.appendView(viewOf(0, [1, 2, 3]));
    await log.appendTrim(trimOf(0, 0, [1, 2, 3]));
    await log.close();
    const durable = fs.readFileSync(file);
    const before = RestartLog.open(dir);
    const expected = before.read();
    await before.appendView(viewOf(1, [1, 2]));
    await before.close();
    const full = fs.readFileSync(file);
    expect(full.length).to.be.greaterThan(durable.length + 48);
    for (let cut = durable.length + 1; cut < full.length; cut++) {
      fs.writeFileSync(file, full.subarray(0, cut));
      const reopened = RestartLog.open(dir);
      expect(reopened.recovery.droppedBytes, `cut at ${cut}`).to.equal(cut - durable.length);
      expect(reopened.recovery.droppedAtOffset).to.equal(durable.length);
      expect(reopened.recovery.droppedReason).to.match(/incomplete record/);
      expect(reopened.read(), `cut at ${cut}`).to.deep.equal(expected);
      await reopened.close();
      expect(fs.statSync(file).size, 'the torn tail is cut from the file').to.equal(durable.length);
    }
  });

  it('a flipped byte in the last record drops that record; one inside durable records followed by intact ones is refused', async function () {
    this.timeout(120_000);
    const log = RestartLog.open(dir);
    await log.appendView(viewOf(0, [1, 2, 3]));
    const firstEnd = fs.statSync(file).size;
    await log.appendTrim(trimOf(0, 0, [1, 2, 3]));
    const durableEnd = fs.statSync(file).size;
    await log.appendView(viewOf(1, [1, 2]));
    await log.close();
    const full = fs.readFileSync(file);
    for (let at = durableEnd; at < full.length; at++) {
      const flipped = Buffer.from(full);
      flipped[at] ^= 0x10;
      fs.writeFileSync(file, flipped);
      const reopened = RestartLog.open(dir);
      expect(reopened.recovery.droppedBytes, `flip at ${at}`).to.equal(full.length - durableEnd);
      expect(reopened.read(), `flip at ${at}`).to.deep.equal({ view: viewOf(0, [1, 2, 3]), previousView: undefined, trims: [trimOf(0, 0, [1, 2, 3])] });
      await reopened.close();
    }
    for (const at of [firstEnd + 5, firstEnd + 60]) {
      const flipped = Buffer.from(full);
      flipped[at] ^= 0x10;
      fs.writeFileSync(file, flipped);
      expect(() => RestartLog.open(dir), `flip at ${at}`).to.throw(CorruptLogError, /restart\.log.*followed by an intact record/);
      expect(fs.readFileSync(file).equals(flipped), 'a refused file is left untouched').to.equal(true);
    }
  });

  it('group commit: appends made while a sync runs share the next fdatasync; fsync off syncs nothing', async function () {
    let release: () => void = () => undefined;
    let held: Promise<void> | undefined;
    await withSyncCounter(
      async (syncs) => {
        const log = RestartLog.open(dir);
        await log.appendView(viewOf(0, [1, 2, 3]));
        expect(syncs()).to.equal(1);
        // Appends of one step: one sync.
        await Promise.all([log.appendTrim(trimOf(0, 0, [1])), log.appendTrim(trimOf(0, 1, [2]))]);
        expect(syncs()).to.equal(2);
        // A sync in flight (held): the appends made meanwhile wait for it, then share one more.
        held = new Promise((resolve) => (release = resolve));
        let settled = 0;
        const first = log.appendTrim(trimOf(0, 2, [3])).then(() => settled++);
        while (syncs() < 3) await new Promise((resolve) => setImmediate(resolve));
        const later = [log.appendTrim(trimOf(0, 3, [4])), log.appendView(viewOf(1, [1, 2])), log.appendTrim(trimOf(1, 0, [5]))].map((p) => p.then(() => settled++));
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(settled, 'nothing resolves before its sync').to.equal(0);
        held = undefined;
        release();
        await Promise.all([first, ...later]);
        expect(syncs()).to.equal(4);
        await log.close();
        expect(syncs(), 'nothing unsynced at close').to.equal(4);
      },
      undefined,
      () => held ?? Promise.resolve(),
    );
    await withSyncCounter(async (syncs) => {
      const log = RestartLog.open(path.join(dir, 'nofsync'), { fsync: false });
      await log.appendView(viewOf(0, [1]));
      await log.appendTrim(trimOf(0, 0, [1]));
      expect(syncs()).to.equal(0);
      await log.close();
      const reopened = RestartLog.open(path.join(dir, 'nofsync'));
      expect(reopened.read().trims).to.deep.equal([trimOf(0, 0, [1])]);
      await reopened.close();
    });
  });

  it('a failed fdatasync rejects the append naming the file and the error, and every append after it', async function () {
    const log = RestartLog.open(dir);
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    await withSyncCounter(async () => {
      const first = log.appendTrim(trimOf(0, 0, [1]));
      await first.then(
        () => expect.fail('the append resolved although its sync failed'),
        (err: Error) => {
          expect(err).to.be.instanceOf(RestartLogError);
          expect(err.message).to.include(file).and.include('EIO');
        },
      );
    }, eio);
    await log.appendView(viewOf(1, [1])).then(
      () => expect.fail('an append after a failed sync resolved'),
      (err: Error) => expect(err.message).to.include('EIO'),
    );
    await log.close();
  });

  it('refuses a field log given as a restart log, naming the file', function () {
    const field = Persistent.open<number>(file, () => 0);
    field.current = 7;
    field.version(1n, hlc(1));
    field.close();
    expect(() => RestartLog.open(dir)).to.throw(RestartLogError, /restart\.log: record 0 is not a restart record/);
    expect(fs.statSync(file).size).to.be.greaterThan(FILE_HEADER_BYTES);
  });
});
