/**
 * One installed view on the real fabric: the SST as a native region, one RDMC group per sender of
 * each of my shards that can carry large messages, and the multicast core over them. It turns the
 * core's outputs into puts, RDMC sends and delivery callbacks, and feeds it what the fabric polled.
 */
import type { Endpoint, PollResult, RdmcGroup, Region } from '@derecho-ts/rdma-native';
import type { CoreOutput, DeliverOutput, GlobalPersistedOutput, PersistOutput } from '../core/core-io.js';
import { invariant } from '../core/invariant.js';
import type { GroupView } from '../core/membership/group-view.js';
import { viewLayoutFor } from '../core/membership/group-view.js';
import { MulticastCore } from '../core/multicast-core.js';
import { SstLayout } from '../core/sst-layout.js';
import { initializeSstTable } from '../core/sst-table.js';
import { findMyShard, type ViewLayout } from '../core/view.js';

export interface ViewRuntimeHandlers {
  deliver(d: DeliverOutput): void;
  persist?(p: PersistOutput): void;
  globalPersisted?(p: GlobalPersistedOutput): void;
}

const MAX_SUBGROUPS = 1 << 12;
const MAX_SENDERS_PER_SHARD = 1 << 8;

/** RDMC group ids are unique per (view, subgroup, sender) so groups of consecutive views never mix. */
export function rdmcGroupId(vid: number, subgroup: number, senderShardRank: number): number {
  invariant(subgroup < MAX_SUBGROUPS && senderShardRank < MAX_SENDERS_PER_SHARD, 'rdmc group id fits', () => `subgroup ${subgroup}, sender ${senderShardRank}`);
  return (((vid & 0xfff) << 20) | (subgroup << 8) | senderShardRank) >>> 0;
}

interface RdmcRoute {
  readonly subgroup: number;
  readonly senderRow: number;
}

export class ViewRuntime {
  readonly view: GroupView;
  readonly layout: ViewLayout;
  readonly sstLayout: SstLayout;
  private readonly region: Region;
  private readonly rdmcGroups = new Map<number, RdmcGroup>();
  /** My own sending group per subgroup. */
  private readonly mySendGroups = new Map<number, RdmcGroup>();
  private readonly rdmcRoutes = new Map<number, RdmcRoute>();
  private core: MulticastCore | undefined;
  private readonly rowToNode: readonly number[];
  private closed = false;
  /** Sends of this tick, per subgroup (cooked ones under -1 - subgroup). */
  private readonly pendingSends = new Map<number, { subgroup: number; cooked: boolean; payloads: Uint8Array[]; sendWallUs: number }>();
  private flushScheduled = false;

  constructor(
    private readonly endpoint: Endpoint,
    view: GroupView,
    private readonly handlers: ViewRuntimeHandlers,
    private readonly heartbeatIntervalUs: number,
  ) {
    this.view = view;
    this.layout = viewLayoutFor(view, endpoint.nodeId);
    this.sstLayout = SstLayout.forView(this.layout);
    this.rowToNode = this.layout.members;
    // Region and table first, in one synchronous step: no remote write can be applied in between,
    // and nobody pushes before the start barrier says every member got this far.
    this.region = endpoint.createRegion({ regionId: view.vid, rowBytes: this.sstLayout.rowBytes, members: [...this.layout.members] });
    initializeSstTable(this.sstLayout, this.region.buffer, view.vid);
    this.createRdmcGroups();
  }

  private createRdmcGroups(): void {
    for (const [g, sub] of this.view.subgroups.entries()) {
      if (sub.params.maxPayloadBytes <= sub.params.maxSmcPayloadBytes) continue;
      const my = findMyShard(this.layout, g);
      if (!my || my.shard.members.length < 2) continue;
      const members = my.shard.members;
      let senderRank = 0;
      for (let i = 0; i < members.length; i++) {
        if (!my.shard.senders[i]) continue;
        const rotated = [...members.slice(i), ...members.slice(0, i)];
        const groupId = rdmcGroupId(this.view.vid, g, senderRank++);
        const group = this.endpoint.createRdmcGroup({ groupId, members: rotated, blockBytes: sub.params.blockBytes });
        this.rdmcGroups.set(groupId, group);
        this.rdmcRoutes.set(groupId, { subgroup: g, senderRow: this.layout.members.indexOf(members[i]) });
        if (members[i] === this.endpoint.nodeId) this.mySendGroups.set(g, group);
      }
    }
  }

