/**
 * FileLog and the restart log on the simulated disk, crashed at random points (between operations,
 * during an asynchronous sync, during a deferred compaction), many seeds. After each crash the log
 * is reopened: every acknowledged (synced) version is present with its bytes, nothing returned is
 * other than what was written (no torn or stale record passes as valid), and the log takes new
 * appends. A failing seed is printed with the command that replays it alone.
 */
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { hlc } from '../../src/core/hlc.js';
import type { GroupView } from '../../src/core/membership/group-view.js';
import { FileLog } from '../../src/persistent/file-log.js';
import { RecordKind } from '../../src/persistent/record-format.js';
import { type LoggedTrim, RestartLog } from '../../src/persistent/restart-log.js';
import { Prng } from '../../src/sim/prng.js';
import { SimDisk } from '../../src/sim/sim-disk.js';
import { viewOf } from './helpers.js';

const SEEDS = Number(process.env.DERECHO_SIM_DISK_SEEDS ?? 300);
const ONLY_SEED = process.env.DERECHO_SIM_DISK_SEED === undefined ? undefined : Number(process.env.DERECHO_SIM_DISK_SEED);
const ROUNDS = 8;
/** Half the seeds run a signed log: signature records are torn and cut like any other. */
const signingKeys = generateKeyPairSync('ed25519');

function seedsToRun(): number[] {
  return ONLY_SEED !== undefined ? [ONLY_SEED] : Array.from({ length: SEEDS }, (_, i) => i + 1);
}

/** Runs every seed; a failure names its seed and how to replay it. */
async function forEachSeed(what: string, run: (seed: number) => Promise<void>): Promise<void> {
  for (const seed of seedsToRun()) {
    try {
      await run(seed);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`${what}: seed ${seed} failed (replay: DERECHO_SIM_DISK_SEED=${seed} npx mocha ... test/persistent/sim-disk-crash.test.ts): ${message}`, { cause: err });
    }
  }
}

/** Faults the runs met, so a run that never tore or lost anything cannot pass unnoticed. */
const met = { writesLost: 0, writesTorn: 0, tailsCut: 0, ackedChecked: 0 };

function randomPayload(prng: Prng): Uint8Array {
  const bytes = new Uint8Array(prng.int(0, 300));
  for (let i = 0; i < bytes.length; i++) bytes[i] = prng.int(0, 255);
  return bytes;
}

/** What the test wrote to one field log and what the log acknowledged as durable. */
interface FieldModel {
  /** The payload of each version as last appended (versions cut by truncate removed). */
  written: Map<bigint, Uint8Array>;
  /** Every written version at or below this was covered by a completed persist. */
  acked: bigint;
  /** The newest version any trim hid (those at or below may be gone). */
  trimmedMax: bigint;
  timeUs: number;
}

function checkRecovered(log: FileLog, model: FieldModel): void {
  for (let i = 0; i < log.count; i++) {
    const entry = log.entryByIndex(i);
    const v = log.versionAt(entry);
    const expected = model.written.get(v);
    expect(expected, `version ${v} was returned but never written (or was cut by truncate)`).to.not.equal(undefined);
    expect(Buffer.from(log.payloadAt(entry)).equals(Buffer.from(expected!)), `version ${v} comes back with other bytes than were written`).to.equal(true);
  }
  for (const [v] of model.written) {
    if (v > model.acked || v <= model.trimmedMax) continue;
    met.ackedChecked++;
    const entry = log.entryAsOf(v);
    expect(entry >= 0 && log.versionAt(entry) === v, `acknowledged version ${v} is missing after recovery (log holds ${log.earliestVersion}..${log.latestVersion})`).to.equal(true);
  }
  // What survived the crash is on disk now; what did not will be written again under new versions.
  for (const v of [...model.written.keys()]) if (v > log.floorVersion) model.written.delete(v);
  if (log.floorVersion > model.acked) model.acked = log.floorVersion;
}

