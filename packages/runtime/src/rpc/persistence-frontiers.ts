/**
 * The persistence frontiers of the persistent subgroups this node holds a replica of, wired to
 * the core: the core's `persist` output asks a replica's log for a group commit (or is answered
 * at once when there is nothing to write), durability goes back to the core as `persisted`, and
 * both frontiers resolve the callers' localPersistence() / globalPersistence() waits.
 */
import type { GroupView } from '../core/membership/group-view.js';
import type { Version } from '../core/version.js';
import { PersistenceFrontier } from './persistence-frontier.js';
import type { ReplicaVersions } from './replica-versions.js';
import type { RpcTransport } from './rpc-transport.js';

export class PersistenceFrontiers {
  private readonly frontiers = new Map<number, PersistenceFrontier>();

  constructor(private readonly transport: RpcTransport) {}

  /** This node now holds a replica of the persistent subgroup `subgroupId`. */
  open(subgroupId: number): void {
    this.frontiers.set(subgroupId, new PersistenceFrontier(subgroupId));
  }

  /** The frontier of `subgroupId`, or undefined when it is not a persistent subgroup this node holds. */
  get(subgroupId: number): PersistenceFrontier | undefined {
    return this.frontiers.get(subgroupId);
  }

  /** This node's log of `subgroupId` is durable through `version`: tell the core and the waiting callers. */
  persisted(subgroupId: number, version: Version): void {
    this.transport.persisted?.(subgroupId, version);
    this.frontiers.get(subgroupId)?.advanceLocal(version);
  }

  /** This node cannot make `subgroupId` durable: its waits reject and the core hears it must leave. */
  failed(subgroupId: number, failure: Error): void {
    this.frontiers.get(subgroupId)?.fail(failure);
    this.transport.persistenceFailed?.(subgroupId, failure);
  }

  /**
   * The core asks for `subgroupId` to be made durable through `version` (its `persist` output).
   * A replica with Persistent fields on disk runs a group commit and answers when it is done;
   * anything else has nothing to write and answers at once.
   */
  onPersist(subgroupId: number, version: Version, versions: ReplicaVersions | undefined): void {
    if (versions !== undefined && versions.durable) {
      versions.requestPersist(version);
      return;
    }
    this.persisted(subgroupId, version);
  }

  /** Every member of my shard of `subgroupId` persisted through `version` (the core's globalPersisted). */
  onGlobalPersisted(subgroupId: number, version: Version): void {
    this.frontiers.get(subgroupId)?.advanceGlobal(version);
  }

  /**
   * The previous view ended only once its trimmed prefix was persisted at every member that
   * carries on (view-manager install()): its versions are globally persisted now, even if the
   * old view's frontier never said so (a failed member held it back).
   */
  viewStarted(view: GroupView): void {
    if (view.vid <= 0) return;
    const beforeThisView = (BigInt(view.vid) << 32n) - 1n;
    for (const frontier of this.frontiers.values()) frontier.advanceGlobal(beforeThisView);
  }

  /** This node leaves: every wait still open rejects with `error`. */
  close(error: Error): void {
    for (const frontier of this.frontiers.values()) frontier.fail(error);
  }
}
