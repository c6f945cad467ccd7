import type { KeyObject } from 'node:crypto';
import * as path from 'node:path';
import { compareHlc, formatHlc, HLC_ZERO, type Hlc } from '../core/hlc.js';
import { invariant } from '../core/invariant.js';
import { INVALID_VERSION, type Version } from '../core/version.js';
import { nodeDisk } from '../driver/node-disk.js';
import type { Disk, DiskFile } from '../io/disk.js';
import { crc32 } from './crc.js';
import { CorruptLogError } from './errors.js';
import {
  encodeFileHeader,
  FILE_HEADER_BYTES,
  FORMAT_VERSION,
  MAX_PAYLOAD_BYTES,
  parseFileHeader,
  parseRecordHeader,
  payloadCrcMatches,
  RECORD_HEADER_BYTES,
  RECORD_MAGIC,
  RecordKind,
  SIGNED_FORMAT_VERSION,
  writeRecordHeader,
} from './record-format.js';
import { RecordLog } from './record-log.js';
import {
  checkEd25519Key,
  LogSignatureError,
  LogSigningConfigError,
  NO_SIGNATURE,
  SIGNATURE_BYTES,
  SIGNATURE_RECORD_PAYLOAD_BYTES,
  signVersion,
  versionSignatureValid,
  type VerifyReport,
} from './signed-log.js';

export interface FileLogOptions {
  /** Written into the file header's flags (bit 0); informative. */
  deltaField?: boolean;
  /** Appended bytes are handed to the OS (without syncing) once this many are buffered. Default 4 MiB. */
  flushThresholdBytes?: number;
  /** Trimmed-away bytes are reclaimed by rewriting the file once they exceed this many bytes... Default 64 MiB. */
  compactMinBytes?: number;
  /** ...and this fraction of the file. Default 0.5. */
  compactDeadFraction?: number;
  /**
   * 'inline' (default): a trim that leaves enough dead bytes rewrites the file before it returns.
   * 'deferred': the trim only notes it; `compactAsync()` (which the runtime runs after a group
   * commit) copies the kept bytes in steps off the event loop and swaps the file in one short
   * final step, so deliveries are not held up by the rewrite.
   */
  compaction?: 'inline' | 'deferred';
  /**
   * What to do when a damaged record is followed by intact ones (damage inside durable data rather
   * than a torn tail): 'refuse' (default) throws CorruptLogError; 'truncate' cuts the log at the
   * damage and reports the loss.
   */
  repair?: 'refuse' | 'truncate';
  /**
   * Whether persist() syncs the file (fdatasync). Default true. Off, persist() only hands the
   * bytes to the OS: they survive the process crashing but not the machine (config `persistence.fsync`).
   */
  fsync?: boolean;
  /** Where the file lives. Default: the real file system (node:fs); the simulator passes its SimDisk. */
  disk?: Disk;
  /**
   * This node's Ed25519 private key (config `persistence.signing`): the log is created signed
   * (format 2) and every version appended is signed (signed-log.ts). An unsigned log is refused
   * with it. A signed log opened without it can be read and verified, not appended to.
   */
  signingKey?: KeyObject;
}

/** What opening a log found and did. */
export interface RecoveryReport {
  file: string;
  /** The file did not exist (or held less than a header) and was created. */
  created: boolean;
  /** Version records found intact. */
  records: number;
  latestVersion: Version;
  /** Bytes cut from the end of the file (a torn or damaged tail); 0 when the log was clean. */
  droppedBytes: number;
  /** Where the cut was made, and why; undefined when nothing was cut. */
  droppedAtOffset?: number;
  droppedReason?: string;
  scanMs: number;
}

const SCAN_CHUNK_BYTES = 8 << 20;
/** A deferred compaction copies this much per asynchronous step. */
const COMPACT_STEP_BYTES = 1 << 20;
/** ...and leaves at most this much (plus the unflushed appends) to its synchronous final step. */
const COMPACT_FINAL_STEP_BYTES = 64 << 10;

/** What a deferred compaction did; `finalStepMs` is how long it held the event loop at the swap. */
export interface CompactionReport {
  bytesBefore: number;
  bytesAfter: number;
  finalStepMs: number;
}

/**
 * The on-disk RecordLog: one append-only, checksummed file per field (layout in FORMAT.md).
 * Appends collect in a memory buffer; `persist()` writes that buffer with positional writes and
 * makes it durable with one fdatasync (group commit). The index lives in memory and is rebuilt by
 * one sequential scan on open, which also finds and cuts a torn tail.
 */