async function fieldLogRun(seed: number): Promise<void> {
  const prng = new Prng(seed);
  const machine = new SimDisk(prng.fork(), { keepUnsyncedChance: 0.6, tearChance: 0.6 });
  const file = '/data/sg0-sh0-field.log';
  const model: FieldModel = { written: new Map(), acked: -1n, trimmedMax: -1n, timeUs: 1 };
  const signingKey = prng.chance(0.5) ? signingKeys.privateKey : undefined;
  for (let round = 0; round <= ROUNDS; round++) {
    const disk = machine.mount();
    const failures: unknown[] = [];
    const log = FileLog.open(file, {
      disk,
      signingKey,
      compaction: prng.chance(0.5) ? 'deferred' : 'inline',
      compactMinBytes: 1024,
      compactDeadFraction: 0.3,
      flushThresholdBytes: prng.pick([128, 4096, 1 << 20]),
    });
    checkRecovered(log, model);
    if (signingKey !== undefined) log.verify(signingKeys.publicKey);
    if (log.recovery.droppedBytes > 0) met.tailsCut++;
    if (round === ROUNDS) {
      // Appendable after the last recovery, and what it appends is there after a clean reopen.
      const v = log.floorVersion + 1n;
      const payload = randomPayload(prng);
      log.append(v, hlc(model.timeUs++), RecordKind.Full, payload);
      model.written.set(v, payload);
      log.close();
      model.acked = v;
      const reopened = FileLog.open(file, { disk });
      checkRecovered(reopened, model);
      if (signingKey !== undefined) expect(reopened.verify(signingKeys.publicKey).lastVersion).to.equal(v);
      met.writesLost += machine.stats.writesLost;
      met.writesTorn += machine.stats.writesTorn;
      return;
    }
    let syncsInFlight = 0;
    const steps = prng.int(1, 40);
    for (let step = 0; step < steps && !prng.chance(0.04); step++) {
      const op = prng.next();
      if (op < 0.4) {
        for (let n = prng.int(1, 5); n > 0; n--) {
          const v = log.floorVersion + BigInt(prng.int(1, 3));
          const payload = randomPayload(prng);
          const kind = log.count > 0 && prng.chance(0.3) ? RecordKind.Delta : RecordKind.Full;
          log.append(v, hlc(model.timeUs++), kind, payload);
          model.written.set(v, payload);
        }
      } else if (op < 0.5) {
        log.persist();
        if (log.floorVersion > model.acked) model.acked = log.floorVersion;
      } else if (op < 0.7) {
        syncsInFlight++;
        log.persistAsync().then(
          (v) => {
            syncsInFlight--;
            if (v > model.acked) model.acked = v;
          },
          (err: unknown) => failures.push(err),
        );
      } else if (op < 0.8 && log.count > 1) {
        const v = log.versionAt(log.entryByIndex(prng.int(0, log.count - 2)));
        log.trimVersion(v);
        if (v > model.trimmedMax) model.trimmedMax = v;
      } else if (op < 0.85 && log.count > 0 && syncsInFlight === 0) {
        const v = log.versionAt(log.entryByIndex(prng.int(0, log.count - 1)));
        log.truncate(v);
        for (const w of [...model.written.keys()]) if (w > v) model.written.delete(w);
        if (model.acked > v) model.acked = v;
      } else if (op < 0.9) {
        log.compactAsync().catch((err: unknown) => failures.push(err));
      }
      await machine.runEvents(prng.int(0, 6));
    }
    if (prng.chance(0.15)) {
      await machine.settle();
      log.close();
      model.acked = log.floorVersion;
    }
    if (failures.length > 0) throw new Error(`an operation failed before the crash: ${failures.map(String).join('; ')}`);
    machine.crash();
  }
}

