/**
 * The 32-byte header that prefixes every SMC slot and RDMC message (reference §2.3), little-endian:
 *
 *   0  u32 header_size (always 32)
 *   4  i32 index        sender's message index in this view
 *   8  u64 timestamp    sender's wall time at send, in MICROseconds (Derecho stores ns and divides
 *                       by 1000 before building the HLC; we keep the HLC unit end to end)
 *  16  u32 num_nulls    SMC only: this slot stands for that many consecutive null messages
 *  20  u8  cooked_send  1 = RPC message
 *  21  3 + 8 reserved bytes
 *
 * [quirk] Derecho calls a message null when its size equals the header size, so an empty user
 * payload would be silently swallowed as a null. We mark nulls only by num_nulls > 0; an empty
 * payload is a real message and is delivered.
 */
import { HEADER_BYTES } from './sst-layout.js';
import { invariant } from './invariant.js';

export interface MessageHeader {
  readonly index: number;
  readonly sendWallUs: number;
  readonly numNulls: number;
  readonly cooked: boolean;
}

const TWO_32 = 0x100000000;

export function writeHeader(data: DataView, offset: number, h: MessageHeader): void {
  data.setUint32(offset, HEADER_BYTES, true);
  data.setInt32(offset + 4, h.index, true);
  // The u64 as two u32 halves: no BigInt per message (microseconds stay below 2^53).
  data.setUint32(offset + 8, h.sendWallUs % TWO_32, true);
  data.setUint32(offset + 12, Math.floor(h.sendWallUs / TWO_32), true);
  data.setUint32(offset + 16, h.numNulls, true);
  data.setUint8(offset + 20, h.cooked ? 1 : 0);
  for (let i = 21; i < HEADER_BYTES; i++) data.setUint8(offset + i, 0);
}

export function readHeader(data: DataView, offset: number): MessageHeader {
  checkHeaderSize(data, offset);
  return { index: headerIndex(data, offset), sendWallUs: headerSendWallUs(data, offset), numNulls: headerNumNulls(data, offset), cooked: headerCooked(data, offset) };
}

// Field readers for the receive loop, which reads headers in place without building objects.
export function checkHeaderSize(data: DataView, offset: number): void {
  const headerBytes = data.getUint32(offset, true);
  if (headerBytes !== HEADER_BYTES) invariant(false, 'message header size', () => `header_size ${headerBytes} at offset ${offset}, expected ${HEADER_BYTES}`);
}
export function headerIndex(data: DataView, offset: number): number {
  return data.getInt32(offset + 4, true);
}
export function headerSendWallUs(data: DataView, offset: number): number {
  return data.getUint32(offset + 8, true) + data.getUint32(offset + 12, true) * TWO_32;
}
export function headerNumNulls(data: DataView, offset: number): number {
  return data.getUint32(offset + 16, true);
}
export function headerCooked(data: DataView, offset: number): boolean {
  return data.getUint8(offset + 20) !== 0;
}

/** A standalone message (header + payload), as RDMC carries it. */
export function encodeMessage(h: MessageHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  writeHeader(new DataView(out.buffer), 0, h);
  out.set(payload, HEADER_BYTES);
  return out;
}

export function decodeMessage(message: Uint8Array): { header: MessageHeader; payload: Uint8Array } {
  if (message.length < HEADER_BYTES) throw new Error(`multicast message too short: ${message.length} bytes, the header alone is ${HEADER_BYTES}`);
  const header = readHeader(new DataView(message.buffer, message.byteOffset, message.length), 0);
  return { header, payload: message.subarray(HEADER_BYTES) };
}
