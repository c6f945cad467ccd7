/**
 * Copies of payloads carved out of shared chunks, Node-Buffer-pool style.
 *
 * Why: every multicast payload is copied at least once on each side (at send, because the caller
 * may reuse its buffer; at delivery, because the SST slot will be reused). A fresh ArrayBuffer per
 * copy costs a malloc, an external-memory registration and GC work per message, which at 100-byte
 * payloads costs more than the copy itself. Carving copies out of 64 KiB chunks makes that one
 * allocation per chunk. A region handed out is never written again, so a copy stays valid for as
 * long as its holder keeps it; the price is that a kept copy keeps its whole chunk alive (copy it
 * with `slice()` to keep a small part of a busy stream for long).
 */
export const SLAB_CHUNK_BYTES = 64 * 1024;
/** Larger copies get a buffer of their own: a chunk would hold too few of them to matter. */
const OWN_BUFFER_ABOVE_BYTES = SLAB_CHUNK_BYTES / 4;

/**
 * Where chunks come from. The default zero-fills (`new Uint8Array`); a driver on Node can hand in
 * uninitialized memory (Buffer.allocUnsafeSlow), as Node's own Buffer pool does: every byte handed
 * out is written before it is handed out, so the zero fill is pure cost — at 10 KiB payloads it
 * was a tenth of the process's CPU. (The not-yet-used tail of a chunk stays readable through
 * `payload.buffer`, as with Buffer.allocUnsafe.)
 */
export type ChunkAllocator = (bytes: number) => Uint8Array;

export const zeroFilledChunks: ChunkAllocator = (bytes) => new Uint8Array(bytes);

export class PayloadSlab {
  private chunk: Uint8Array = new Uint8Array(0);
  private used = 0;

  constructor(private readonly allocate: ChunkAllocator = zeroFilledChunks) {}

  /** A copy of `src`, which the caller owns from now on. */
  copy(src: Uint8Array): Uint8Array {
    const out = this.take(src.length);
    out.set(src);
    return out;
  }

  /** A copy of `src` preceded, in the same buffer, by `roomBytes` that belong to it (for a header). */
  copyWithRoom(src: Uint8Array, roomBytes: number): Uint8Array {
    const whole = this.take(roomBytes + src.length);
    const out = whole.subarray(roomBytes);
    out.set(src);
    return out;
  }

  /** A copy of `length` bytes of `src` from `start`, without a temporary view for small runs. */
  copyRange(src: Uint8Array, start: number, length: number): Uint8Array {
    const out = this.take(length);
    if (length <= 64) for (let i = 0; i < length; i++) out[i] = src[start + i];
    else out.set(src.subarray(start, start + length));
    return out;
  }

  /** `length` bytes never handed out before (the caller overwrites all of them). */
  private take(length: number): Uint8Array {
    if (length > OWN_BUFFER_ABOVE_BYTES) return this.allocate(length);
    if (this.used + length > this.chunk.length) {
      this.chunk = this.allocate(SLAB_CHUNK_BYTES);
      this.used = 0;
    }
    const out = this.chunk.subarray(this.used, this.used + length);
    // Keep every copy 8-byte aligned so readers can lay typed views over it.
    this.used += (length + 7) & ~7;
    return out;
  }
}
