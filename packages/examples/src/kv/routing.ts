/** Which shard holds a key: FNV-1a over the key's UTF-8 bytes, modulo the shard count. */
const encoder = new TextEncoder();

export function shardForKey(key: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError(`shardCount must be a positive integer, got ${shardCount}`);
  let h = 0x811c9dc5;
  for (const b of encoder.encode(key)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shardCount;
}
