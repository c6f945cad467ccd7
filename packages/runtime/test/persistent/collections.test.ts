/**
 * The collections' cost and contract: a put logs about the same bytes into a map of 100,000 keys
 * as into one of 10 (checkpoints come once per checkpoint's worth of deltas), state transfer
 * carries the history, and the value cannot be replaced wholesale. Every read against a model:
 * collections-model.test.ts.
 */
import * as path from 'node:path';
import { expect } from 'chai';
import type { Hlc } from '../../src/core/hlc.js';
import { INVALID_VERSION } from '../../src/core/version.js';
import { PersistentLog, PersistentMap, PersistentSet } from '../../src/persistent/collections.js';
import type { FileLog } from '../../src/persistent/file-log.js';
import { RecordKind } from '../../src/persistent/record-format.js';
import { makeTempDir, removeDir } from './helpers.js';

const hlc = (us: number): Hlc => ({ wallUs: us, logical: 0 });

function storeOf(field: unknown): FileLog {
  return (field as { store: FileLog }).store;
}

describe('persistent collections', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('collections');
  });
  afterEach(() => removeDir(dir));

  /** Bytes logged per put over `puts` puts into a map first holding `keys` keys, and the full records among them. */
  function bytesPerPut(keys: number, puts: number): { bytes: number; fullRecords: number } {
    const map = new PersistentMap<string, Uint8Array>();
    map.attach(path.join(dir, `map-${keys}.log`));
    const value = new Uint8Array(100).fill(3);
    for (let i = 0; i < keys; i++) map.current.set(`key-${i}`, new Uint8Array(100).fill(i & 255));
    map.version(1n, hlc(1));
    map.persist();
    const store = storeOf(map);
    const before = store.sizeBytes;
    for (let v = 2; v <= puts + 1; v++) {
      map.current.set(`key-${v % keys}`, value);
      map.version(BigInt(v), hlc(v));
    }
    const bytes = (store.sizeBytes - before) / puts;
    let fullRecords = 0;
    for (let i = 1; i < map.count; i++) if (store.kindAt(store.entryByIndex(i)) === RecordKind.Full) fullRecords++;
    map.close();
    return { bytes, fullRecords };
  }

  it('a put costs about its change, in a map of 10 keys or of 100,000', () => {
    const small = bytesPerPut(10, 5000);
    const large = bytesPerPut(100_000, 5000);
    process.stdout.write(`      (bytes per put: 10 keys ${small.bytes.toFixed(0)} (${small.fullRecords} checkpoints), 100,000 keys ${large.bytes.toFixed(0)} (${large.fullRecords}))\n`);
    // A delta record is ~48 header + ~120 payload bytes. The small map checkpoints (~1.2 KB) about
    // every 10 puts, doubling its cost at most; the large one (~11 MB) not once in 5,000 puts.
    expect(large.fullRecords).to.equal(0);
    expect(small.fullRecords).to.be.greaterThan(100);
    expect(large.bytes).to.be.below(250);
    expect(small.bytes).to.be.below(2 * 250);
    expect(large.bytes).to.be.at.most(small.bytes);
  });

  it('state transfer carries a collection\'s history to a fresh replica', () => {
    const a = new PersistentSet<string>();
    a.attach(path.join(dir, 'a.log'));
    for (let v = 1; v <= 50; v++) {
      a.current.add(`x${v % 7}`);
      if (v % 5 === 0) a.current.delete(`x${(v + 1) % 7}`);
      a.version(BigInt(v), hlc(v));
    }
    const b = new PersistentSet<string>();
    b.attachInMemory('receiver');
    b.applyTail(a.serializeTail(INVALID_VERSION));
    expect(b.latestVersion).to.equal(50n);
    for (let v = 1n; v <= 50n; v++) expect([...b.get(v)]).to.deep.equal([...a.get(v)]);
    expect([...b.current]).to.deep.equal([...a.current]);
    // The receiver goes on from there: its next version is a delta of its own changes.
    b.current.add('after');
    b.version(51n, hlc(51));
    expect(b.get(51n).has('after')).to.equal(true);
    expect(b.get(50n).has('after')).to.equal(false);
    a.close();
  });

  it('a log appends only; the value of a collection cannot be replaced wholesale', () => {
    const log = new PersistentLog<number>();
    log.attachInMemory('log');
    log.current.append(1, 2);
    log.version(1n, hlc(1));
    log.current.append(3);
    log.version(2n, hlc(2));
    expect(log.lengthAt(1n)).to.equal(2);
    expect(log.get(2n).slice()).to.deep.equal([1, 2, 3]);
    expect(() => {
      (log as unknown as { current: unknown }).current = log.get(1n);
    }).to.throw(TypeError, /cannot be replaced wholesale/);
    const map = new PersistentMap<string, number>();
    map.attachInMemory('map');
    map.current.set('a', 1);
    map.current.set('b', 2);
    map.current.clear();
    map.current.set('c', 3);
    map.version(1n, hlc(1));
    map.current.delete('c');
    map.current.delete('missing');
    map.version(2n, hlc(2));
    expect([...map.get(1n)]).to.deep.equal([['c', 3]]);
    expect(map.get(2n).size).to.equal(0);
    expect(map.getAt('c', 1n)).to.equal(3);
  });
});
