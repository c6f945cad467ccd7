/**
 * Byte layout of RPC traffic (our counterpart of reference §2.9's request/reply headers).
 *
 * Ordered requests travel as cooked multicast payloads:
 *   u8 kind=1 | u8 flags | u16 method wire id | u32 caller node | u32 invocation id | [call id] | args
 * flags bit 0 (OrderedFlags.CallId): a call id for exactly-once application follows the header:
 *   u8 client id bytes (1..64) | client id (UTF-8) | f64 seq | f64 acked through
 * Everything else is a P2P message on Channel.Rpc (the channel byte is not part of these frames):
 *   P2P request    u8 kind=2 | u8 0      | u16 method id | u32 subgroup id | u32 invocation id | args
 *   P2P reply      u8 kind=3 | u8 status | u16 0         | u32 invocation id | body
 *   ordered reply  u8 kind=4 | u8 status | u16 0         | u32 subgroup id | u32 invocation id | body
 *   ordered replies u8 kind=5 | u8 0     | u16 count     | count × (u8 status | u8 0 | u16 0 |
 *                   u32 subgroup id | u32 invocation id | u32 body bytes | body)
 * status 0: body is the marshalled result; 1: body is msgpack [error name, error message].
 * A member answers every call of one caller that it applied in one delivery batch with one
 * `ordered replies` frame (a member sends kind 4 no more; it still reads it).
 * Little-endian throughout. The invocation id names the caller's pending call; the subgroup id is
 * the index in the view's subgroup list (same at every member of a view).
 */
import { Packr } from 'msgpackr';
import { decodeSelector, SelectorFlags, type HistoricalSelector } from './historical-read.js';
import { MAX_CLIENT_ID_BYTES, type CallId } from './call-id.js';
import { RpcWireError } from './rpc-errors.js';

export const enum RpcKind {
  OrderedRequest = 1,
  P2PRequest = 2,
  P2PReply = 3,
  OrderedReply = 4,
  OrderedReplies = 5,
}

export const enum ReplyStatus {
  Ok = 0,
  Exception = 1,
}

export const ORDERED_HEADER_BYTES = 12;

