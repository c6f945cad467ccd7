/**
 * What the RPC layer needs from the group: who this node is, the installed view, and the ways to
 * send. Every part of the layer talks to the group through it, so none holds a socket itself.
 */
import type { GroupView } from '../core/membership/group-view.js';
import type { Version } from '../core/version.js';
import type { Logger } from '../util/logger.js';

export interface RpcTransport {
  readonly nodeId: number;
  readonly channel: number;
  readonly log: Logger;
  /** The installed view, or undefined between views. */
  view(): GroupView | undefined;
  /** Cooked multicast to my shard of `subgroupId` (queued by the core when the window is full). The engine never writes `payload` again. */
  multicast(subgroupId: number, payload: Uint8Array): void;
  sendP2P(to: number, chunks: readonly Uint8Array[]): void;
  /** Drops the connection to a misbehaving peer, with a log line naming why. */
  dropPeer(peer: number, why: string): void;
  /** Tells the core this node's log of `subgroupId` is durable through `version` (its `persisted` input). */
  persisted?(subgroupId: number, version: Version): void;
  /**
   * The stability frontier (wall-clock µs) of this node's shard of `subgroupId`: no version with
   * an earlier HLC can still be delivered here (historical reads as of an instant before it are
   * final even when the object has been quiet since). Undefined when unknown.
   */
  stabilityFrontierUs?(subgroupId: number): number | undefined;
  /** This node can no longer make `subgroupId` durable (its disk failed): it must leave. */
  persistenceFailed?(subgroupId: number, error: Error): void;
}