  /** Called when the start barrier releases this view: from now on the core runs. */
  start(): void {
    invariant(this.core === undefined, 'a view starts once', () => `view ${this.view.vid}`);
    this.core = new MulticastCore({ view: this.layout, table: this.region.buffer, heartbeatIntervalUs: this.heartbeatIntervalUs });
    // Writes that peers made after their own start may already be in the table.
    this.run(this.core.onRowsChanged());
  }

  get started(): boolean {
    return this.core !== undefined;
  }

  /** Hands one polled batch to the core: table changes once, then each completed RDMC message. */
  onPoll(result: PollResult): void {
    const core = this.core;
    if (core === undefined || this.closed) return;
    for (const m of result.rdmc) {
      const route = this.rdmcRoutes.get(m.groupId);
      if (route === undefined) continue;
      this.run(core.onRdmcComplete(route.subgroup, route.senderRow, m.data));
    }
    if (result.changed.some((c) => c.regionId === this.view.vid)) this.run(core.onRowsChanged());
  }

  /**
   * Queues a multicast. Sends made in the same tick reach the core together (one `sendBatch` per
   * subgroup at the next microtask), so one push carries many slots instead of one each. A bad
   * payload is refused here, synchronously, before anything is queued.
   */
  send(subgroup: number, payload: Uint8Array, sendWallUs: number, cooked = false): void {
    const core = this.requireCore('send');
    core.checkSend(subgroup, payload, sendWallUs, cooked);
    const key = cooked ? -1 - subgroup : subgroup;
    let batch = this.pendingSends.get(key);
    if (batch === undefined) this.pendingSends.set(key, (batch = { subgroup, cooked, payloads: [], sendWallUs }));
    batch.payloads.push(payload);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flushSends());
    }
  }

  private flushSends(): void {
    this.flushScheduled = false;
    if (this.core === undefined || this.closed) return;
    const batches = [...this.pendingSends.values()];
    this.pendingSends.clear();
    for (const b of batches) this.run(this.core.sendBatch(b.subgroup, b.payloads, b.sendWallUs, b.cooked));
  }

  tick(nowUs: number): void {
    if (this.core && !this.closed) this.run(this.core.tick(nowUs));
  }

  /** Sends not yet published: waiting for the next flush or for a window slot. */
  queuedSends(subgroup: number): number {
    const pending = (this.pendingSends.get(subgroup)?.payloads.length ?? 0) + (this.pendingSends.get(-1 - subgroup)?.payloads.length ?? 0);
    return pending + (this.core?.queuedSends(subgroup) ?? 0);
  }

  /** Whether this node is a member of some shard of `subgroup` in this view. */
  isMember(subgroup: number): boolean {
    return findMyShard(this.layout, subgroup) !== undefined;
  }

  private requireCore(what: string): MulticastCore {
    if (this.core === undefined) throw new Error(`${what}: view ${this.view.vid} has not started yet`);
    if (this.closed) throw new Error(`${what}: view ${this.view.vid} is closed`);
    return this.core;
  }

  private run(outputs: readonly CoreOutput[]): void {
    for (const o of outputs) {
      switch (o.kind) {
        case 'push':
          this.region.put(o.ranges.map((r) => [r.offset, r.length] as const), o.targets.map((r) => this.rowToNode[r]), { completion: o.withCompletion });
          break;
        case 'rdmcSend': {
          const group = this.mySendGroups.get(o.subgroup);
          if (group === undefined) {
            // A singleton shard: RDMC to nobody but me completes at once.
            invariant(o.groupRows.length === 1, 'an RDMC send has a group', () => `subgroup ${o.subgroup} rows ${o.groupRows.join(',')}`);
            queueMicrotask(() => {
              if (this.core && !this.closed) this.run(this.core.onRdmcComplete(o.subgroup, this.layout.myRank, o.message));
            });
          } else {
            group.send(o.message);
          }
          break;
        }
        case 'deliver':
          this.handlers.deliver(o);
          break;
        case 'persist':
          if (this.handlers.persist) this.handlers.persist(o);
          else this.run(this.core!.persisted(o.subgroup, o.version));
          break;
        case 'globalPersisted':
          this.handlers.globalPersisted?.(o);
          break;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const g of this.rdmcGroups.values()) g.destroy();
    this.region.close();
  }
}
