/**
 * The restart log: what a member needs, besides its field logs, to take part in a total restart
 * (reference §2.13): every view it installed and every ragged trim it logged before echoing it.
 * It is a field log file (FileLog: same header, records, checksums, group commit and torn-tail
 * recovery; FORMAT.md) whose versions are record sequence numbers and whose payloads say which of
 * the two it holds, so its crash safety is exactly the field logs'.
 */
import * as path from 'node:path';
import { HLC_ZERO } from '../core/hlc.js';
import type { Disk } from '../io/disk.js';
import type { GroupView } from '../core/membership/group-view.js';
import { msgpackCodec } from './codec.js';
import { PersistentError } from './errors.js';
import { FileLog, type RecoveryReport } from './file-log.js';
import { RecordKind } from './record-format.js';

export const RESTART_LOG_FILE_NAME = 'restart.log';

/** A ragged trim as the view manager's `logTrim` output states it. */
export interface LoggedTrim {
  /** The view the trim ends. */
  readonly vid: number;
  readonly subgroup: number;
  readonly shard: number;
  /** The node id of the shard leader that decided it. */
  readonly shardLeader: number;
  /** Per sender rank of the shard: the index of the last message delivered (-1: none). */
  readonly throughIndex: readonly number[];
}

/** What a total restart reads back: the newest view and the trims around it. */
export interface RestartLogContent {
  /** The last view this member installed (undefined when none was logged). */
  readonly view: GroupView | undefined;
  /** The view logged before it, if any. */
  readonly previousView: GroupView | undefined;
  /**
   * The trims logged since `previousView` (since `view` when there is none) ending either view, in
   * log order: the trim that ended `previousView`, and those of `view` if it was ending when the
   * member stopped.
   */
  readonly trims: readonly LoggedTrim[];
}

export interface RestartLogOptions {
  /** fdatasync before an append resolves (config `persistence.fsync`). Default true. */
  readonly fsync?: boolean;
  /** Where the file lives. Default: the real file system (node:fs). */
  readonly disk?: Disk;
}

type RestartRecord = { readonly kind: 'view'; readonly view: GroupView } | { readonly kind: 'trim'; readonly trim: LoggedTrim };

const codec = msgpackCodec<RestartRecord>();
/** Records older than the view before the last are hidden; the file is rewritten once this many bytes are. */
const COMPACT_MIN_BYTES = 256 << 10;

/** The restart log is damaged in a way recovery cannot explain by a torn write, or its disk failed. */
export class RestartLogError extends PersistentError {
  override readonly name = 'RestartLogError';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(`${file}: ${message}`);
  }
}

export class RestartLog {
  /** Decoded records still visible in the log, in log order, with their sequence numbers. */
  private readonly records: { seq: bigint; record: RestartRecord }[] = [];
  /** The sync running and the one queued behind it (group commit: one fdatasync covers every append before it starts). */
  private syncRunning: Promise<void> = Promise.resolve();
  private syncQueued: Promise<void> | undefined;
  /** Set once a sync failed: the kernel may have dropped the unsynced pages, so nothing after it is trusted. */
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(private readonly log: FileLog) {
    for (let i = 0; i < log.count; i++) {
      const entry = log.entryByIndex(i);
      this.records.push({ seq: log.versionAt(entry), record: decodeRecord(log.payloadAt(entry), log.file, i) });
    }
  }

  /**
   * Opens (recovering) or creates `<dir>/restart.log`. A torn tail (an append cut by a crash
   * before its sync) is cut and reported in `recovery`; damage followed by intact records is
   * refused with CorruptLogError, as for the field logs.
   */
  static open(dir: string, options: RestartLogOptions = {}): RestartLog {
    const log = FileLog.open(path.join(dir, RESTART_LOG_FILE_NAME), { fsync: options.fsync ?? true, compactMinBytes: COMPACT_MIN_BYTES, disk: options.disk });
    try {
      return new RestartLog(log);
    } catch (err) {
      log.close();
      throw err;
    }
  }

  get file(): string {
    return this.log.file;
  }

  /** What opening found: whether the file was created, and the bytes of a torn tail cut from it. */
  get recovery(): RecoveryReport {
    return this.log.recovery;
  }