export const enum OrderedFlags {
  None = 0,
  /** A call id (exactly-once) follows the header. */
  CallId = 1,
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** The bytes of a call id as they follow an ordered request header; throws a TypeError naming what is wrong with `id`. */
export function encodeCallId(id: CallId): Uint8Array {
  if (typeof id !== 'object' || id === null) throw new TypeError(`a call id must be { client, seq, ackedThrough? }, got ${id === null ? 'null' : typeof id}`);
  const client = typeof id.client === 'string' ? utf8Encoder.encode(id.client) : undefined;
  if (client === undefined || client.length === 0 || client.length > MAX_CLIENT_ID_BYTES) {
    throw new TypeError(`a call id's client must be a string of 1 to ${MAX_CLIENT_ID_BYTES} UTF-8 bytes, got ${typeof id.client === 'string' ? `${client!.length} bytes` : typeof id.client}`);
  }
  if (!Number.isSafeInteger(id.seq) || id.seq < 1) throw new TypeError(`a call id's seq must be a positive integer, got ${String(id.seq)}`);
  const acked = id.ackedThrough ?? 0;
  if (!Number.isSafeInteger(acked) || acked < 0 || acked >= id.seq) {
    throw new TypeError(`a call id's ackedThrough must be an integer from 0 to seq - 1 (${id.seq - 1}): a client acknowledges only replies it holds, got ${String(id.ackedThrough)}`);
  }
  const out = new Uint8Array(1 + client.length + 16);
  out[0] = client.length;
  out.set(client, 1);
  const v = view(out);
  v.setFloat64(1 + client.length, id.seq, true);
  v.setFloat64(9 + client.length, acked, true);
  return out;
}

/** The call id after the header of an ordered request with the CallId flag, and where its arguments start; RpcWireError when malformed. */
export function decodeCallId(payload: Uint8Array): { id: CallId; argsAt: number } {
  const at = ORDERED_HEADER_BYTES;
  const idBytes = payload[at];
  if (payload.length < at + 1 || idBytes === 0 || idBytes > MAX_CLIENT_ID_BYTES || payload.length < at + 1 + idBytes + 16) {
    throw new RpcWireError(`an ordered request flagged with a call id has no well-formed one (${payload.length} bytes, client id of ${String(idBytes)} bytes)`);
  }
  let client: string;
  try {
    client = utf8Decoder.decode(payload.subarray(at + 1, at + 1 + idBytes));
  } catch {
    throw new RpcWireError('the client id of an ordered request is not UTF-8');
  }
  const v = view(payload);
  const seq = v.getFloat64(at + 1 + idBytes, true);
  const ackedThrough = v.getFloat64(at + 9 + idBytes, true);
  if (!Number.isSafeInteger(seq) || seq < 1 || !Number.isSafeInteger(ackedThrough) || ackedThrough < 0 || ackedThrough >= seq) {
    throw new RpcWireError(`an ordered request's call id has seq ${seq} and ackedThrough ${ackedThrough}`);
  }
  return { id: { client, seq, ackedThrough }, argsAt: at + 17 + idBytes };
}
export const P2P_REQUEST_HEADER_BYTES = 12;
export const P2P_REPLY_HEADER_BYTES = 8;
export const ORDERED_REPLY_HEADER_BYTES = 12;
export const ORDERED_REPLIES_HEADER_BYTES = 4;
export const ORDERED_REPLIES_ENTRY_BYTES = 16;
/** Entries per `ordered replies` frame (its count is a u16). */
export const MAX_ORDERED_REPLIES = 0xffff;
/** Bounds the remote error text we keep: a peer cannot make us hold megabytes of "message". */
const MAX_ERROR_TEXT = 4096;

export interface OrderedRequest {
  readonly methodId: number;
  readonly caller: number;
  readonly invocation: number;
  readonly args: Uint8Array;
}

export type RpcFrame =
  | { readonly kind: RpcKind.P2PRequest; readonly methodId: number; readonly subgroupId: number; readonly invocation: number; readonly args: Uint8Array; readonly selector: HistoricalSelector | undefined }
  | { readonly kind: RpcKind.P2PReply; readonly status: ReplyStatus; readonly invocation: number; readonly body: Uint8Array }
  | { readonly kind: RpcKind.OrderedReply; readonly status: ReplyStatus; readonly subgroupId: number; readonly invocation: number; readonly body: Uint8Array }
  /** Entries are read with `readOrderedReplies`, after this checked their framing. */
  | { readonly kind: RpcKind.OrderedReplies; readonly count: number; readonly frame: Uint8Array };

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The whole multicast payload of an ordered call: header and marshalled arguments in one buffer. */
export function encodeOrderedRequest(methodId: number, caller: number, invocation: number, args: Uint8Array): Uint8Array {
  const out = new Uint8Array(ORDERED_HEADER_BYTES + args.length);
  const v = view(out);
  out[0] = RpcKind.OrderedRequest;
  v.setUint16(2, methodId, true);
  v.setUint32(4, caller, true);
  v.setUint32(8, invocation, true);
  out.set(args, ORDERED_HEADER_BYTES);
  return out;
}

/** Throws RpcWireError unless `payload` starts with an ordered request header. */
export function checkOrderedRequest(payload: Uint8Array): void {
  if (payload.length < ORDERED_HEADER_BYTES || payload[0] !== RpcKind.OrderedRequest) {
    throw new RpcWireError(`an ordered RPC payload must start with a ${ORDERED_HEADER_BYTES}-byte header of kind ${RpcKind.OrderedRequest}, got ${payload.length} bytes of kind ${payload[0]}`);
  }
}

/** Writes an ordered request header into the first ORDERED_HEADER_BYTES of `out` (the args follow). */
export function writeOrderedHeader(out: Uint8Array, methodId: number, caller: number, invocation: number): void {
  out[0] = RpcKind.OrderedRequest;
  out[1] = 0;
  out[2] = methodId & 0xff;
  out[3] = methodId >>> 8;
  writeU32(out, 4, caller);
  writeU32(out, 8, invocation);
}

// Plain byte reads and writes: no DataView per message on the delivery path.
export function readU16(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8);
}

export function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16)) + bytes[at + 3] * 0x1000000;
}

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = value >>> 24;
}

export function decodeOrderedRequest(payload: Uint8Array): OrderedRequest {
  checkOrderedRequest(payload);
  return { methodId: readU16(payload, 2), caller: readU32(payload, 4), invocation: readU32(payload, 8), args: payload.subarray(ORDERED_HEADER_BYTES) };
}

/** The header of a P2P request (with the channel byte first); the args go as a second chunk. */
export function p2pRequestHeader(channel: number, methodId: number, subgroupId: number, invocation: number, flags: SelectorFlags = SelectorFlags.None): Uint8Array {
  const out = new Uint8Array(1 + P2P_REQUEST_HEADER_BYTES);
  const v = view(out);
  out[0] = channel;
  out[1] = RpcKind.P2PRequest;
  out[2] = flags;
  v.setUint16(3, methodId, true);
  v.setUint32(5, subgroupId, true);
  v.setUint32(9, invocation, true);
  return out;
}

