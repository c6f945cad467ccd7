/**
 * Signed logs (Derecho's signed persistent logs): in a log of format 2 every version record is
 * followed by a signature record whose payload is an Ed25519 signature by the writing node over
 * the version, its HLC, its kind, the SHA-256 digest of its payload and the signature of the
 * version record before it, then that previous signature. The chain makes a dropped, inserted or
 * reordered record as visible as a changed byte; anyone holding the node's public key can check a
 * range (`FileLog.verify`). Layout: FORMAT.md, "Signed logs".
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import type { Hlc } from '../core/hlc.js';
import type { Version } from '../core/version.js';
import { PersistentError } from './errors.js';
import type { RecordKind } from './record-format.js';

export const SIGNATURE_BYTES = 64;
/** A signature record's payload: the signature, then the previous version's signature. */
export const SIGNATURE_RECORD_PAYLOAD_BYTES = 2 * SIGNATURE_BYTES;
/** What the first version of a log chains to. */
export const NO_SIGNATURE: Uint8Array = new Uint8Array(SIGNATURE_BYTES);

const DOMAIN = Buffer.from('DRCHSIG\0', 'latin1');
const MESSAGE_BYTES = DOMAIN.length + 8 + 8 + 4 + 4 + 32 + SIGNATURE_BYTES;
const TWO_32 = 2 ** 32;

/** A signature that does not verify, a missing signature record, or a broken chain; names the version. */
export class LogSignatureError extends PersistentError {
  override readonly name = 'LogSignatureError';
  constructor(
    readonly file: string,
    readonly version: Version,
    reason: string,
  ) {
    super(`${file}: version ${version}: ${reason}`);
  }
}

/** Signing is configured for a log that cannot be signed, or a signed log is written without its key. */
export class LogSigningConfigError extends PersistentError {
  override readonly name = 'LogSigningConfigError';
}

/** The bytes a version's signature covers. */
function signedMessage(version: Version, time: Hlc, kind: RecordKind, payload: Uint8Array, previous: Uint8Array): Buffer {
  const message = Buffer.allocUnsafe(MESSAGE_BYTES);
  DOMAIN.copy(message, 0);
  let at = DOMAIN.length;
  message.writeBigInt64LE(version, at);
  message.writeUInt32LE(time.wallUs % TWO_32, at + 8);
  message.writeUInt32LE(Math.floor(time.wallUs / TWO_32), at + 12);
  message.writeUInt32LE(time.logical, at + 16);
  message.writeUInt32LE(kind, at + 20);
  at += 24;
  createHash('sha256').update(payload).digest().copy(message, at);
  message.set(previous, at + 32);
  return message;
}

/** The signature record's payload for a version: its signature by `key`, then `previous`. */
export function signVersion(key: KeyObject, version: Version, time: Hlc, kind: RecordKind, payload: Uint8Array, previous: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(SIGNATURE_RECORD_PAYLOAD_BYTES);
  sign(null, signedMessage(version, time, kind, payload, previous), key).copy(record, 0);
  record.set(previous, SIGNATURE_BYTES);
  return record;
}

/** Whether `signature` is `key`'s signature of the version chained to `previous`. */
export function versionSignatureValid(key: KeyObject, version: Version, time: Hlc, kind: RecordKind, payload: Uint8Array, previous: Uint8Array, signature: Uint8Array): boolean {
  return verify(null, signedMessage(version, time, kind, payload, previous), key, signature);
}

/** Throws unless `key` is an Ed25519 key of the given type (`what` names where it came from). */
export function checkEd25519Key(key: KeyObject, type: 'private' | 'public', what: string): void {
  if (key.type !== type || key.asymmetricKeyType !== 'ed25519') {
    throw new LogSigningConfigError(`${what} must be an Ed25519 ${type} key, got a ${key.asymmetricKeyType ?? 'symmetric'} ${key.type} key`);
  }
}

/** What `FileLog.verify` checked. */
export interface VerifyReport {
  /** Versions whose signatures verified. */
  readonly versions: number;
  readonly firstVersion: Version;
  readonly lastVersion: Version;
}