async function restartLogRun(seed: number): Promise<void> {
  const prng = new Prng(seed);
  const machine = new SimDisk(prng.fork(), { keepUnsyncedChance: 0.6, tearChance: 0.6 });
  const dir = '/data';
  const views = new Map<number, GroupView>();
  const trims = new Map<string, LoggedTrim>();
  let ackedVid = -1;
  const ackedTrims: LoggedTrim[] = [];
  const trimKey = (t: LoggedTrim): string => `${t.vid}/${t.subgroup}`;
  for (let round = 0; round <= ROUNDS; round++) {
    const disk = machine.mount();
    const failures: unknown[] = [];
    const log = RestartLog.open(dir, { disk });
    const content = log.read();
    if (ackedVid >= 0) {
      expect(content.view, 'an acknowledged view is read back').to.not.equal(undefined);
      expect(content.view!.vid, 'the newest acknowledged view (or a newer one) is read back').to.be.at.least(ackedVid);
    }
    for (const view of [content.view, content.previousView]) {
      if (view !== undefined) expect(view, `view ${view.vid} reads back as written`).to.deep.equal(views.get(view.vid));
    }
    for (const trim of content.trims) expect(trim, `trim of view ${trim.vid} reads back as written`).to.deep.equal(trims.get(trimKey(trim)));
    const readKeys = new Set(content.trims.map(trimKey));
    const shownVids = [content.view?.vid, content.previousView?.vid];
    for (const trim of ackedTrims) {
      if (shownVids.includes(trim.vid) && trim.vid >= (content.previousView?.vid ?? content.view!.vid)) {
        expect(readKeys.has(trimKey(trim)), `acknowledged trim of view ${trim.vid} subgroup ${trim.subgroup} is read back`).to.equal(true);
      }
    }
    let vid = (content.view?.vid ?? -1) + 1;
    let subgroup = 0;
    const steps = round === ROUNDS ? 1 : prng.int(1, 12);
    for (let step = 0; step < steps; step++) {
      if (step === 0 || prng.chance(0.4)) {
        const view = viewOf(vid, [1, 2, 3].filter(() => prng.chance(0.8)).concat([4]));
        views.set(vid, view);
        const logged = vid++;
        subgroup = 0;
        log.appendView(view).then(
          () => {
            if (logged > ackedVid) ackedVid = logged;
          },
          (err: unknown) => failures.push(err),
        );
      } else {
        const trim: LoggedTrim = { vid: vid - 1, subgroup: subgroup++, shard: 0, shardLeader: 1, throughIndex: [prng.int(-1, 50), prng.int(-1, 50)] };
        trims.set(trimKey(trim), trim);
        log.appendTrim(trim).then(
          () => ackedTrims.push(trim),
          (err: unknown) => failures.push(err),
        );
      }
      await machine.runEvents(prng.int(0, 3));
    }
    if (round === ROUNDS) {
      // Appendable after the last recovery: the view appended above becomes durable and reads back.
      const closed = log.close();
      await machine.settle();
      await closed;
      const reopened = RestartLog.open(dir, { disk });
      expect(reopened.read().view, 'a view appended after recovery reads back').to.deep.equal(views.get(vid - 1));
      const reclosed = reopened.close();
      await machine.settle();
      await reclosed;
    }
    if (failures.length > 0) throw new Error(`an append failed before the crash: ${failures.map(String).join('; ')}`);
    machine.crash();
  }
}

describe('persistent: logs on the simulated disk under crashes', function () {
  this.timeout(300_000);

  it(`FileLog (signed or not): acknowledged versions survive, nothing torn is returned, signatures verify, appendable again (${ONLY_SEED === undefined ? `${SEEDS} seeds` : `seed ${ONLY_SEED}`}; DERECHO_SIM_DISK_SEEDS=N)`, async () => {
    await forEachSeed('FileLog', fieldLogRun);
    if (ONLY_SEED === undefined && SEEDS >= 100) {
      expect(met.writesLost, 'the crashes lost unsynced writes').to.be.greaterThan(0);
      expect(met.writesTorn, 'the crashes tore writes').to.be.greaterThan(0);
      expect(met.tailsCut, 'recovery cut torn tails').to.be.greaterThan(0);
      expect(met.ackedChecked, 'acknowledged versions were checked').to.be.greaterThan(SEEDS);
    }
  });

  it(`restart log: acknowledged views and trims survive, appendable again (${ONLY_SEED === undefined ? `${SEEDS} seeds` : `seed ${ONLY_SEED}`})`, async () => {
    await forEachSeed('restart log', restartLogRun);
  });

  it('replays a seed exactly: the same disk operations and losses', async () => {
    const statsOf = async (seed: number): Promise<string> => {
      const prng = new Prng(seed);
      const machine = new SimDisk(prng.fork());
      const log = FileLog.open('/d/a.log', { disk: machine.mount() });
      for (let i = 0; i < 50; i++) {
        log.append(BigInt(i), hlc(i + 1), RecordKind.Full, randomPayload(prng));
        if (prng.chance(0.3)) void log.persistAsync();
        await machine.runEvents(prng.int(0, 2));
      }
      machine.crash();
      const reopened = FileLog.open('/d/a.log', { disk: machine.mount() });
      return JSON.stringify({ stats: machine.stats, nowUs: machine.nowUs, latest: String(reopened.latestVersion), dropped: reopened.recovery.droppedBytes });
    };
    expect(await statsOf(7)).to.equal(await statsOf(7));
    expect(await statsOf(7)).to.not.equal(await statsOf(8));
  });
});