export function p2pReplyHeader(channel: number, status: ReplyStatus, invocation: number): Uint8Array {
  const out = new Uint8Array(1 + P2P_REPLY_HEADER_BYTES);
  out[0] = channel;
  out[1] = RpcKind.P2PReply;
  out[2] = status;
  view(out).setUint32(5, invocation, true);
  return out;
}

export function orderedReplyHeader(channel: number, status: ReplyStatus, subgroupId: number, invocation: number): Uint8Array {
  const out = new Uint8Array(1 + ORDERED_REPLY_HEADER_BYTES);
  const v = view(out);
  out[0] = channel;
  out[1] = RpcKind.OrderedReply;
  out[2] = status;
  v.setUint32(5, subgroupId, true);
  v.setUint32(9, invocation, true);
  return out;
}

function status(byte: number): ReplyStatus {
  if (byte !== ReplyStatus.Ok && byte !== ReplyStatus.Exception) throw new RpcWireError(`unknown reply status ${byte}`);
  return byte;
}

/** Parses one Channel.Rpc frame (without its channel byte); throws RpcWireError on anything else. */
export function decodeRpcFrame(frame: Uint8Array): RpcFrame {
  if (frame.length === 0) throw new RpcWireError('an empty RPC frame');
  const v = view(frame);
  const need = (bytes: number, what: string): void => {
    if (frame.length < bytes) throw new RpcWireError(`a ${what} frame needs at least ${bytes} bytes, got ${frame.length}`);
  };
  switch (frame[0]) {
    case RpcKind.P2PRequest:
      need(P2P_REQUEST_HEADER_BYTES, 'P2P request');
      return decodeP2PRequest(frame, v);
    case RpcKind.P2PReply:
      need(P2P_REPLY_HEADER_BYTES, 'P2P reply');
      return { kind: RpcKind.P2PReply, status: status(frame[1]), invocation: v.getUint32(4, true), body: frame.subarray(P2P_REPLY_HEADER_BYTES) };
    case RpcKind.OrderedReply:
      need(ORDERED_REPLY_HEADER_BYTES, 'ordered reply');
      return { kind: RpcKind.OrderedReply, status: status(frame[1]), subgroupId: v.getUint32(4, true), invocation: v.getUint32(8, true), body: frame.subarray(ORDERED_REPLY_HEADER_BYTES) };
    case RpcKind.OrderedReplies:
      need(ORDERED_REPLIES_HEADER_BYTES, 'ordered replies');
      return { kind: RpcKind.OrderedReplies, count: checkOrderedReplies(frame), frame };
    default:
      throw new RpcWireError(`unknown RPC frame kind ${frame[0]}`);
  }
}

/** Checks the framing of every entry of an `ordered replies` frame; returns the entry count. */
function checkOrderedReplies(frame: Uint8Array): number {
  if (frame[1] !== 0) throw new RpcWireError(`an ordered replies frame has flags ${frame[1]}, expected 0`);
  const count = readU16(frame, 2);
  if (count === 0) throw new RpcWireError('an ordered replies frame with no entries');
  let at = ORDERED_REPLIES_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + ORDERED_REPLIES_ENTRY_BYTES > frame.length) throw new RpcWireError(`ordered replies: entry ${i} of ${count} is cut short at byte ${at} of ${frame.length}`);
    status(frame[at]);
    const bodyBytes = readU32(frame, at + 12);
    at += ORDERED_REPLIES_ENTRY_BYTES + bodyBytes;
    if (at > frame.length) throw new RpcWireError(`ordered replies: entry ${i} of ${count} claims ${bodyBytes} body bytes, past the frame's ${frame.length}`);
  }
  if (at !== frame.length) throw new RpcWireError(`ordered replies: ${frame.length - at} bytes after the last of ${count} entries`);
  return count;
}

/** One entry of an `ordered replies` frame: its body is `frame[bodyStart..bodyEnd)`. */
export interface OrderedReplyEntry {
  status: ReplyStatus;
  subgroupId: number;
  invocation: number;
  frame: Uint8Array;
  bodyStart: number;
  bodyEnd: number;
}

/**
 * Calls `each` with every entry of a frame `decodeRpcFrame` accepted. `entry` is reused from call
 * to call (copy what you keep).
 */