export class FileLog extends RecordLog {
  private fd: DiskFile;
  private readonly disk: Disk;
  /** The file is a signed log (format 2): a signature record follows every version record. */
  readonly signed: boolean;
  private readonly signingKey: KeyObject | undefined;
  /** The signature of the newest version record, which the next one chains to. */
  private lastSignature: Uint8Array = NO_SIGNATURE;
  /** Bytes of the file handed to the OS (the file's logical length). */
  private flushedBytes: number;
  /** Bytes known durable (the last fdatasync covered them). */
  private durableBytes: number;
  /** Appended bytes not yet handed to the OS; they follow `flushedBytes`. */
  private pending: Buffer = Buffer.allocUnsafe(64 * 1024);
  private pendingBytes = 0;
  private readonly flushThresholdBytes: number;
  private readonly fsync: boolean;
  private readonly compactMinBytes: number;
  private readonly compactDeadFraction: number;
  private closed = false;
  private syncsInFlight = 0;
  private readonly deferCompaction: boolean;
  /** A trim left enough dead bytes for compactAsync() to reclaim. */
  private compactionDue = false;
  private compacting: Promise<CompactionReport | undefined> | undefined;
  /** Bumped by every change that moves records in the file: a deferred compaction started before it is abandoned. */
  private layoutGeneration = 0;
  /** Descriptors replaced by a deferred compaction while a sync used them. */
  private retiredFds: DiskFile[] = [];
  readonly recovery: RecoveryReport;

  private constructor(
    readonly file: string,
    disk: Disk,
    signed: boolean,
    fd: DiskFile,
    size: number,
    options: FileLogOptions,
    recovery: RecoveryReport,
  ) {
    super(file);
    this.disk = disk;
    this.signed = signed;
    this.signingKey = options.signingKey;
    this.fd = fd;
    this.flushedBytes = size;
    this.durableBytes = size;
    this.flushThresholdBytes = options.flushThresholdBytes ?? 4 << 20;
    this.fsync = options.fsync ?? true;
    this.compactMinBytes = options.compactMinBytes ?? 64 << 20;
    this.compactDeadFraction = options.compactDeadFraction ?? 0.5;
    this.deferCompaction = options.compaction === 'deferred';
    this.recovery = recovery;
  }

  /** Opens (recovering) or creates the log at `file`. */
  static open(file: string, options: FileLogOptions = {}): FileLog {
    const started = process.hrtime.bigint();
    const disk = options.disk ?? nodeDisk;
    if (options.signingKey !== undefined) checkEd25519Key(options.signingKey, 'private', `${file}: the signing key`);
    disk.makeDirectory(path.dirname(file));
    // A leftover from a compaction that crashed before its rename; the original is intact.
    disk.remove(`${file}.compact`);
    let created = false;
    let size = disk.fileBytes(file) ?? -1;
    if (size < FILE_HEADER_BYTES) {
      // Absent, or a creation that crashed before its header was durable: nothing could be lost.
      createFile(disk, file, options.deltaField === true, options.signingKey !== undefined);
      created = true;
      size = FILE_HEADER_BYTES;
    }
    const fd = disk.open(file, 'read-write');
    try {
      const header = Buffer.alloc(FILE_HEADER_BYTES);
      readFully(disk, fd, header, 0, FILE_HEADER_BYTES, 0);
      const parsed = parseFileHeader(header);
      if (typeof parsed === 'string') throw new CorruptLogError(`${parsed}; refusing to open it`, file, 0);
      const signed = parsed.formatVersion === SIGNED_FORMAT_VERSION;
      if (options.signingKey !== undefined && !signed) {
        throw new LogSigningConfigError(
          `${file} is an unsigned log (format ${parsed.formatVersion}) but signing is configured (persistence.signing): its versions have no signatures to chain to. ` +
            'Move the file away (a replica gets its state back by state transfer) or turn signing off',
        );
      }
      const recovery: RecoveryReport = { file, created, records: 0, latestVersion: INVALID_VERSION, droppedBytes: 0, scanMs: 0 };
      const log = new FileLog(file, disk, signed, fd, size, options, recovery);
      log.scan(size, options.repair ?? 'refuse');
      recovery.records = log.index.physicalLength;
      recovery.latestVersion = log.latestVersion;
      recovery.scanMs = Number(process.hrtime.bigint() - started) / 1e6;
      return log;
    } catch (err) {
      disk.close(fd);
      throw err;
    }
  }

