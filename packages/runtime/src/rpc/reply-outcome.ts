/**
 * A handler's result on its way back to the caller: marshalled into a reply body for a remote
 * caller, decoded from one by the caller, or passed through the codec when the caller is this
 * node (so a caller never shares the replica's objects).
 */
import type { MethodCodec } from './marshal.js';
import type { ReplyOutcome } from './query-results.js';
import { RemoteError, RpcWireError } from './rpc-errors.js';
import { decodeRemoteError, encodeRemoteError, ReplyStatus } from './rpc-wire.js';

/** What a handler did: returned `value`, or threw `error` (for an async handler, how its promise settled). */
export type HandlerResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/**
 * A reply's status and body: the marshalled result, or the error (a result that fails to marshal
 * is one), with its stack when `withStack` (config `logging.remoteStacks`).
 */
export function encodeReplyBody(codec: MethodCodec, ok: boolean, valueOrError: unknown, withStack = false): [ReplyStatus, Uint8Array] {
  if (ok) {
    try {
      return [ReplyStatus.Ok, codec.encodeResult(valueOrError)];
    } catch (err) {
      return [ReplyStatus.Exception, encodeRemoteError(err, withStack)];
    }
  }
  return [ReplyStatus.Exception, encodeRemoteError(valueOrError, withStack)];
}

/** `from`'s reply whose body is `bytes[start..end)`. Bytes that do not decode throw RpcWireError (the peer's fault). */
export function decodeReply(from: number, codec: MethodCodec, status: ReplyStatus, bytes: Uint8Array, start: number, end: number): ReplyOutcome<unknown> {
  if (status === ReplyStatus.Exception) {
    const e = decodeRemoteError(bytes.subarray(start, end));
    return { ok: false, error: new RemoteError(from, e.name, e.message, e.stack) };
  }
  try {
    return { ok: true, value: codec.decodeResultAt(bytes, start, end) };
  } catch (err) {
    throw new RpcWireError(err instanceof Error ? err.message : String(err));
  }
}

/** Node `me`'s answer to its own call: through the codec, as a remote caller would see it. */
export function localReplyOutcome(me: number, codec: MethodCodec, result: HandlerResult, withStack = false): ReplyOutcome<unknown> {
  if (!result.ok) return { ok: false, error: toRemoteError(me, result.error, withStack) };
  try {
    return { ok: true, value: codec.decodeResult(codec.encodeResult(result.value)) };
  } catch (err) {
    return { ok: false, error: toRemoteError(me, err, withStack) };
  }
}

function toRemoteError(node: number, thrown: unknown, withStack: boolean): RemoteError {
  if (!(thrown instanceof Error)) return new RemoteError(node, typeof thrown, String(thrown));
  return new RemoteError(node, thrown.name, thrown.message, withStack ? thrown.stack : undefined);
}

/** Any failure to decode bytes from a peer (msgpack errors, WireTypeError) is the peer's fault. */
export function wireDecode<T>(decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    throw new RpcWireError(err instanceof Error ? err.message : String(err));
  }
}
