/**
 * The native endpoint (rdma-native) as the shell's Fabric port. Batches are the endpoint's poll
 * results as they are (no copy on the hot path); the rest renames.
 */
import { ANY_NODE, type Endpoint } from '@derecho-ts/rdma-native';
import type { Fabric, FabricBatch, FabricRdmcGroup, FabricRdmcGroupOptions, FabricRegion, FabricRegionOptions } from '../io/fabric.js';

export class EndpointFabric implements Fabric {
  readonly unknownPeer = ANY_NODE;

  constructor(readonly endpoint: Endpoint) {}

  get nodeId(): number {
    return this.endpoint.nodeId;
  }

  dialAddress(host: string, port: number): void {
    this.endpoint.connectAny(host, port);
  }

  connect(nodeId: number, host: string, port: number): void {
    this.endpoint.connect(nodeId, host, port);
  }

  isConnected(nodeId: number): boolean {
    return this.endpoint.connectedPeers().includes(nodeId);
  }

  sendP2P(nodeId: number, data: Uint8Array | readonly Uint8Array[]): void {
    this.endpoint.sendP2P(nodeId, data);
  }

  failPeer(nodeId: number, reason: string, options: { readonly routine: boolean }): void {
    this.endpoint.failPeer(nodeId, reason, options);
  }

  createRegion(options: FabricRegionOptions): FabricRegion {
    return this.endpoint.createRegion(options);
  }

  createRdmcGroup(options: FabricRdmcGroupOptions): FabricRdmcGroup {
    return this.endpoint.createRdmcGroup(options);
  }

  onBatch(listener: (batch: FabricBatch) => void): void {
    this.endpoint.onPoll(listener);
  }

  close(): void {
    this.endpoint.close();
  }
}