  /** Rebuilds the index from the file; cuts a torn tail (or refuses damage followed by intact data). */
  private scan(fileBytes: number, repair: 'refuse' | 'truncate'): void {
    let buf = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, Math.max(fileBytes, RECORD_HEADER_BYTES)));
    let bufStart = 0;
    let bufBytes = 0;
    const load = (offset: number, bytes: number): void => {
      if (offset >= bufStart && offset + bytes <= bufStart + bufBytes) return;
      if (bytes > buf.length) buf = Buffer.allocUnsafe(bytes);
      bufStart = offset;
      bufBytes = readFully(this.disk, this.fd, buf, 0, Math.min(buf.length, fileBytes - offset), offset);
    };
    let lastVersion: Version = INVALID_VERSION;
    let lastTime: Hlc = HLC_ZERO;
    let offset = FILE_HEADER_BYTES;
    let failure: string | undefined;
    /** In a signed log, a version record enters the index once its signature record is read. */
    let unsignedRecord: { version: Version; time: Hlc; offset: number; payloadBytes: number; kind: RecordKind } | undefined;
    while (offset < fileBytes) {
      if (offset + RECORD_HEADER_BYTES > fileBytes) {
        failure = `incomplete record header (${fileBytes - offset} of ${RECORD_HEADER_BYTES} bytes)`;
        break;
      }
      load(offset, RECORD_HEADER_BYTES);
      const header = parseRecordHeader(buf, offset - bufStart);
      if (typeof header === 'string') {
        failure = header;
        break;
      }
      const recordBytes = RECORD_HEADER_BYTES + header.payloadBytes;
      if (offset + recordBytes > fileBytes) {
        failure = `incomplete record payload (${fileBytes - offset - RECORD_HEADER_BYTES} of ${header.payloadBytes} bytes)`;
        break;
      }
      load(offset, recordBytes);
      const at = offset - bufStart + RECORD_HEADER_BYTES;
      if (crc32(buf, at, at + header.payloadBytes) !== header.payloadCrc) {
        failure = `record payload checksum mismatch (version ${header.version})`;
        break;
      }
      const time = { wallUs: header.wallUs, logical: header.logical };
      if (header.kind === RecordKind.Signature) {
        if (unsignedRecord === undefined || unsignedRecord.version !== header.version || header.payloadBytes !== SIGNATURE_RECORD_PAYLOAD_BYTES) {
          failure = this.signed ? `signature record (version ${header.version}) does not follow its version record` : `signature record (version ${header.version}) in an unsigned log`;
          break;
        }
        this.lastSignature = Uint8Array.prototype.slice.call(buf, at, at + SIGNATURE_BYTES);
        const r = unsignedRecord;
        this.index.push(r.version, r.time.wallUs, r.time.logical, r.offset, r.payloadBytes, r.kind);
        lastVersion = r.version;
        lastTime = r.time;
        unsignedRecord = undefined;
      } else if (unsignedRecord !== undefined) {
        failure = `a record of kind ${header.kind} follows it`;
        break;
      } else if (header.kind === RecordKind.Trim) {
        if (header.version > this.trimmedThrough) {
          this.trimmedThrough = header.version;
          this.trimmedTime = time;
        }
      } else {
        const floor = lastVersion > this.trimmedThrough ? lastVersion : this.trimmedThrough;
        if (header.version <= floor) {
          failure = `record version ${header.version} does not follow ${floor}`;
          break;
        }
        if (compareHlc(time, lastTime) < 0) {
          failure = `record time ${formatHlc(time)} goes backwards from ${formatHlc(lastTime)}`;
          break;
        }
        if (header.kind === RecordKind.Delta && this.index.physicalLength === 0) {
          failure = `first record (version ${header.version}) is a delta with no base`;
          break;
        }
        if (this.signed) unsignedRecord = { version: header.version, time, offset, payloadBytes: header.payloadBytes, kind: header.kind };
        else {
          this.index.push(header.version, header.wallUs, header.logical, offset, header.payloadBytes, header.kind);
          lastVersion = header.version;
          lastTime = time;
        }
      }
      offset += recordBytes;
    }
    // A version record without its signature record is cut with whatever damage follows it.
    if (unsignedRecord !== undefined) {
      failure = `version ${unsignedRecord.version} has no signature record${failure === undefined ? '' : ` (${failure})`}`;
      offset = unsignedRecord.offset;
    }
    if (failure !== undefined) this.cutTail(offset, fileBytes, failure, repair, lastVersion);
    this.index.start = this.trimmedThrough < 0n ? 0 : this.index.lastAtOrBefore(this.trimmedThrough) + 1;
    this.persistedVersion = this.floorVersion;
  }

  /** Handles a bad record at `offset`: cut it and everything after, unless intact records follow. */
  private cutTail(offset: number, fileBytes: number, reason: string, repair: 'refuse' | 'truncate', lastGood: Version): void {
    const intactAfter = this.findIntactRecord(offset + 1, fileBytes, lastGood);
    const message = `${reason} at byte ${offset}`;
    if (intactAfter >= 0) {
      if (repair === 'refuse') {
        throw new CorruptLogError(
          `damaged record (${reason}) is followed by an intact record at byte ${intactAfter}, so this is damage inside data that was durable, not a torn tail; ` +
            `refusing to open (open with repair: 'truncate' to cut the log here, dropping ${fileBytes - offset} bytes)`,
          this.file,
          offset,
        );
      }
    }
    this.disk.truncate(this.fd, offset);
    this.disk.sync(this.fd);
    this.flushedBytes = offset;
    this.durableBytes = offset;
    this.recovery.droppedBytes = fileBytes - offset;
    this.recovery.droppedAtOffset = offset;
    this.recovery.droppedReason = intactAfter >= 0 ? `${message} (intact records after it were dropped by repair: 'truncate')` : message;
  }

  /** Offset of the first record after `from` whose header and payload are intact and that could follow `lastGood`; -1 if none. */
  private findIntactRecord(from: number, fileBytes: number, lastGood: Version): number {
    const magic = Buffer.alloc(4);
    magic.writeUInt32LE(RECORD_MAGIC, 0);
    const window = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
    let windowStart = from;
    while (windowStart + RECORD_HEADER_BYTES <= fileBytes) {
      const got = readFully(this.disk, this.fd, window, 0, Math.min(window.length, fileBytes - windowStart), windowStart);
      const view = window.subarray(0, got);
      for (let at = view.indexOf(magic, 0); at >= 0; at = view.indexOf(magic, at + 1)) {
        if (this.isIntactRecordAt(windowStart + at, fileBytes, lastGood)) return windowStart + at;
      }
      if (got < window.length) break;
      windowStart += got - RECORD_HEADER_BYTES;
    }
    return -1;
  }

  private isIntactRecordAt(offset: number, fileBytes: number, lastGood: Version): boolean {
    if (offset + RECORD_HEADER_BYTES > fileBytes) return false;
    const head = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
    readFully(this.disk, this.fd, head, 0, RECORD_HEADER_BYTES, offset);
    const header = parseRecordHeader(head, 0);
    if (typeof header === 'string' || offset + RECORD_HEADER_BYTES + header.payloadBytes > fileBytes) return false;
    if (header.kind !== RecordKind.Trim && header.version <= lastGood) return false;
    const payload = Buffer.allocUnsafe(header.payloadBytes);
    readFully(this.disk, this.fd, payload, 0, header.payloadBytes, offset + RECORD_HEADER_BYTES);
    return payloadCrcMatches(header, payload);
  }

  // ---- storage hooks -------------------------------------------------------------------------
  private reserve(bytes: number): number {
    const needed = this.pendingBytes + bytes;
    if (needed > this.pending.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.pending.length * 2));
      this.pending.copy(grown, 0, 0, this.pendingBytes);
      this.pending = grown;
    }
    const at = this.pendingBytes;
    this.pendingBytes = needed;
    return at;
  }

  private appendRecord(version: Version, time: Hlc, kind: RecordKind, payload: Uint8Array): number {
    this.checkOpen();
    if (payload.byteLength > MAX_PAYLOAD_BYTES) throw new RangeError(`${this.file}: a version's payload is ${payload.byteLength} bytes; the limit is ${MAX_PAYLOAD_BYTES}`);
    const at = this.reserve(RECORD_HEADER_BYTES + payload.byteLength);
    writeRecordHeader(this.pending, at, version, time, kind, payload);
    this.pending.set(payload, at + RECORD_HEADER_BYTES);
    return this.flushedBytes + at;
  }

  protected storeRecord(version: Version, time: Hlc, kind: RecordKind, payload: Uint8Array): number {
    if (this.signed && this.signingKey === undefined) {
      throw new LogSigningConfigError(`${this.file} is a signed log opened without a signing key: it can be read and verified, not appended to (configure persistence.signing)`);
    }
    const location = this.appendRecord(version, time, kind, payload);
    if (this.signingKey !== undefined) {
      const signature = signVersion(this.signingKey, version, time, kind, payload, this.lastSignature);
      this.appendRecord(version, time, RecordKind.Signature, signature);
      this.lastSignature = signature.subarray(0, SIGNATURE_BYTES);
    }
    if (this.pendingBytes >= this.flushThresholdBytes) this.flush();
    return location;
  }

  protected storeTrimMarker(version: Version, time: Hlc): void {
    this.appendRecord(version, time, RecordKind.Trim, new Uint8Array(0));
  }

  protected readPayload(i: number): Uint8Array {
    return this.readRecordAt(this.index.location(i), this.index.version(i), this.index.payloadBytes(i), 'reading');
  }

  /**
   * The payload of the record at `location` (buffered or on disk), checked against the version
   * and length expected and its checksums; CorruptLogError otherwise.
   */
  private readRecordAt(location: number, version: Version, payloadBytes: number, what: string, kind?: RecordKind): Uint8Array {
    this.checkOpen();
    if (location >= this.flushedBytes) {
      const at = location - this.flushedBytes + RECORD_HEADER_BYTES;
      return Uint8Array.prototype.slice.call(this.pending, at, at + payloadBytes);
    }
    const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payloadBytes);
    const got = readFully(this.disk, this.fd, record, 0, record.length, location);
    const header = got === record.length ? parseRecordHeader(record, 0) : 'record cut short';
    if (typeof header === 'string') throw new CorruptLogError(`${what} version ${version}: ${header}`, this.file, location);
    const payload = record.subarray(RECORD_HEADER_BYTES);
    if (header.version !== version || header.payloadBytes !== payloadBytes || (kind !== undefined && header.kind !== kind) || !payloadCrcMatches(header, payload)) {
      throw new CorruptLogError(`${what} version ${version}: the record changed on disk since the log was opened (checksum or header mismatch)`, this.file, location);
    }
    return payload;
  }

  /**
   * A delta chain's records lie one after another in the file (appends are sequential; compaction
   * keeps the order): one read for the run instead of one per record, each record still checked.
   */
  protected override readPayloads(first: number, last: number): Uint8Array[] {
    this.checkOpen();
    const start = this.index.location(first);
    const end = this.index.location(last) + RECORD_HEADER_BYTES + this.index.payloadBytes(last);
    let contiguous = end <= this.flushedBytes && last > first;
    for (let i = first; contiguous && i < last; i++) contiguous = this.index.location(i) + RECORD_HEADER_BYTES + this.index.payloadBytes(i) === this.index.location(i + 1);
    if (!contiguous) return super.readPayloads(first, last);
    const run = Buffer.allocUnsafe(end - start);
    const got = readFully(this.disk, this.fd, run, 0, run.length, start);
    const out: Uint8Array[] = [];
    for (let i = first; i <= last; i++) {
      const at = this.index.location(i) - start;
      const payloadBytes = this.index.payloadBytes(i);
      const version = this.index.version(i);
      const header = got >= at + RECORD_HEADER_BYTES + payloadBytes ? parseRecordHeader(run, at) : 'record cut short';
      if (typeof header === 'string') throw new CorruptLogError(`reading version ${version}: ${header}`, this.file, start + at);
      const payload = run.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + payloadBytes);
      if (header.version !== version || header.payloadBytes !== payloadBytes || !payloadCrcMatches(header, payload)) {
        throw new CorruptLogError(`reading version ${version}: the record changed on disk since the log was opened (checksum or header mismatch)`, this.file, start + at);
      }
      out.push(payload);
    }
    return out;
  }

  /** The signature record's payload of physical entry i (signature, then the previous one's). */
  private signatureRecordOf(i: number): Uint8Array {
    const location = this.index.location(i) + RECORD_HEADER_BYTES + this.index.payloadBytes(i);
    return this.readRecordAt(location, this.index.version(i), SIGNATURE_RECORD_PAYLOAD_BYTES, 'reading the signature of', RecordKind.Signature);
  }

  /**
   * Checks the signatures of the visible versions in [from, to] (default: all) against the writing
   * node's Ed25519 public key, and that each chains to the one before it. Throws LogSignatureError
   * naming the first version that fails: a changed byte (even with its checksums recomputed), a
   * record moved, dropped or inserted, or a signature by another key.
   */
  verify(publicKey: KeyObject, range: { from?: Version; to?: Version } = {}): VerifyReport {
    this.checkOpen();
    if (!this.signed) throw new LogSigningConfigError(`${this.file} is an unsigned log (format ${FORMAT_VERSION}): it has no signatures to verify`);
    checkEd25519Key(publicKey, 'public', `${this.file}: the verification key`);
    const index = this.index;
    const firstInRange = range.from === undefined ? index.start : index.firstAfter(range.from - 1n);
    const start = firstInRange < 0 ? index.physicalLength : Math.max(firstInRange, index.start);
    let previous: Uint8Array | undefined;
    let versions = 0;
    let firstVersion = INVALID_VERSION;
    let lastVersion = INVALID_VERSION;
    for (let i = start; i < index.physicalLength && (range.to === undefined || index.version(i) <= range.to); i++) {
      const version = index.version(i);
      const damaged = (err: unknown): never => {
        throw new LogSignatureError(this.file, version, `its record is damaged (${err instanceof Error ? err.message : String(err)})`);
      };
      let payload: Uint8Array;
      let record: Uint8Array;
      try {
        payload = this.readPayload(i);
        record = this.signatureRecordOf(i);
      } catch (err) {
        return damaged(err);
      }
      const signature = record.subarray(0, SIGNATURE_BYTES);
      const chainedTo = record.subarray(SIGNATURE_BYTES);
      // The first version checked chains to the record before it, when the file still holds it.
      if (previous === undefined && i > 0) {
        try {
          previous = this.signatureRecordOf(i - 1).subarray(0, SIGNATURE_BYTES);
        } catch {
          previous = undefined;
        }
      }
      if (previous !== undefined && !Buffer.from(chainedTo).equals(Buffer.from(previous))) {
        throw new LogSignatureError(this.file, version, `its signature does not chain to that of version ${index.version(i - 1)} before it: a record was removed, inserted or reordered`);
      }
      if (!versionSignatureValid(publicKey, version, index.time(i), index.kind(i), payload, chainedTo, signature)) {
        throw new LogSignatureError(this.file, version, 'its signature does not verify: the record was changed or moved, or was not signed by the holder of this key');
      }
      previous = signature;
      versions++;
      if (firstVersion === INVALID_VERSION) firstVersion = version;
      lastVersion = version;
    }
    return { versions, firstVersion, lastVersion };
  }

  /** Hands buffered appends to the OS without syncing. */
  private flush(): void {
    let written = 0;
    while (written < this.pendingBytes) {
      written += this.disk.write(this.fd, this.pending, written, this.pendingBytes - written, this.flushedBytes + written);
    }
    this.flushedBytes += this.pendingBytes;
    this.pendingBytes = 0;
    if (this.pending.length > this.flushThresholdBytes * 2) this.pending = Buffer.allocUnsafe(64 * 1024);
  }

  protected storePersist(): void {
    this.checkOpen();
    if (this.pendingBytes > 0) this.flush();
    if (this.flushedBytes !== this.durableBytes) {
      if (this.fsync) this.disk.syncData(this.fd);
      this.durableBytes = this.flushedBytes;
    }
  }

  override async persistAsync(): Promise<Version> {
    this.checkOpen();
    if (this.pendingBytes > 0) this.flush();
    const coveredBytes = this.flushedBytes;
    const coveredVersion = this.floorVersion;
    if (coveredBytes !== this.durableBytes && !this.fsync) this.durableBytes = coveredBytes;
    else if (coveredBytes !== this.durableBytes) {
      const generation = this.layoutGeneration;
      const fd = this.fd;
      this.syncsInFlight++;
      try {
        await this.disk.syncDataAsync(fd);
      } finally {
        this.syncsInFlight--;
        if (this.syncsInFlight === 0) for (const retired of this.retiredFds.splice(0)) this.disk.close(retired);
      }
      // After a compaction swapped the file, offsets are the new file's (already synced whole).
      if (generation === this.layoutGeneration && coveredBytes > this.durableBytes) this.durableBytes = coveredBytes;
    }
    this.markPersisted(coveredVersion);
    return this.lastPersistedVersion;
  }

  /** Operations that cut or replace the file must not race an asynchronous sync of its descriptor. */
  private checkNoSyncInFlight(what: string): void {
    if (this.syncsInFlight > 0) throw new Error(`${this.file}: cannot ${what} while persistAsync() is in flight; await it first`);
  }

  protected storeTruncate(i: number): void {
    this.checkOpen();
    this.checkNoSyncInFlight('truncate');
    this.layoutGeneration++;
    // The next version chains to the newest one the cut keeps.
    if (this.signed) this.lastSignature = i > 0 ? this.signatureRecordOf(i - 1).slice(0, SIGNATURE_BYTES) : NO_SIGNATURE;
    const cut = this.index.location(i);
    if (cut >= this.flushedBytes) {
      this.pendingBytes = cut - this.flushedBytes;
    } else {
      this.pendingBytes = 0;
      this.disk.truncate(this.fd, cut);
      this.flushedBytes = cut;
    }
    // Trim markers written after the cut went with it; restate the trim.
    if (this.trimmedThrough >= 0n) this.storeTrimMarker(this.trimmedThrough, this.trimmedTime);
    this.flush();
    this.disk.sync(this.fd);
    this.durableBytes = this.flushedBytes;
  }

  protected storeReset(): void {
    this.checkOpen();
    this.checkNoSyncInFlight('replace the log');
    this.layoutGeneration++;
    this.pendingBytes = 0;
    this.lastSignature = NO_SIGNATURE;
    this.disk.truncate(this.fd, FILE_HEADER_BYTES);
    this.disk.sync(this.fd);
    this.flushedBytes = FILE_HEADER_BYTES;
    this.durableBytes = FILE_HEADER_BYTES;
  }

  protected storeTrimmed(): void {
    const start = this.index.start;
    const n = this.index.physicalLength;
    const base = start < n ? this.index.baseOf(start) : -1;
    const keepFrom = base >= 0 ? base : start;
    const endBytes = this.flushedBytes + this.pendingBytes;
    const keepOffset = keepFrom < n ? this.index.location(keepFrom) : endBytes;
    const deadBytes = keepOffset - FILE_HEADER_BYTES;
    if (!(deadBytes > 0 && deadBytes >= this.compactMinBytes && deadBytes >= endBytes * this.compactDeadFraction)) return;
    if (this.deferCompaction) this.compactionDue = true;
    // Compaction swaps the descriptor; with a sync in flight it waits for a later trim.
    else if (this.syncsInFlight === 0) this.compact(keepFrom, keepOffset);
  }

  /** Where the kept part of the file starts: the delta base of the oldest visible version. */
  private keptRegion(): { keepFrom: number; keepOffset: number } {
    const start = this.index.start;
    const n = this.index.physicalLength;
    const base = start < n ? this.index.baseOf(start) : -1;
    const keepFrom = base >= 0 ? base : start;
    return { keepFrom, keepOffset: keepFrom < n ? this.index.location(keepFrom) : this.flushedBytes + this.pendingBytes };
  }

  /** Whether a trim left bytes for compactAsync() to reclaim. */
  get wantsCompaction(): boolean {
    return this.compactionDue;
  }

  /**
   * The deferred compaction: copies the kept records to `<file>.compact` in 1 MiB steps with
   * asynchronous reads and writes (deliveries run between them), syncs the copy, then in one
   * short synchronous step copies what was appended meanwhile, writes the trim marker, syncs,
   * renames the copy over the log and swaps the descriptor. Abandoned (the copy deleted) when the
   * log is truncated, replaced or closed meanwhile. Resolves to what it did, or undefined.
   */
  compactAsync(): Promise<CompactionReport | undefined> {
    if (this.compacting !== undefined) return this.compacting;
    if (!this.compactionDue || this.closed) return Promise.resolve(undefined);
    this.compactionDue = false;
    const run = this.compactInSteps().finally(() => {
      this.compacting = undefined;
    });
    this.compacting = run;
    return run;
  }

  private async compactInSteps(): Promise<CompactionReport | undefined> {
    const generation = this.layoutGeneration;
    const { keepFrom, keepOffset } = this.keptRegion();
    const bytesBefore = this.flushedBytes + this.pendingBytes;
    const tmp = `${this.file}.compact`;
    const disk = this.disk;
    const out = disk.open(tmp, 'create-truncate');
    let outBytes = 0;
    let outOpen = true;
    let finished = false;
    const stale = (): boolean => this.closed || this.layoutGeneration !== generation;
    const writeAsync = async (bytes: Buffer, length: number): Promise<void> => {
      let done = 0;
      while (done < length) done += await disk.writeAsync(out, bytes, done, length - done, outBytes + done);
      outBytes += length;
    };
    try {
      const header = Buffer.alloc(FILE_HEADER_BYTES);
      readFully(disk, this.fd, header, 0, FILE_HEADER_BYTES, 0);
      await writeAsync(header, FILE_HEADER_BYTES);
      const newBase = outBytes;
      const chunk = Buffer.allocUnsafe(COMPACT_STEP_BYTES);
      let copied = Math.min(keepOffset, this.flushedBytes);
      // Bytes flushed while we copy and sync are copied too, until only a little is left for the
      // final step (whose sync then has little to write).
      while (this.flushedBytes - copied > COMPACT_FINAL_STEP_BYTES) {
        while (copied < this.flushedBytes) {
          const bytesRead = await disk.readAsync(this.fd, chunk, 0, Math.min(COMPACT_STEP_BYTES, this.flushedBytes - copied), copied).catch(() => -1);
          if (stale() || bytesRead <= 0) return undefined;
          await writeAsync(chunk, bytesRead);
          copied += bytesRead;
        }
        await disk.syncDataAsync(out);
        if (stale()) return undefined;
      }
      const pauseStarted = process.hrtime.bigint();
      this.writeKeptTail(this.writerAt(out, () => outBytes, (n) => (outBytes += n)), chunk, copied, keepOffset);
      disk.syncData(out);
      outOpen = false;
      disk.close(out);
      finished = true;
      this.swapIn(tmp, keepFrom, keepOffset, newBase, outBytes);
      return { bytesBefore, bytesAfter: outBytes, finalStepMs: Number(process.hrtime.bigint() - pauseStarted) / 1e6 };
    } finally {
      if (!finished) {
        if (outOpen) {
          try {
            disk.close(out);
          } catch {
            // the disk failed under it; the copy is removed below either way
          }
        }
        disk.remove(tmp);
      }
    }
  }

  /** Appends through `out` at the offset `at()` says, advancing it with `advance(n)`. */
  private writerAt(out: DiskFile, at: () => number, advance: (bytes: number) => void): (bytes: Buffer, from: number, length: number) => void {
    return (bytes, from, length) => {
      let done = 0;
      const base = at();
      while (done < length) done += this.disk.write(out, bytes, from + done, length - done, base + done);
      advance(length);
    };
  }

  /**
   * Renames a synced compacted copy over the log and takes its descriptor. A sync in flight on the
   * old descriptor finishes on it (what it covers is in the new file, synced already); the old
   * descriptor is closed once no sync uses it.
   */
  private swapIn(tmp: string, keepFrom: number, keepOffset: number, newBase: number, newBytes: number): void {
    this.disk.rename(tmp, this.file);
    this.disk.syncDirectory(path.dirname(this.file));
    if (this.syncsInFlight > 0) this.retiredFds.push(this.fd);
    else this.disk.close(this.fd);
    this.fd = this.disk.open(this.file, 'read-write');
    this.index.dropBefore(keepFrom, (location) => location - keepOffset + newBase);
    this.flushedBytes = newBytes;
    this.durableBytes = newBytes;
    this.pendingBytes = 0;
    this.layoutGeneration++;
  }

  /**
   * The end of a compacted file: the flushed records from `fromOffset` on, the pending bytes at or
   * after `keepOffset`, then the trim marker. The marker goes after the kept records: the delta base
   * kept below the trim point is older than the marker, and a scan requires version records to
   * exceed every marker before them.
   */
  private writeKeptTail(write: (bytes: Buffer, from: number, length: number) => void, chunk: Buffer, fromOffset: number, keepOffset: number): void {
    for (let at = fromOffset; at < this.flushedBytes; ) {
      const got = readFully(this.disk, this.fd, chunk, 0, Math.min(chunk.length, this.flushedBytes - at), at);
      invariant(got > 0, 'compaction reads the whole kept region', () => `short read at ${at}`);
      write(chunk, 0, got);
      at += got;
    }
    const pendingFrom = Math.max(0, keepOffset - this.flushedBytes);
    write(this.pending, pendingFrom, this.pendingBytes - pendingFrom);
    if (this.trimmedThrough >= 0n) {
      const marker = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
      writeRecordHeader(marker, 0, this.trimmedThrough, this.trimmedTime, RecordKind.Trim, new Uint8Array(0));
      write(marker, 0, RECORD_HEADER_BYTES);
    }
  }

  /**
   * Rewrites the file without the bytes before `keepOffset`: a new file holding the header, a trim
   * marker and the kept records is made durable, then renamed over the old one. A crash before the
   * rename leaves the old file (and a `.compact` leftover that open removes); after it, the new one.
   */
  private compact(keepFrom: number, keepOffset: number): void {
    const tmp = `${this.file}.compact`;
    const out = this.disk.open(tmp, 'create-truncate');
    let outBytes = 0;
    let outOpen = true;
    const write = this.writerAt(out, () => outBytes, (n) => (outBytes += n));
    try {
      const header = Buffer.alloc(FILE_HEADER_BYTES);
      readFully(this.disk, this.fd, header, 0, FILE_HEADER_BYTES, 0);
      write(header, 0, FILE_HEADER_BYTES);
      const newBase = outBytes;
      const chunk = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
      this.writeKeptTail(write, chunk, keepOffset, keepOffset);
      this.disk.syncData(out);
      outOpen = false;
      this.disk.close(out);
      this.swapIn(tmp, keepFrom, keepOffset, newBase, outBytes);
      this.compactionDue = false;
    } catch (err) {
      if (outOpen) {
        try {
          this.disk.close(out);
        } catch {
          // the disk failed under it; the copy is removed below either way
        }
      }
      this.disk.remove(tmp);
      throw err;
    }
  }

  /** Current file length including buffered appends. */
  get sizeBytes(): number {
    return this.flushedBytes + this.pendingBytes;
  }

  close(): void {
    if (this.closed) return;
    this.checkNoSyncInFlight('close');
    this.persist();
    this.disk.close(this.fd);
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`${this.file}: the log is closed`);
  }
}

function createFile(disk: Disk, file: string, deltaField: boolean, signed: boolean): void {
  const tmp = `${file}.new`;
  const fd = disk.open(tmp, 'create-truncate');
  try {
    const header = encodeFileHeader({ formatVersion: signed ? SIGNED_FORMAT_VERSION : FORMAT_VERSION, flags: deltaField ? 1 : 0 });
    let done = 0;
    while (done < header.length) done += disk.write(fd, header, done, header.length - done, done);
    disk.syncData(fd);
  } finally {
    disk.close(fd);
  }
  disk.rename(tmp, file);
  disk.syncDirectory(path.dirname(file));
}

/** Reads until `length` bytes arrived or the file ended; returns how many arrived. */
function readFully(disk: Disk, fd: DiskFile, target: Buffer, at: number, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = disk.read(fd, target, at + got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
