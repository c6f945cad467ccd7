import type { NativeEndpoint } from './addon.js';
import { EndpointClosedError, FabricError } from './errors.js';

/**
 * One RDMC group: members[0] sends, everyone receives each message once through poll() as an
 * RdmcMessage. Messages are split into `blockBytes` blocks and spread by a binomial pipeline.
 * One message is in flight per group; further sends queue in order (per-sender FIFO).
 */
export class RdmcGroup {
  private destroyed = false;

  /** @internal created by Endpoint.createRdmcGroup */
  constructor(
    private readonly native: NativeEndpoint,
    readonly groupId: number,
    readonly members: readonly number[],
    readonly blockBytes: number,
    readonly isSender: boolean,
  ) {}

  /**
   * Multicasts `data` (any size, 0 bytes and up). Zero-copy: the bytes are read in place while the
   * message is in flight, so do not modify `data` until its own RdmcMessage comes back from poll().
   */
  send(data: Uint8Array): void {
    if (this.destroyed) throw new EndpointClosedError(`send on rdmc group ${this.groupId}`);
    if (!this.isSender) throw new FabricError(`only node ${this.members[0]} sends in rdmc group ${this.groupId}`);
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    this.native.rdmcSend(this.groupId, data);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.native.destroyRdmcGroup(this.groupId);
  }
}