export function readOrderedReplies(frame: Uint8Array, each: (entry: OrderedReplyEntry) => void): void {
  const count = readU16(frame, 2);
  const entry: OrderedReplyEntry = { status: ReplyStatus.Ok, subgroupId: 0, invocation: 0, frame, bodyStart: 0, bodyEnd: 0 };
  let at = ORDERED_REPLIES_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const bodyBytes = readU32(frame, at + 12);
    entry.status = frame[at] as ReplyStatus;
    entry.subgroupId = readU32(frame, at + 4);
    entry.invocation = readU32(frame, at + 8);
    entry.bodyStart = at + ORDERED_REPLIES_ENTRY_BYTES;
    entry.bodyEnd = entry.bodyStart + bodyBytes;
    each(entry);
    at = entry.bodyEnd;
  }
}

/**
 * Collects one caller's replies and lays them out as one `ordered replies` frame, channel byte
 * first, in one buffer.
 */
export class OrderedRepliesBuilder {
  private readonly statuses: ReplyStatus[] = [];
  private readonly subgroups: number[] = [];
  private readonly invocations: number[] = [];
  private readonly bodies: Uint8Array[] = [];
  private bodyBytes = 0;

  get count(): number {
    return this.bodies.length;
  }

  get bodyBytesSoFar(): number {
    return this.bodyBytes;
  }

  add(status: ReplyStatus, subgroupId: number, invocation: number, body: Uint8Array): void {
    this.statuses.push(status);
    this.subgroups.push(subgroupId);
    this.invocations.push(invocation);
    this.bodies.push(body);
    this.bodyBytes += body.length;
  }

  /** The frame (with `channel` first) of everything added; the builder is empty again. */
  take(channel: number): Uint8Array {
    const count = this.bodies.length;
    const out = Buffer.allocUnsafe(1 + ORDERED_REPLIES_HEADER_BYTES + count * ORDERED_REPLIES_ENTRY_BYTES + this.bodyBytes);
    out[0] = channel;
    out[1] = RpcKind.OrderedReplies;
    out[2] = 0;
    out[3] = count & 0xff;
    out[4] = count >>> 8;
    let at = 1 + ORDERED_REPLIES_HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      const body = this.bodies[i];
      out[at] = this.statuses[i];
      out[at + 1] = 0;
      out[at + 2] = 0;
      out[at + 3] = 0;
      writeU32(out, at + 4, this.subgroups[i]);
      writeU32(out, at + 8, this.invocations[i]);
      writeU32(out, at + 12, body.length);
      out.set(body, at + ORDERED_REPLIES_ENTRY_BYTES);
      at += ORDERED_REPLIES_ENTRY_BYTES + body.length;
    }
    this.statuses.length = this.subgroups.length = this.invocations.length = this.bodies.length = 0;
    this.bodyBytes = 0;
    return out;
  }
}

const errorPackr = new Packr({ useRecords: false, moreTypes: false });

/** A shipped stack is cut to this many characters. */
const MAX_STACK_TEXT = 16 * 1024;

/** What a thrown value looks like on the wire: its name and message, and its stack when `withStack`. */
export function encodeRemoteError(thrown: unknown, withStack = false): Uint8Array {
  const name = thrown instanceof Error ? thrown.name : typeof thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  const fields = [name.slice(0, MAX_ERROR_TEXT), message.slice(0, MAX_ERROR_TEXT)];
  if (withStack && thrown instanceof Error && typeof thrown.stack === 'string') fields.push(thrown.stack.slice(0, MAX_STACK_TEXT));
  return errorPackr.pack(fields);
}

export function decodeRemoteError(body: Uint8Array): { name: string; message: string; stack?: string } {
  let value: unknown;
  try {
    value = errorPackr.unpack(body);
  } catch (err) {
    throw new RpcWireError(`a remote error body is not msgpack: ${(err as Error).message}`);
  }
  if (!Array.isArray(value) || (value.length !== 2 && value.length !== 3) || !value.every((v) => typeof v === 'string')) {
    throw new RpcWireError('a remote error body must be [name, message] or [name, message, stack]');
  }
  const error = { name: value[0].slice(0, MAX_ERROR_TEXT), message: value[1].slice(0, MAX_ERROR_TEXT) };
  return value.length === 3 ? { ...error, stack: (value[2] as string).slice(0, MAX_STACK_TEXT) } : error;
}

function decodeP2PRequest(frame: Uint8Array, v: DataView): RpcFrame {
  const rest = frame.subarray(P2P_REQUEST_HEADER_BYTES);
  const { selector, argsAt } = decodeSelector(frame[1], rest);
  return { kind: RpcKind.P2PRequest, methodId: v.getUint16(2, true), subgroupId: v.getUint32(4, true), invocation: v.getUint32(8, true), args: rest.subarray(argsAt), selector };
}
