/**
 * ReplicaVersions on its own: finding an object's versioned fields, group commit (one sync in
 * flight, later requests covered by the next), a disk error (logged, persistence no longer
 * claimed), logs of an earlier run refused for a replica that starts empty, state transfer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { makeVersion, type Version } from '../../src/core/version.js';
import { Persistent, Volatile } from '../../src/persistent/versioned.js';
import { ReplicaVersions, versionedFieldsOf, type ReplicaVersionsOptions } from '../../src/rpc/replica-versions.js';

class Store {
  readonly data = new Persistent<Record<string, number>>(() => ({}));
  readonly hits = new Volatile<number>(() => 0);
  readonly plain = 5;
}

const hlc = (n: number) => ({ wallUs: 1000 + n, logical: 0 });

describe('ReplicaVersions', () => {
  let dir: string;
  let logged: { level: number; msg: string }[];
  let persisted: Version[];
  let failures: Error[];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'derecho-replica-versions-'));
    logged = [];
    persisted = [];
    failures = [];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function options(durable: boolean, fsync = true): ReplicaVersionsOptions {
    const stream = { write: (s: string) => logged.push(JSON.parse(s) as { level: number; msg: string }) };
    return {
      subgroupId: 2,
      shard: 1,
      className: 'Store',
      durable,
      settings: { enabled: durable, dir, fsync },
      log: pino({ level: 'debug' }, stream),
      onPersisted: (v) => persisted.push(v),
      onFailed: (e) => failures.push(e),
    };
  }

  it('retention after group commits: versions bounded below the global frontier, the file compacted off the delivery path', async () => {
    class Blobs {
      readonly blob = new Persistent<Uint8Array>(() => new Uint8Array(0), { retention: { versions: 50 } });
    }
    const blobs = new Blobs();
    let global = -1n;
    const versions = ReplicaVersions.create(blobs, { ...options(true, false), globalPersisted: () => global }, true)!;
    const file = path.join(dir, 'sg2-sh1-blob.log');
    let largest = 0;
    // 64 KiB a version: the hidden bytes pass the 64 MiB compaction threshold after ~1,050 versions.
    for (let i = 0; i < 1400; i++) {
      blobs.blob.current = new Uint8Array(64 * 1024).fill(i & 255);
      versions.version(makeVersion(0, i), hlc(i));
      if (i % 20 === 19) {
        const before = persisted.length;
        versions.requestPersist(makeVersion(0, i));
        while (persisted.length === before) await new Promise((r) => setImmediate(r));
        global = makeVersion(0, i);
        largest = Math.max(largest, fs.statSync(file).size);
      }
    }
    expect(blobs.blob.count).to.be.at.most(50 + 20);
    await versions.close();
    expect(largest, 'the file grew past the compaction threshold').to.be.above(64 << 20);
    expect(fs.statSync(file).size, 'compacted').to.be.below(40 << 20);
    expect(fs.readdirSync(dir)).to.deep.equal(['sg2-sh1-blob.log']);
    const reopened = Persistent.open<Uint8Array>(file, () => new Uint8Array(0));
    expect(reopened.latestVersion).to.equal(makeVersion(0, 1399));
    expect(reopened.get(makeVersion(0, 1390))[0]).to.equal(1390 & 255);
    reopened.close();
  });

  it('not durable (ordered shards): the config\'s retention applies every 256 versions, counting every version made', () => {
    const store = new Store();
    const versions = ReplicaVersions.create(store, { ...options(false), settings: { enabled: false, dir, fsync: true, retainVersions: 20 } }, true)!;
    for (let i = 0; i < 1000; i++) {
      store.hits.current = i;
      versions.version(makeVersion(0, i), hlc(i));
    }
    // Retention last ran at the 768th version: 20 kept then, 232 made since.
    expect([store.hits.count, store.data.count]).to.deep.equal([252, 252]);
    expect(store.hits.earliestVersion).to.equal(makeVersion(0, 748));
  });

  it('finds own versioned fields by property name; an object without any has none', () => {
    expect(versionedFieldsOf(new Store()).map(([name]) => name)).to.deep.equal(['data', 'hits']);
    expect(ReplicaVersions.create({ a: 1 }, options(true), true)).to.equal(undefined);
  });

  it('group commit: one sync in flight, requests meanwhile covered by the next; the log holds every version', async () => {
    const store = new Store();
    const versions = ReplicaVersions.create(store, options(true), true)!;
    expect(versions.registry.fieldNames).to.deep.equal(['data', 'hits']);
    for (let i = 0; i < 3; i++) {
      store.data.current[`k${i}`] = i;
      versions.version(makeVersion(0, i), hlc(i));
    }
    versions.requestPersist(makeVersion(0, 2));
    store.data.current.k3 = 3;
    versions.version(makeVersion(0, 3), hlc(3));
    versions.requestPersist(makeVersion(0, 3));
    versions.requestPersist(makeVersion(0, 3));
    for (let i = 0; i < 200 && persisted.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    await versions.close();
    // The first sync reports what it covered; the second the rest; nothing twice.
    expect(persisted).to.deep.equal([makeVersion(0, 2), makeVersion(0, 3)]);
    const reopened = Persistent.open<Record<string, number>>(path.join(dir, 'sg2-sh1-data.log'), () => ({}));
    expect(reopened.count).to.equal(4);
    expect(reopened.get(makeVersion(0, 1))).to.deep.equal({ k0: 0, k1: 1 });
    reopened.close();
    expect(fs.readdirSync(dir)).to.deep.equal(['sg2-sh1-data.log']);
  });

  it('persistence.fsync off: a group commit hands the bytes to the OS and reports them persisted without syncing', async () => {
    const store = new Store();
    const versions = ReplicaVersions.create(store, options(true, false), true)!;
    store.data.current.a = 1;
    versions.version(makeVersion(0, 0), hlc(0));
    const file = path.join(dir, 'sg2-sh1-data.log');
    const before = fs.statSync(file).size;
    versions.requestPersist(makeVersion(0, 0));
    for (let i = 0; i < 200 && persisted.length < 1; i++) await new Promise((r) => setTimeout(r, 5));
    expect(persisted).to.deep.equal([makeVersion(0, 0)]);
    expect(fs.statSync(file).size).to.be.greaterThan(before);
    expect(store.data.lastPersistedVersion).to.equal(makeVersion(0, 0));
    await versions.close();
  });

  it('not durable: Persistent fields are kept in memory and nothing is written', async () => {
    const store = new Store();
    const versions = ReplicaVersions.create(store, options(false), true)!;
    store.data.current.a = 1;
    versions.version(makeVersion(0, 0), hlc(0));
    expect(store.data.get(makeVersion(0, 0))).to.deep.equal({ a: 1 });
    await versions.close();
    expect(fs.readdirSync(dir)).to.deep.equal([]);
  });

  it('a disk error is logged, reported once, and nothing is claimed persisted after it', async () => {
    const store = new Store();
    const versions = ReplicaVersions.create(store, options(true), true)!;
    versions.version(makeVersion(0, 0), hlc(0));
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    versions.registry.persistAsync = () => Promise.reject(eio);
    versions.requestPersist(makeVersion(0, 0));
    await new Promise((r) => setImmediate(r));
    expect(failures).to.deep.equal([eio]);
    expect(versions.failed).to.equal(eio);
    expect(persisted).to.deep.equal([]);
    const errors = logged.filter((l) => l.level >= 50);
    expect(errors).to.have.length(1);
    expect(errors[0].msg).to.match(/cannot make the Store log durable: EIO: i\/o error.*no longer reports versions persisted/);
    versions.version(makeVersion(0, 1), hlc(1));
    versions.requestPersist(makeVersion(0, 1));
    await new Promise((r) => setImmediate(r));
    expect(persisted).to.deep.equal([]);
    expect(failures).to.have.length(1);
  });

  it('refuses logs of an earlier run for a replica that starts empty, and a joiner replaces them with the transferred history', async () => {
    const first = new Store();
    const old = ReplicaVersions.create(first, options(true), true)!;
    first.data.current.a = 1;
    old.version(makeVersion(3, 0), hlc(0));
    await old.close();
    expect(() => ReplicaVersions.create(new Store(), options(true), true)).to.throw(/hold versions up to .* from an earlier run.*remove the sg2-sh1-\*\.log files/);

    // The shard's history, as an old leader would send it.
    const leaderDir = fs.mkdtempSync(path.join(os.tmpdir(), 'derecho-replica-versions-leader-'));
    try {
      const leader = new Store();
      const leaderVersions = ReplicaVersions.create(leader, { ...options(true), settings: { enabled: true, dir: leaderDir, fsync: true } }, true)!;
      for (let i = 0; i < 5; i++) {
        leader.data.current[`x${i}`] = i;
        leader.hits.current += 1;
        leaderVersions.version(makeVersion(7, i), hlc(10 + i));
      }
      const joiner = new Store();
      const joinerVersions = ReplicaVersions.create(joiner, options(true), false)!;
      expect(joiner.data.latestVersion).to.equal(makeVersion(3, 0)); // the stale run, before the transfer
      joinerVersions.restore(leaderVersions.serialize());
      expect(joiner.data.count).to.equal(5);
      expect(joiner.data.latestVersion).to.equal(makeVersion(7, 4));
      expect(joiner.data.get(makeVersion(7, 2))).to.deep.equal({ x0: 0, x1: 1, x2: 2 });
      expect(joiner.data.lastPersistedVersion).to.equal(makeVersion(7, 4));
      expect(joiner.hits.current).to.equal(5);
      expect(joiner.data.timeOf(makeVersion(7, 3))).to.deep.equal(hlc(13));
      await joinerVersions.close();
      await leaderVersions.close();
    } finally {
      fs.rmSync(leaderDir, { recursive: true, force: true });
    }
  });

  it('refuses a Persistent field that is already attached to storage', () => {
    const attached = { data: Persistent.open(path.join(dir, 'own.log'), () => 0) };
    try {
      expect(() => ReplicaVersions.create(attached, options(true), true)).to.throw(/already attached to storage/);
    } finally {
      attached.data.close();
    }
  });
});
