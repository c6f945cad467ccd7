/**
 * Payload chunks without the zero fill (see core/payload-slab.ts for why that is safe and what it
 * saves). Plain Uint8Arrays, not Buffers, so deliveries have one type everywhere.
 */
import type { ChunkAllocator } from '../core/payload-slab.js';

export const uninitializedChunks: ChunkAllocator = (bytes) => {
  const b = Buffer.allocUnsafeSlow(bytes);
  return new Uint8Array(b.buffer, b.byteOffset, bytes);
};
