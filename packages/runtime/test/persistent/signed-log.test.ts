/**
 * Signed logs: every version carries an Ed25519 signature over its version, HLC, kind, payload
 * digest and the previous signature; `verify(range)` with the public key detects a changed byte
 * (even with the checksums recomputed), a reordered or removed record, and another signer, each
 * named by version.
 */
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { hlc } from '../../src/core/hlc.js';
import { CorruptLogError } from '../../src/persistent/errors.js';
import { FileLog } from '../../src/persistent/file-log.js';
import { FILE_HEADER_BYTES, parseRecordHeader, RECORD_HEADER_BYTES, RecordKind, writeRecordHeader } from '../../src/persistent/record-format.js';
import { LogSignatureError, LogSigningConfigError } from '../../src/persistent/signed-log.js';
import { Persistent } from '../../src/persistent/versioned.js';
import { makeTempDir, removeDir } from './helpers.js';

const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');

const payloadOf = (v: number): Uint8Array => new TextEncoder().encode(`value of version ${v} `.repeat(1 + (v % 3)));

/** A signed log holding versions 1..count. */
function writeSigned(file: string, count: number): void {
  const log = FileLog.open(file, { signingKey: keys.privateKey });
  for (let v = 1; v <= count; v++) log.append(BigInt(v), hlc(1000 + v), RecordKind.Full, payloadOf(v));
  log.close();
}

interface RawRecord {
  version: bigint;
  wallUs: number;
  logical: number;
  kind: RecordKind;
  payload: Buffer;
}

/** The file's records, as an attacker who knows the format reads them. */
function readRecords(file: string): { header: Buffer; records: RawRecord[] } {
  const bytes = fs.readFileSync(file);
  const records: RawRecord[] = [];
  for (let at = FILE_HEADER_BYTES; at < bytes.length; ) {
    const h = parseRecordHeader(bytes, at);
    if (typeof h === 'string') throw new Error(h);
    const payload = Buffer.from(bytes.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + h.payloadBytes));
    records.push({ version: h.version, wallUs: h.wallUs, logical: h.logical, kind: h.kind, payload });
    at += RECORD_HEADER_BYTES + h.payloadBytes;
  }
  return { header: bytes.subarray(0, FILE_HEADER_BYTES), records };
}

