/**
 * The fabric resources of one view: its SST as a fabric region (region id = vid, so writes of
 * different views never mix) and one RDMC group per sender of each of my shards that can carry
 * large messages. A new view gets new resources; the old ones are closed once it is installed.
 */
import { invariant } from '../core/invariant.js';
import { viewLayoutFor, type GroupView } from '../core/membership/group-view.js';
import { SstLayout } from '../core/sst-layout.js';
import { initializeSstTable } from '../core/sst-table.js';
import { findMyShard, type ViewLayout } from '../core/view.js';
import type { Fabric, FabricRdmcGroup, FabricRegion } from '../io/fabric.js';

const MAX_SUBGROUPS = 1 << 12;
const MAX_SENDERS_PER_SHARD = 1 << 8;

/** RDMC group ids are unique per (view, subgroup, sender) so groups of consecutive views never mix. */
export function rdmcGroupId(vid: number, subgroup: number, senderShardRank: number): number {
  invariant(subgroup < MAX_SUBGROUPS && senderShardRank < MAX_SENDERS_PER_SHARD, 'rdmc group id fits', () => `subgroup ${subgroup}, sender ${senderShardRank}`);
  return (((vid & 0xfff) << 20) | (subgroup << 8) | senderShardRank) >>> 0;
}

export interface RdmcRoute {
  readonly subgroup: number;
  readonly senderRow: number;
}

export class ViewFabric {
  readonly layout: ViewLayout;
  readonly sstLayout: SstLayout;
  readonly region: FabricRegion;
  /** Node id of each SST row. */
  readonly rowToNode: readonly number[];
  private readonly rdmcGroups = new Map<number, FabricRdmcGroup>();
  /** My own sending group per subgroup. */
  private readonly mySendGroups = new Map<number, FabricRdmcGroup>();
  private readonly routes = new Map<number, RdmcRoute>();
  private closed = false;

  constructor(
    private readonly fabric: Fabric,
    readonly view: GroupView,
  ) {
    this.layout = viewLayoutFor(view, fabric.nodeId);
    this.sstLayout = SstLayout.forView(this.layout);
    this.rowToNode = this.layout.members;
    // The table is initialized before the region exists and handed over as its initial contents:
    // writes that faster members already pushed for this view are applied on top of it.
    const initial = new ArrayBuffer(this.sstLayout.tableBytes);
    initializeSstTable(this.sstLayout, initial, view.vid);
    this.region = fabric.createRegion({ regionId: view.vid, rowBytes: this.sstLayout.rowBytes, members: [...this.layout.members], initialContents: new Uint8Array(initial) });
    this.createRdmcGroups();
  }

  get vid(): number {
    return this.view.vid;
  }

  get table(): ArrayBuffer {
    return this.region.buffer;
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
        const group = this.fabric.createRdmcGroup({ groupId, members: rotated, blockBytes: sub.params.blockBytes });
        this.rdmcGroups.set(groupId, group);
        this.routes.set(groupId, { subgroup: g, senderRow: this.layout.members.indexOf(members[i]) });
        if (members[i] === this.fabric.nodeId) this.mySendGroups.set(g, group);
      }
    }
  }

  /** Which subgroup and sender a completed RDMC message of this view belongs to. */
  route(groupId: number): RdmcRoute | undefined {
    return this.routes.get(groupId);
  }

  /** My sending group of `subgroup`, or undefined for a singleton shard. */
  sendGroup(subgroup: number): FabricRdmcGroup | undefined {
    return this.mySendGroups.get(subgroup);
  }

  /** Writes byte ranges of my row to the rows (ranks) `targets`. */
  put(ranges: readonly { offset: number; length: number }[], targets: readonly number[], completion: boolean): void {
    this.region.put(
      ranges.map((r) => [r.offset, r.length] as const),
      targets.map((r) => this.rowToNode[r]),
      { completion },
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const g of this.rdmcGroups.values()) g.destroy();
    this.region.close();
  }
}
