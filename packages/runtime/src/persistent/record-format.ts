/**
 * Byte layout of a log file and of its records (documented in FORMAT.md; keep the two in step).
 * Everything is little-endian. A record is a fixed 48-byte header followed by its payload, so a
 * scan reads headers at known offsets and the index never needs a second file.
 */
import { crc32 } from './crc.js';
import type { Hlc } from '../core/hlc.js';
import type { Version } from '../core/version.js';

/** The format of an unsigned log (and of a state-transfer tail). */
export const FORMAT_VERSION = 1;
/** The format of a signed log: every version record is followed by its signature record. */
export const SIGNED_FORMAT_VERSION = 2;

/** "DRCHLOG" + NUL: first bytes of every log file. */
export const FILE_MAGIC = Buffer.from('DRCHLOG\0', 'latin1');
export const FILE_HEADER_BYTES = 64;

/** "DREC" read as a little-endian u32: first bytes of every record. */
export const RECORD_MAGIC = 0x43455244;
export const RECORD_HEADER_BYTES = 48;

/** The largest payload a record may carry; bigger is refused at write time and treated as corruption on read. */
export const MAX_PAYLOAD_BYTES = 1 << 30;

/**
 * Full: the whole value at this version. Delta: only the change from the previous version (delta
 * types). Trim: not a version; everything at or below `version` is trimmed away. Signature (signed
 * logs only): the signature of the version record just before it (signed-log.ts).
 */
export const RecordKind = { Full: 1, Delta: 2, Trim: 3, Signature: 4 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

export interface RecordHeader {
  payloadBytes: number;
  version: Version;
  wallUs: number;
  logical: number;
  kind: RecordKind;
  payloadCrc: number;
}

const TWO_32 = 2 ** 32;

/** Writes a record header for `payload` at `offset` of `target`. */
export function writeRecordHeader(target: Buffer, offset: number, version: Version, time: Hlc, kind: RecordKind, payload: Uint8Array): void {
  target.writeUInt32LE(RECORD_MAGIC, offset);
  target.writeUInt32LE(payload.byteLength, offset + 4);
  target.writeBigInt64LE(version, offset + 8);
  target.writeUInt32LE(time.wallUs % TWO_32, offset + 16);
  target.writeUInt32LE(Math.floor(time.wallUs / TWO_32), offset + 20);
  target.writeUInt32LE(time.logical, offset + 24);
  target.writeUInt32LE(kind, offset + 28);
  target.writeUInt32LE(crc32(payload), offset + 32);
  target.writeUInt32LE(0, offset + 36);
  target.writeUInt32LE(0, offset + 40);
  target.writeUInt32LE(crc32(target, offset, offset + 44), offset + 44);
}

/**
 * Parses the record header at `offset`, or returns a reason string when it is not a valid header
 * (wrong magic, bad checksum, unknown kind, absurd length). Payload bytes are checked separately.
 */
export function parseRecordHeader(source: Buffer, offset: number): RecordHeader | string {
  if (source.readUInt32LE(offset) !== RECORD_MAGIC) return 'record magic missing';
  const storedCrc = source.readUInt32LE(offset + 44);
  if (crc32(source, offset, offset + 44) !== storedCrc) return 'record header checksum mismatch';
  const kind = source.readUInt32LE(offset + 28);
  if (kind !== RecordKind.Full && kind !== RecordKind.Delta && kind !== RecordKind.Trim && kind !== RecordKind.Signature) return `unknown record kind ${kind}`;
  const payloadBytes = source.readUInt32LE(offset + 4);
  if (payloadBytes > MAX_PAYLOAD_BYTES) return `record payload length ${payloadBytes} exceeds the limit`;
  return {
    payloadBytes,
    version: source.readBigInt64LE(offset + 8),
    wallUs: source.readUInt32LE(offset + 16) + source.readUInt32LE(offset + 20) * TWO_32,
    logical: source.readUInt32LE(offset + 24),
    kind: kind as RecordKind,
    payloadCrc: source.readUInt32LE(offset + 32),
  };
}

export function payloadCrcMatches(header: RecordHeader, payload: Uint8Array): boolean {
  return crc32(payload) === header.payloadCrc;
}

export interface FileHeader {
  formatVersion: number;
  /** Bit 0: the field was declared with a delta form (informative; records carry their own kind). */
  flags: number;
}

export function encodeFileHeader(header: FileHeader): Buffer {
  const bytes = Buffer.alloc(FILE_HEADER_BYTES);
  FILE_MAGIC.copy(bytes, 0);
  bytes.writeUInt32LE(header.formatVersion, 8);
  bytes.writeUInt32LE(FILE_HEADER_BYTES, 12);
  bytes.writeUInt32LE(header.flags, 16);
  bytes.writeUInt32LE(crc32(bytes, 0, 60), 60);
  return bytes;
}

/** Parses a file header, or returns why it is not one this build can read. */
export function parseFileHeader(bytes: Buffer): FileHeader | string {
  if (bytes.byteLength < FILE_HEADER_BYTES) return `file is shorter than its ${FILE_HEADER_BYTES}-byte header`;
  if (!bytes.subarray(0, 8).equals(FILE_MAGIC)) return 'not a derecho-ts log file (magic missing)';
  if (crc32(bytes, 0, 60) !== bytes.readUInt32LE(60)) return 'file header checksum mismatch';
  const formatVersion = bytes.readUInt32LE(8);
  if (formatVersion !== FORMAT_VERSION && formatVersion !== SIGNED_FORMAT_VERSION) {
    return `log format version ${formatVersion} is not supported (this build reads versions ${FORMAT_VERSION} and ${SIGNED_FORMAT_VERSION})`;
  }
  const headerBytes = bytes.readUInt32LE(12);
  if (headerBytes !== FILE_HEADER_BYTES) return `file header length ${headerBytes} is not ${FILE_HEADER_BYTES}`;
  return { formatVersion, flags: bytes.readUInt32LE(16) };
}
