import type { NativeEndpoint } from './addon.js';
import { EndpointClosedError } from './errors.js';
import type { ByteRange, PutOptions } from './types.js';

/**
 * A registered memory region: the SST table (one row per member). `buffer` is the local copy of
 * every row; this node writes only its own row (`myRow`) and pushes byte ranges of it with put().
 * Remote writes land in the other rows only inside Endpoint.poll(), on the JS thread.
 */
export class Region {
  readonly buffer: ArrayBuffer;
  readonly myRow: number;
  private closed = false;
  private readonly others: number[];

  /** @internal created by Endpoint.createRegion */
  constructor(
    private readonly native: NativeEndpoint,
    readonly regionId: number,
    readonly rowBytes: number,
    readonly members: readonly number[],
    buffer: ArrayBuffer,
    myRow: number,
    private readonly onBatched: () => void,
  ) {
    this.buffer = buffer;
    this.myRow = myRow;
    this.others = members.filter((_, i) => i !== myRow);
  }

  /** A view of row `index` (zero-copy). */
  row(index: number): Uint8Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.members.length)
      throw new RangeError(`row index must be 0..${this.members.length - 1}, got ${index}`);
    return new Uint8Array(this.buffer, index * this.rowBytes, this.rowBytes);
  }

  /** A view of this node's own row: write here, then put() the changed ranges. */
  ownRow(): Uint8Array {
    return this.row(this.myRow);
  }

  /** The row owned by node `nodeId`. */
  rowOf(nodeId: number): Uint8Array {
    const i = this.members.indexOf(nodeId);
    if (i < 0) throw new RangeError(`node ${nodeId} owns no row in region ${this.regionId}`);
    return this.row(i);
  }

  /**
   * Copies these ranges of my row, as they are now, into the same offsets of the targets' copies
   * (default: every other member). Writes from one writer are applied in issue order, so a reader
   * that sees a later put also sees every earlier one.
   */
  put(ranges: readonly ByteRange[], targets: readonly number[] = this.others, options: PutOptions = {}): void {
    if (this.closed) throw new EndpointClosedError(`put on region ${this.regionId}`);
    if (this.native.put(this.regionId, ranges, targets, options.completion === true)) this.onBatched();
  }

  /** Releases the region; later writes addressed to it are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.closeRegion(this.regionId);
  }
}
