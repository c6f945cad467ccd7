/**
 * The payload pattern of test and benchmark members: the sender id and the sender's own message
 * counter in the first 8 bytes, then bytes derived from both, so a receiver can tell the n-th
 * message of a sender from any other byte for byte.
 */
export function fillPayload(payload: Uint8Array, sender: number, index: number): void {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (payload.length >= 8) {
    view.setUint32(0, sender, true);
    view.setUint32(4, index, true);
  }
  for (let i = 8; i < payload.length; i++) payload[i] = (sender * 31 + index * 7 + i) & 0xff;
}
