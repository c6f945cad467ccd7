/**
 * State transfer of a replica to a joiner: its plain fields (or its snapshotState()), the
 * whole retained log of each versioned field and its table of exactly-once call replies, so the joiner ends with the same values and the
 * same version history as the shard member that sent it.
 */
import { Packr } from 'msgpackr';
import type { Replica } from './replica-host.js';
import { restoreReplica, snapshotReplica } from './replica-state.js';

const transferPackr = new Packr({ useRecords: false, mapsAsObjects: true });

/** The state of `replica` for a joiner. */
export function transferState(replica: Replica): Uint8Array {
  const versioned = replica.versions?.registry.fieldNames ?? [];
  return transferPackr.pack({ fields: snapshotReplica(replica.instance, versioned), versions: replica.versions?.serialize() ?? null, dedup: replica.dedup.serialize() });
}

/** Restores `state` (from `transferState` at the old shard leader) into the joiner's fresh `replica` of `subgroupId`. */
export function installTransferredState(replica: Replica, subgroupId: number, state: Uint8Array): void {
  const transfer = transferPackr.unpack(state) as { fields?: unknown; versions?: unknown; dedup?: unknown } | null;
  if (typeof transfer !== 'object' || transfer === null || !(transfer.fields instanceof Uint8Array)) throw new TypeError(`the state transferred for ${replica.className} subgroup ${subgroupId} is not a replica state`);
  restoreReplica(replica.instance, transfer.fields, replica.versions?.registry.fieldNames ?? []);
  // The replies of exactly-once calls travel with the state they produced.
  if (transfer.dedup instanceof Uint8Array) replica.dedup.restore(transfer.dedup);
  const versions = transfer.versions;
  if (versions instanceof Uint8Array) {
    if (replica.versions === undefined) throw new Error(`the state transferred for ${replica.className} subgroup ${subgroupId} carries versioned fields, but this node's replica has none (different builds?)`);
    replica.versions.restore(versions);
  } else if (replica.versions !== undefined) {
    throw new Error(`the state transferred for ${replica.className} subgroup ${subgroupId} carries no versioned fields, but this node's replica has ${replica.versions.registry.fieldNames.join(', ')} (different builds?)`);
  }
}
