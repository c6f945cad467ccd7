/**
 * The bytes of a log tail for state transfer: a checksummed header, then the records in exactly
 * the on-disk record format (each with its own checksums). A receiver checks everything before
 * applying anything.
 */
import { crc32 } from './crc.js';
import { CorruptLogError } from './errors.js';
import { FORMAT_VERSION, parseRecordHeader, payloadCrcMatches, RECORD_HEADER_BYTES, RecordKind, writeRecordHeader } from './record-format.js';
import type { LogRecord, LogTailContent } from './record-log.js';

const TAIL_MAGIC = Buffer.from('DRCHTAIL', 'latin1');
const TAIL_HEADER_BYTES = 52;
const TWO_32 = 2 ** 32;

export function encodeLogTail(tail: LogTailContent): Uint8Array {
  let total = TAIL_HEADER_BYTES;
  for (const record of tail.records) total += RECORD_HEADER_BYTES + record.payload.byteLength;
  const out = Buffer.allocUnsafe(total);
  TAIL_MAGIC.copy(out, 0);
  out.writeUInt32LE(FORMAT_VERSION, 8);
  out.writeUInt32LE(tail.rebase ? 1 : 0, 12);
  out.writeBigInt64LE(tail.afterVersion, 16);
  out.writeBigInt64LE(tail.trimmedThrough, 24);
  out.writeUInt32LE(tail.trimmedTime.wallUs % TWO_32, 32);
  out.writeUInt32LE(Math.floor(tail.trimmedTime.wallUs / TWO_32), 36);
  out.writeUInt32LE(tail.trimmedTime.logical, 40);
  out.writeUInt32LE(tail.records.length, 44);
  out.writeUInt32LE(crc32(out, 0, 48), 48);
  let at = TAIL_HEADER_BYTES;
  for (const record of tail.records) {
    writeRecordHeader(out, at, record.version, record.time, record.kind, record.payload);
    out.set(record.payload, at + RECORD_HEADER_BYTES);
    at += RECORD_HEADER_BYTES + record.payload.byteLength;
  }
  return out;
}

/** Parses and verifies a tail; throws CorruptLogError (naming `source`) on any damage. */
export function decodeLogTail(bytes: Uint8Array, source = 'log tail'): LogTailContent {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < TAIL_HEADER_BYTES || !buf.subarray(0, 8).equals(TAIL_MAGIC)) throw new CorruptLogError('not a log tail (magic missing)', source, 0);
  if (crc32(buf, 0, 48) !== buf.readUInt32LE(48)) throw new CorruptLogError('log tail header checksum mismatch', source, 0);
  const formatVersion = buf.readUInt32LE(8);
  if (formatVersion !== FORMAT_VERSION) throw new CorruptLogError(`log tail format version ${formatVersion} is not supported (this build reads ${FORMAT_VERSION})`, source, 8);
  const count = buf.readUInt32LE(44);
  const records: LogRecord[] = [];
  let at = TAIL_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + RECORD_HEADER_BYTES > buf.length) throw new CorruptLogError(`log tail ends inside record ${i} of ${count}`, source, at);
    const header = parseRecordHeader(buf, at);
    if (typeof header === 'string') throw new CorruptLogError(`log tail record ${i}: ${header}`, source, at);
    const end = at + RECORD_HEADER_BYTES + header.payloadBytes;
    if (end > buf.length) throw new CorruptLogError(`log tail ends inside record ${i} of ${count}`, source, at);
    const payload = buf.subarray(at + RECORD_HEADER_BYTES, end);
    if (!payloadCrcMatches(header, payload)) throw new CorruptLogError(`log tail record ${i} (version ${header.version}): payload checksum mismatch`, source, at);
    if (header.kind === RecordKind.Trim) throw new CorruptLogError(`log tail record ${i} is a trim marker`, source, at);
    records.push({ version: header.version, time: { wallUs: header.wallUs, logical: header.logical }, kind: header.kind, payload: Uint8Array.prototype.slice.call(payload) });
    at = end;
  }
  if (at !== buf.length) throw new CorruptLogError(`log tail has ${buf.length - at} stray bytes after its ${count} records`, source, at);
  return {
    rebase: (buf.readUInt32LE(12) & 1) === 1,
    afterVersion: buf.readBigInt64LE(16),
    trimmedThrough: buf.readBigInt64LE(24),
    trimmedTime: { wallUs: buf.readUInt32LE(32) + buf.readUInt32LE(36) * TWO_32, logical: buf.readUInt32LE(40) },
    records,
  };
}