  /**
   * Logs an installed view; resolves once it is durable. Records older than the view logged
   * before this one are no longer needed by a restart and are trimmed away.
   */
  appendView(view: GroupView): Promise<void> {
    const record: RestartRecord = {
      kind: 'view',
      view: {
        vid: view.vid,
        members: view.members.map((m) => ({ id: m.id, host: m.host, port: m.port })),
        subgroups: view.subgroups.map((s) => ({ ...s, shards: s.shards.map((sh) => ({ ...sh })), params: { ...s.params } })),
      },
    };
    const durable = this.append(record);
    const views = this.records.filter((r) => r.record.kind === 'view');
    if (views.length > 2) {
      const keepFrom = views[views.length - 2].seq;
      this.log.trimVersion(keepFrom - 1n);
      this.records.splice(0, this.records.findIndex((r) => r.seq === keepFrom));
    }
    return durable;
  }

  /** Logs a ragged trim; resolves once it is durable (only then may the member echo it). */
  appendTrim(trim: LoggedTrim): Promise<void> {
    return this.append({
      kind: 'trim',
      trim: { vid: trim.vid, subgroup: trim.subgroup, shard: trim.shard, shardLeader: trim.shardLeader, throughIndex: [...trim.throughIndex] },
    });
  }

  /** The last logged view, the one before it, and the trims that end either (see RestartLogContent). */
  read(): RestartLogContent {
    let last = -1;
    let previous = -1;
    this.records.forEach((r, i) => {
      if (r.record.kind !== 'view') return;
      previous = last;
      last = i;
    });
    const view = last < 0 ? undefined : (this.records[last].record as { view: GroupView }).view;
    const previousView = previous < 0 ? undefined : (this.records[previous].record as { view: GroupView }).view;
    const trims: LoggedTrim[] = [];
    for (let i = (previous >= 0 ? previous : last) + 1; i < this.records.length; i++) {
      const r = this.records[i].record;
      if (r.kind === 'trim' && (r.trim.vid === view?.vid || r.trim.vid === previousView?.vid)) trims.push(r.trim);
    }
    return { view, previousView, trims };
  }

  /**
   * Syncs what was appended and closes the file, after a sync in flight (idempotent). Rejects when
   * that last sync fails (after a failed one, the file is closed without syncing again).
   */
  close(): Promise<void> {
    this.closing ??= this.syncRunning
      .catch(() => undefined)
      .then(() => {
        try {
          this.log.close();
        } catch (err) {
          if (this.failure === undefined) throw new RestartLogError(`cannot sync the restart log at close: ${err instanceof Error ? err.message : String(err)}`, this.file);
        }
      });
    return this.closing;
  }

  private append(record: RestartRecord): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closing !== undefined) return Promise.reject(new RestartLogError('the restart log is closed', this.file));
    const seq = this.log.floorVersion + 1n;
    this.log.append(seq, HLC_ZERO, RecordKind.Full, codec.encode(record));
    this.records.push({ seq, record });
    return this.sync();
  }

  /** One fdatasync for every record appended before it starts. */
  private sync(): Promise<void> {
    if (this.syncQueued !== undefined) return this.syncQueued;
    const run = this.syncRunning
      .catch(() => undefined)
      .then(async () => {
        this.syncQueued = undefined;
        if (this.failure !== undefined) throw this.failure;
        try {
          await this.log.persistAsync();
        } catch (err) {
          this.failure = new RestartLogError(`cannot make the restart log durable: ${err instanceof Error ? err.message : String(err)}`, this.file);
          throw this.failure;
        }
      });
    this.syncQueued = run;
    this.syncRunning = run;
    return run;
  }
}

/** Decodes and checks one record's payload (its checksum already passed: a failure here is a foreign or newer file). */
function decodeRecord(payload: Uint8Array, file: string, index: number): RestartRecord {
  let record: unknown;
  try {
    record = codec.decode(payload);
  } catch (err) {
    throw new RestartLogError(`record ${index} is not a restart record (${err instanceof Error ? err.message : String(err)}); is this a field log?`, file);
  }
  const r = record as Partial<{ kind: string; view: GroupView; trim: LoggedTrim }>;
  const ok =
    typeof record === 'object' &&
    record !== null &&
    ((r.kind === 'view' && typeof r.view?.vid === 'number' && Array.isArray(r.view.members) && Array.isArray(r.view.subgroups)) ||
      (r.kind === 'trim' && typeof r.trim?.vid === 'number' && typeof r.trim.subgroup === 'number' && Array.isArray(r.trim.throughIndex)));
  if (!ok) throw new RestartLogError(`record ${index} is not a restart record (a view or a ragged trim); is this a field log?`, file);
  return record as RestartRecord;
}
