/**
 * Reference §2.15 item 10 as a checker, for tests and the simulator: after a total restart, every
 * shard's log equals the longest log truncated to the agreed ragged trim, and no version beyond
 * the trim survives anywhere. The new run's versions (views from the restart view on) follow the
 * kept log, with HLCs after its last one.
 */
import { compareHlc, formatHlc, type Hlc } from '../hlc.js';
import { formatVersion, versionVid, type Version } from '../version.js';

/** One field-log entry as a checker sees it: `digest` stands for the value (equal values, equal digests). */
export interface CheckedLogEntry {
  readonly version: Version;
  readonly hlc: Hlc;
  readonly digest: string;
}

export interface RestartedShard {
  readonly subgroup: number;
  readonly shard: number;
  /** The restart view's vid: entries of this view and later belong to the new run. */
  readonly restartVid: number;
  /** The agreed trim: the last version the restart kept. */
  readonly keepThrough: Version;
  /** The shard's log at every member that took part in the restart, as it was when they stopped. */
  readonly before: ReadonlyMap<number, readonly CheckedLogEntry[]>;
  /** The shard's log at every node that holds one after the restart (members and others alike). */
  readonly after: ReadonlyMap<number, readonly CheckedLogEntry[]>;
}

const entryText = (e: CheckedLogEntry) => `${formatVersion(e.version)} (hlc ${formatHlc(e.hlc)}, ${e.digest})`;

/** Returns every violation found (empty: the restart kept exactly what it had to). */
export function checkTotalRestart(shard: RestartedShard): string[] {
  const where = `subgroup ${shard.subgroup} shard ${shard.shard}`;
  const violations: string[] = [];
  // The expected log: the longest of the logs before the restart, cut at the trim. The others
  // must be prefixes of it (the same version is the same update everywhere).
  let expected: readonly CheckedLogEntry[] = [];
  for (const log of shard.before.values()) {
    const cut = log.filter((e) => e.version <= shard.keepThrough);
    if (cut.length > expected.length) expected = cut;
  }
  for (const [node, log] of shard.before) {
    log
      .filter((e) => e.version <= shard.keepThrough)
      .forEach((e, i) => {
        const x = expected[i];
        if (x === undefined || x.version !== e.version || x.digest !== e.digest || compareHlc(x.hlc, e.hlc) !== 0) violations.push(`${where}: before the restart, node ${node}'s entry ${i} ${entryText(e)} differs from the longest log's ${x === undefined ? 'end' : entryText(x)}`);
      });
  }
  for (const [node, log] of shard.after) {
    const old = log.filter((e) => versionVid(e.version) < shard.restartVid);
    const beyond = old.filter((e) => e.version > shard.keepThrough);
    if (beyond.length > 0) violations.push(`${where}: node ${node} still holds ${beyond.map((e) => formatVersion(e.version)).join(', ')}, beyond the agreed trim ${formatVersion(shard.keepThrough)}`);
    const kept = old.filter((e) => e.version <= shard.keepThrough);
    if (kept.length !== expected.length) violations.push(`${where}: node ${node} holds ${kept.length} entries through the trim, the longest log ${expected.length}`);
    kept.forEach((e, i) => {
      const x = expected[i];
      if (x !== undefined && (x.version !== e.version || x.digest !== e.digest || compareHlc(x.hlc, e.hlc) !== 0)) violations.push(`${where}: node ${node}'s entry ${i} is ${entryText(e)}, the longest log's ${entryText(x)}`);
    });
    const last = expected[expected.length - 1];
    const next = log.find((e) => versionVid(e.version) >= shard.restartVid);
    if (last !== undefined && next !== undefined && compareHlc(next.hlc, last.hlc) <= 0) violations.push(`${where}: node ${node}'s first version of the new run ${entryText(next)} does not continue after the kept log's last HLC ${formatHlc(last.hlc)}`);
  }
  return violations;
}
