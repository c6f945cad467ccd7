/**
 * State transfer (log tails) and the registry that versions and persists an object's fields together.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { hlc } from '../../src/core/hlc.js';
import { INVALID_VERSION } from '../../src/core/version.js';
import { CorruptLogError, VersionOrderError } from '../../src/persistent/errors.js';
import { PersistentRegistry } from '../../src/persistent/registry.js';
import { Persistent, Volatile, type VersionedField } from '../../src/persistent/versioned.js';
import { makeTempDir, NumberList, numberListCodec, removeDir } from './helpers.js';

function sameHistory<T>(a: VersionedField<T>, b: VersionedField<T>, read: (x: T) => unknown = (x) => x): void {
  expect(b.count).to.equal(a.count);
  expect(b.earliestVersion).to.equal(a.earliestVersion);
  expect(b.latestVersion).to.equal(a.latestVersion);
  for (let i = 0; i < a.count; i++) expect(read(b.getByIndex(i))).to.deep.equal(read(a.getByIndex(i)));
  for (let v = a.earliestVersion; v >= 0n && v <= a.latestVersion; v++) {
    expect(b.timeOf(v)).to.deep.equal(a.timeOf(v));
  }
  expect(read(b.current)).to.deep.equal(read(a.current));
}

describe('persistent: log tails for state transfer', function () {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('tail');
  });
  afterEach(() => removeDir(dir));

  function fill(f: VersionedField<NumberList>, from: number, to: number): void {
    for (let v = from; v <= to; v++) {
      f.current.push(v, -v);
      f.version(BigInt(v), hlc(1000 + v));
    }
  }

  it('a replica behind by some versions catches up with the tail after its newest version (delta type, on disk)', function () {
    const opts = { codec: numberListCodec, checkpointEvery: 4 };
    const leader = Persistent.open<NumberList>(path.join(dir, 'leader.log'), () => new NumberList(), opts);
    const joiner = Persistent.open<NumberList>(path.join(dir, 'joiner.log'), () => new NumberList(), opts);
    fill(leader, 1, 30);
    fill(joiner, 1, 11);
    const tail = leader.serializeTail(joiner.latestVersion);
    joiner.applyTail(tail);
    sameHistory(leader, joiner, (x) => x.items);
    // It keeps working as a log afterwards, and survives reopen.
    fill(joiner, 31, 33);
    joiner.close();
    const reopened = Persistent.open<NumberList>(path.join(dir, 'joiner.log'), () => new NumberList(), opts);
    expect(reopened.latestVersion).to.equal(33n);
    expect(reopened.get(30n).items).to.deep.equal(leader.get(30n).items);
    reopened.close();
    leader.close();
  });

  it('an empty joiner receives the whole retained log from the base checkpoint, trims included (rebase)', function () {
    const opts = { codec: numberListCodec, checkpointEvery: 5 };
    const leader = new Volatile<NumberList>(() => new NumberList(), opts);
    fill(leader, 1, 40);
    leader.trim(22n);
    const joiner = Persistent.open<NumberList>(path.join(dir, 'joiner.log'), () => new NumberList(), opts);
    joiner.applyTail(leader.serializeTail(INVALID_VERSION));
    sameHistory(leader, joiner, (x) => x.items);
    expect(joiner.earliestVersion).to.equal(23n);
    joiner.close();
    const reopened = Persistent.open<NumberList>(path.join(dir, 'joiner.log'), () => new NumberList(), opts);
    sameHistory(leader, reopened, (x) => x.items);
    reopened.close();
  });

  it('a joiner with a stale log older than the leader’s trim point is replaced whole', function () {
    const leader = new Volatile<number>(() => 0);
    const joiner = new Volatile<number>(() => 0);
    for (let v = 1; v <= 20; v++) {
      leader.current = v;
      leader.version(BigInt(v), hlc(v));
      if (v <= 3) {
        joiner.current = v;
        joiner.version(BigInt(v), hlc(v));
      }
    }
    leader.trim(10n);
    joiner.applyTail(leader.serializeTail(joiner.latestVersion));
    sameHistory(leader, joiner);
  });

  it('refuses a tail that does not start where this log ends, and damaged tail bytes, changing nothing', function () {
    const leader = new Volatile<number>(() => 0);
    const joiner = new Volatile<number>(() => 0);
    for (let v = 1; v <= 10; v++) {
      leader.current = v;
      leader.version(BigInt(v), hlc(v));
      if (v <= 5) {
        joiner.current = v;
        joiner.version(BigInt(v), hlc(v));
      }
    }
    expect(() => joiner.applyTail(leader.serializeTail(3n))).to.throw(VersionOrderError, /starts after version 3 but this log ends at 5/);
    const bytes = Buffer.from(leader.serializeTail(5n));
    for (const at of [0, 20, 60, bytes.length - 1]) {
      const damaged = Buffer.from(bytes);
      damaged[at] ^= 0x10;
      expect(() => joiner.applyTail(damaged)).to.throw(CorruptLogError);
    }
    expect(() => joiner.applyTail(bytes.subarray(0, bytes.length - 3))).to.throw(CorruptLogError, /ends inside record/);
    expect(joiner.latestVersion).to.equal(5n);
    joiner.applyTail(bytes);
    sameHistory(leader, joiner);
  });
});

describe('persistent: registry of an object’s fields', function () {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('registry');
  });
  afterEach(() => removeDir(dir));

  function open(): { reg: PersistentRegistry; kv: Persistent<Map<string, string>>; list: Persistent<NumberList>; cache: Volatile<number> } {
    const reg = new PersistentRegistry({ dir, subgroup: 2, shard: 1 });
    const kv = reg.persistent<Map<string, string>>('kv', () => new Map());
    const list = reg.persistent<NumberList>('list', () => new NumberList(), { codec: numberListCodec, checkpointEvery: 4 });
    const cache = reg.volatile<number>('cache', () => 0);
    return { reg, kv, list, cache };
  }

  it('versions every field together, persists them with one call, and names files by subgroup, shard and field', async function () {
    const { reg, kv, list, cache } = open();
    for (let v = 1; v <= 10; v++) {
      kv.current.set(`k${v}`, `v${v}`);
      list.current.push(v);
      cache.current = v;
      reg.version(BigInt(v), hlc(v));
    }
    expect(reg.lastPersistedVersion).to.equal(INVALID_VERSION);
    expect(reg.persist()).to.equal(10n);
    kv.current.set('k11', 'v11');
    list.current.push(11);
    reg.version(11n, hlc(11));
    expect(await reg.persistAsync()).to.equal(11n);
    expect(reg.lastPersistedVersion).to.equal(11n);
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['sg2-sh1-kv.log', 'sg2-sh1-list.log']);
    // All fields or none: a refused version leaves every field as it was.
    // All fields or none: a field added late would accept 11, the others refuse it, so none takes it.
    const late = reg.volatile<number>('late', () => 0);
    expect(() => reg.version(11n, hlc(12))).to.throw(VersionOrderError);
    expect(kv.count).to.equal(11);
    expect(late.count).to.equal(0);
    reg.close();
    const again = open();
    expect(again.reg.latestVersion).to.equal(11n);
    expect(again.kv.get(4n).get('k4')).to.equal('v4');
    expect(again.kv.get(4n).has('k5')).to.equal(false);
    expect(again.list.get(7n).items).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(again.cache.count, 'volatile fields start empty').to.equal(0);
    // A restarted replica catches up from one that kept running: its volatile field is sent whole.
    const live = new PersistentRegistry({ dir: path.join(dir, 'live'), subgroup: 2, shard: 1 });
    const liveKv = live.persistent<Map<string, string>>('kv', () => new Map());
    const liveList = live.persistent<NumberList>('list', () => new NumberList(), { codec: numberListCodec, checkpointEvery: 4 });
    const liveCache = live.volatile<number>('cache', () => 0);
    for (let v = 1; v <= 12; v++) {
      liveKv.current.set(`k${v}`, `v${v}`);
      liveList.current.push(v);
      liveCache.current = v;
      live.version(BigInt(v), hlc(v));
    }
    again.reg.applyTail(live.serializeTail(again.reg.latestVersion));
    expect(again.reg.latestVersion).to.equal(12n);
    sameHistory(liveCache, again.cache);
    sameHistory(liveList, again.list, (x) => x.items);
    live.close();
    again.reg.close();
  });

  it('after a crash between two fields’ syncs, reopening cuts every field back to the version all of them hold', function () {
    const { reg, kv, list } = open();
    for (let v = 1; v <= 5; v++) {
      kv.current.set(`k${v}`, `v${v}`);
      list.current.push(v);
      reg.version(BigInt(v), hlc(v));
    }
    reg.close();
    // Field "kv" got versions 6 and 7 on disk; "list" did not (the crash came between the syncs).
    const ahead = Persistent.open<Map<string, string>>(path.join(dir, 'sg2-sh1-kv.log'), () => new Map());
    for (const v of [6, 7]) {
      ahead.current.set(`k${v}`, `v${v}`);
      ahead.version(BigInt(v), hlc(v));
    }
    ahead.close();
    const again = open();
    expect(again.reg.latestVersion).to.equal(5n);
    expect(again.kv.latestVersion).to.equal(5n);
    expect(again.kv.current.has('k6')).to.equal(false);
    again.kv.current.set('k6', 'again');
    again.list.current.push(6);
    again.reg.version(6n, hlc(6));
    expect(again.reg.persist()).to.equal(6n);
    again.reg.close();
  });

  it('transfers an object’s state with one tail, and refuses bad names', function () {
    const a = open();
    for (let v = 1; v <= 8; v++) {
      a.kv.current.set(`k${v}`, `v${v}`);
      a.list.current.push(v);
      a.cache.current = v;
      a.reg.version(BigInt(v), hlc(v));
    }
    const otherDir = makeTempDir('registry-b');
    try {
      const b = new PersistentRegistry({ dir: otherDir, subgroup: 2, shard: 1 });
      const kv = b.persistent<Map<string, string>>('kv', () => new Map());
      const list = b.persistent<NumberList>('list', () => new NumberList(), { codec: numberListCodec, checkpointEvery: 4 });
      const cache = b.volatile<number>('cache', () => 0);
      b.applyTail(a.reg.serializeTail(b.latestVersion));
      sameHistory(a.kv, kv, (m) => [...m]);
      sameHistory(a.list, list, (x) => x.items);
      sameHistory(a.cache, cache);
      expect(b.persist()).to.equal(8n);
      expect(() => b.persistent('bad/name', () => 0)).to.throw(TypeError, /field name "bad\/name"/);
      expect(() => b.volatile('kv', () => 0)).to.throw(/already registered/);
      expect(() => new PersistentRegistry({ dir: otherDir, subgroup: -1, shard: 0 })).to.throw(RangeError, /"subgroup" must be a non-negative integer, got -1/);
      b.close();
    } finally {
      removeDir(otherDir);
      a.reg.close();
    }
  });
});
