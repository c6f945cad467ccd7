/**
 * Byte layout of RPC traffic (our counterpart of reference §2.9's request/reply headers).
 *
 * Ordered requests travel as cooked multicast payloads:
 *   u8 kind=1 | u8 0 | u16 method wire id | u32 caller node | u32 invocation id | args
 * Everything else is a P2P message on Channel.Rpc (the channel byte is not part of these frames):
 *   P2P request    u8 kind=2 | u8 0      | u16 method id | u32 subgroup id | u32 invocation id | args
 *   P2P reply      u8 kind=3 | u8 status | u16 0         | u32 invocation id | body
 *   ordered reply  u8 kind=4 | u8 status | u16 0         | u32 subgroup id | u32 invocation id | body
 * status 0: body is the marshalled result; 1: body is msgpack [error name, error message].
 * Little-endian throughout. The invocation id names the caller's pending call; the subgroup id is
 * the index in the view's subgroup list (same at every member of a view).
 */
import { Packr } from 'msgpackr';
import { RpcWireError } from './rpc-errors.js';

export const enum RpcKind {
  OrderedRequest = 1,
  P2PRequest = 2,
  P2PReply = 3,
  OrderedReply = 4,
}

export const enum ReplyStatus {
  Ok = 0,
  Exception = 1,
}

export const ORDERED_HEADER_BYTES = 12;
export const P2P_REQUEST_HEADER_BYTES = 12;
export const P2P_REPLY_HEADER_BYTES = 8;
export const ORDERED_REPLY_HEADER_BYTES = 12;
/** Bounds the remote error text we keep: a peer cannot make us hold megabytes of "message". */
const MAX_ERROR_TEXT = 4096;

export interface OrderedRequest {
  readonly methodId: number;
  readonly caller: number;
  readonly invocation: number;
  readonly args: Uint8Array;
}

export type RpcFrame =
  | { readonly kind: RpcKind.P2PRequest; readonly methodId: number; readonly subgroupId: number; readonly invocation: number; readonly args: Uint8Array }
  | { readonly kind: RpcKind.P2PReply; readonly status: ReplyStatus; readonly invocation: number; readonly body: Uint8Array }
  | { readonly kind: RpcKind.OrderedReply; readonly status: ReplyStatus; readonly subgroupId: number; readonly invocation: number; readonly body: Uint8Array };

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

export function decodeOrderedRequest(payload: Uint8Array): OrderedRequest {
  if (payload.length < ORDERED_HEADER_BYTES || payload[0] !== RpcKind.OrderedRequest) {
    throw new RpcWireError(`an ordered RPC payload must start with a ${ORDERED_HEADER_BYTES}-byte header of kind ${RpcKind.OrderedRequest}, got ${payload.length} bytes of kind ${payload[0]}`);
  }
  const v = view(payload);
  return { methodId: v.getUint16(2, true), caller: v.getUint32(4, true), invocation: v.getUint32(8, true), args: payload.subarray(ORDERED_HEADER_BYTES) };
}

/** The header of a P2P request (with the channel byte first); the args go as a second chunk. */
export function p2pRequestHeader(channel: number, methodId: number, subgroupId: number, invocation: number): Uint8Array {
  const out = new Uint8Array(1 + P2P_REQUEST_HEADER_BYTES);
  const v = view(out);
  out[0] = channel;
  out[1] = RpcKind.P2PRequest;
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
      if (frame[1] !== 0) throw new RpcWireError(`a P2P request has flags ${frame[1]}, expected 0`);
      return { kind: RpcKind.P2PRequest, methodId: v.getUint16(2, true), subgroupId: v.getUint32(4, true), invocation: v.getUint32(8, true), args: frame.subarray(P2P_REQUEST_HEADER_BYTES) };
    case RpcKind.P2PReply:
      need(P2P_REPLY_HEADER_BYTES, 'P2P reply');
      return { kind: RpcKind.P2PReply, status: status(frame[1]), invocation: v.getUint32(4, true), body: frame.subarray(P2P_REPLY_HEADER_BYTES) };
    case RpcKind.OrderedReply:
      need(ORDERED_REPLY_HEADER_BYTES, 'ordered reply');
      return { kind: RpcKind.OrderedReply, status: status(frame[1]), subgroupId: v.getUint32(4, true), invocation: v.getUint32(8, true), body: frame.subarray(ORDERED_REPLY_HEADER_BYTES) };
    default:
      throw new RpcWireError(`unknown RPC frame kind ${frame[0]}`);
  }
}

const errorPackr = new Packr({ useRecords: false, moreTypes: false });

/** What a thrown value looks like on the wire: its name and message. */
export function encodeRemoteError(thrown: unknown): Uint8Array {
  const name = thrown instanceof Error ? thrown.name : typeof thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return errorPackr.pack([name.slice(0, MAX_ERROR_TEXT), message.slice(0, MAX_ERROR_TEXT)]);
}

export function decodeRemoteError(body: Uint8Array): { name: string; message: string } {
  let value: unknown;
  try {
    value = errorPackr.unpack(body);
  } catch (err) {
    throw new RpcWireError(`a remote error body is not msgpack: ${(err as Error).message}`);
  }
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string' || typeof value[1] !== 'string') {
    throw new RpcWireError('a remote error body must be [name, message]');
  }
  return { name: value[0].slice(0, MAX_ERROR_TEXT), message: value[1].slice(0, MAX_ERROR_TEXT) };
}
