/**
 * The wire form of control messages: every P2P message starts with a channel byte, so control
 * traffic and RPC traffic share one connection; control bodies are msgpack, checked field by
 * field (`parseControl`) before the Member sees them.
 */
import { Packr } from 'msgpackr';
import { ControlMessageError, parseControl, type ControlMessage } from '../core/member/control-messages.js';

export const enum Channel {
  Control = 1,
  Rpc = 2,
}

const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeControl(message: ControlMessage): Uint8Array {
  const body = packr.pack(message);
  const out = new Uint8Array(body.length + 1);
  out[0] = Channel.Control;
  out.set(body, 1);
  return out;
}

/** Decodes the body of a control-channel message (without the channel byte). */
export function decodeControl(body: Uint8Array): ControlMessage {
  let raw: unknown;
  try {
    raw = packr.unpack(body);
  } catch (err) {
    throw new ControlMessageError(`malformed control message: not msgpack (${(err as Error).message})`);
  }
  return parseControl(raw);
}
