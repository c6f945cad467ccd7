/**
 * Versions identify a delivered update: the high 32 bits are the view id, the low 32 the
 * round-robin sequence number within that view (reference §2.2). Nulls consume sequence numbers
 * but never versions.
 */
export type Version = bigint;

/** No version: raw (unordered) deliveries and empty logs. */
export const INVALID_VERSION: Version = -1n;

const SEQ_BITS = 32n;
const SEQ_MASK = (1n << SEQ_BITS) - 1n;

export function makeVersion(vid: number, seq: number): Version {
  if (!Number.isInteger(vid) || vid < 0 || vid > 0x7fffffff) throw new RangeError(`view id out of range: ${vid}`);
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffffffff) throw new RangeError(`sequence number out of range: ${seq}`);
  // One BigInt allocation instead of four on the delivery path: exact while vid < 2^21.
  return vid < 0x200000 ? BigInt(vid * 0x100000000 + seq) : (BigInt(vid) << SEQ_BITS) | BigInt(seq);
}

export function versionVid(v: Version): number {
  return Number(v >> SEQ_BITS);
}

export function versionSeq(v: Version): number {
  return Number(v & SEQ_MASK);
}

export function formatVersion(v: Version): string {
  return v < 0n ? 'none' : `${versionVid(v)}.${versionSeq(v)}`;
}