/** Writes records back with valid checksums (the attacker recomputes them). */
function writeRecords(file: string, header: Buffer, records: RawRecord[]): void {
  const parts = [header];
  for (const r of records) {
    const head = Buffer.alloc(RECORD_HEADER_BYTES);
    writeRecordHeader(head, 0, r.version, hlc(r.wallUs, r.logical), r.kind, r.payload);
    parts.push(head, r.payload);
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

function verifyError(file: string): LogSignatureError {
  const log = FileLog.open(file);
  try {
    log.verify(keys.publicKey);
  } catch (err) {
    if (err instanceof LogSignatureError) return err;
    throw err;
  } finally {
    log.close();
  }
  throw new Error('verify passed on a tampered log');
}

describe('persistent: signed logs', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = makeTempDir('signed');
    file = path.join(dir, 'sg0-sh0-ledger.log');
  });
  afterEach(() => removeDir(dir));

  it('signs every version; any holder of the public key verifies the whole log or a range, before and after reopening', () => {
    writeSigned(file, 20);
    expect(fs.readFileSync(file).readUInt32LE(8), 'format version of a signed log').to.equal(2);
    const log = FileLog.open(file);
    expect(log.signed).to.equal(true);
    expect(log.verify(keys.publicKey)).to.deep.equal({ versions: 20, firstVersion: 1n, lastVersion: 20n });
    expect(log.verify(keys.publicKey, { from: 5n, to: 9n })).to.deep.equal({ versions: 5, firstVersion: 5n, lastVersion: 9n });
    expect(() => log.verify(otherKeys.publicKey)).to.throw(LogSignatureError, /version 1: its signature does not verify/);
    log.close();
  });

  it('detects a flipped byte, naming the version: at open when the checksum no longer matches, at verify when the attacker recomputed it', () => {
    writeSigned(file, 10);
    const { header, records } = readRecords(file);
    const bytes = fs.readFileSync(file);
    // Plain damage: the record's checksum catches it before any signature is needed.
    let at = FILE_HEADER_BYTES;
    for (const r of records) {
      if (r.version === 4n && r.kind === RecordKind.Full) break;
      at += RECORD_HEADER_BYTES + r.payload.length;
    }
    const damaged = Buffer.from(bytes);
    damaged[at + RECORD_HEADER_BYTES + 3] ^= 0x01;
    fs.writeFileSync(file, damaged);
    expect(() => FileLog.open(file)).to.throw(CorruptLogError, /version 4/);
    // Tampering: the same flip with the checksums recomputed passes every checksum, not the signature.
    const forged = records.map((r) => ({ ...r, payload: Buffer.from(r.payload) }));
    forged.find((r) => r.version === 4n && r.kind === RecordKind.Full)!.payload[3] ^= 0x01;
    writeRecords(file, header, forged);
    const err = verifyError(file);
    expect(err.version).to.equal(4n);
    expect(err.message).to.match(/version 4: its signature does not verify/);
  });

  it('detects a reordered record and a removed one, naming the version', () => {
    writeSigned(file, 10);
    const { header, records } = readRecords(file);
    // Versions 5 and 6 trade contents (payload and signature record), numbers kept in order.
    const swapped = records.map((r) => ({ ...r }));
    const at = (v: bigint, kind: RecordKind): number => swapped.findIndex((r) => r.version === v && r.kind === kind);
    for (const kind of [RecordKind.Full, RecordKind.Signature]) {
      const [i, j] = [at(5n, kind), at(6n, kind)];
      [swapped[i].payload, swapped[j].payload] = [swapped[j].payload, swapped[i].payload];
    }
    writeRecords(file, header, swapped);
    const reordered = verifyError(file);
    expect(reordered.version).to.equal(5n);
    expect(reordered.message).to.match(/version 5: its signature does not chain to that of version 4/);

    // Version 5 removed whole (its record and its signature): version 6 no longer chains.
    writeRecords(file, header, records.filter((r) => r.version !== 5n));
    const removed = verifyError(file);
    expect(removed.version).to.equal(6n);
    expect(removed.message).to.match(/does not chain to that of version 4/);
  });

  it('keeps the chain across truncate, trims with compaction, state transfer and a torn tail', () => {
    const log = FileLog.open(file, { signingKey: keys.privateKey, compactMinBytes: 0, compactDeadFraction: 0 });
    for (let v = 1; v <= 30; v++) log.append(BigInt(v), hlc(v), RecordKind.Full, payloadOf(v));
    log.persist();
    log.truncate(20n);
    for (let v = 21; v <= 25; v++) log.append(BigInt(v), hlc(100 + v), RecordKind.Full, payloadOf(v));
    log.trimVersion(10n);
    log.persist();
    expect(log.verify(keys.publicKey)).to.deep.equal({ versions: 15, firstVersion: 11n, lastVersion: 25n });
    // A receiver signs what it applies with its own key.
    const receiverFile = path.join(dir, 'receiver.log');
    const receiver = FileLog.open(receiverFile, { signingKey: otherKeys.privateKey });
    receiver.applyTail(log.tailAfter(-1n));
    expect(receiver.verify(otherKeys.publicKey).versions).to.equal(15);
    receiver.close();
    log.close();
    // A version record whose signature record was cut off by a crash is a torn tail.
    const bytes = fs.readFileSync(file);
    let lastSignatureAt = -1;
    for (let at = FILE_HEADER_BYTES; at < bytes.length; ) {
      const h = parseRecordHeader(bytes, at) as Exclude<ReturnType<typeof parseRecordHeader>, string>;
      if (h.kind === RecordKind.Signature) lastSignatureAt = at;
      at += RECORD_HEADER_BYTES + h.payloadBytes;
    }
    fs.writeFileSync(file, bytes.subarray(0, lastSignatureAt + 10));
    const reopened = FileLog.open(file, { signingKey: keys.privateKey });
    expect(reopened.latestVersion).to.equal(24n);
    expect(reopened.recovery.droppedReason).to.match(/signature record/);
    reopened.append(25n, hlc(200), RecordKind.Full, payloadOf(25));
    expect(reopened.verify(keys.publicKey).lastVersion).to.equal(25n);
    reopened.close();
  });

  it('a Persistent field in a signed log verifies through the field; a field in memory says it cannot', () => {
    const field = Persistent.open<string>(file, () => '', { signingKey: keys.privateKey });
    for (let v = 1; v <= 5; v++) {
      field.current = `v${v}`;
      field.version(BigInt(v), hlc(v));
    }
    field.persist();
    expect(field.verify(keys.publicKey, { from: 2n })).to.deep.equal({ versions: 4, firstVersion: 2n, lastVersion: 5n });
    field.close();
    const memory = new Persistent<string>(() => '');
    memory.attachInMemory('m');
    expect(() => memory.verify(keys.publicKey)).to.throw(LogSigningConfigError, /kept in memory: only a signed log file can be verified/);
  });

  it('refuses signing an unsigned log, appending to a signed one without its key, and keys of the wrong kind, with clear errors', () => {
    const plain = FileLog.open(file);
    plain.append(1n, hlc(1), RecordKind.Full, payloadOf(1));
    expect(() => plain.verify(keys.publicKey)).to.throw(LogSigningConfigError, /unsigned log \(format 1\): it has no signatures to verify/);
    plain.close();
    expect(() => FileLog.open(file, { signingKey: keys.privateKey })).to.throw(LogSigningConfigError, /is an unsigned log \(format 1\) but signing is configured/);
    const signedFile = path.join(dir, 'signed.log');
    writeSigned(signedFile, 2);
    const readOnly = FileLog.open(signedFile);
    expect(() => readOnly.append(3n, hlc(5000), RecordKind.Full, payloadOf(3))).to.throw(LogSigningConfigError, /opened without a signing key/);
    expect(readOnly.latestVersion).to.equal(2n);
    readOnly.close();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => FileLog.open(signedFile, { signingKey: ec.privateKey })).to.throw(LogSigningConfigError, /must be an Ed25519 private key, got a ec private key/);
    const log = FileLog.open(signedFile);
    expect(() => log.verify(keys.privateKey)).to.throw(LogSigningConfigError, /must be an Ed25519 public key/);
    log.close();
  });
});
