/**
 * State transfer of a replicated object: what an old shard leader sends a joiner at a view
 * boundary. A class may say how itself, with `snapshotState(): unknown` and
 * `restoreState(state: unknown): void`; otherwise its own enumerable fields are sent, structured
 * (Maps, Sets, Dates, typed arrays, bigints and shared references survive), and assigned onto
 * the joiner's fresh instance.
 */
import { Packr } from 'msgpackr';

// Records for objects and msgpack maps for Maps, so each comes back as what it was.
const packr = new Packr({ structuredClone: true, moreTypes: true, useRecords: true, mapsAsObjects: false });

interface StateHooks {
  snapshotState(): unknown;
  restoreState(state: unknown): void;
}

function hasHooks(instance: object): instance is StateHooks {
  const o = instance as Partial<StateHooks>;
  return typeof o.snapshotState === 'function' && typeof o.restoreState === 'function';
}

export function snapshotReplica(instance: object): Uint8Array {
  const state = hasHooks(instance) ? instance.snapshotState() : { ...instance };
  return packr.pack(state);
}

export function restoreReplica(instance: object, bytes: Uint8Array): void {
  const state = packr.unpack(bytes) as unknown;
  if (hasHooks(instance)) {
    instance.restoreState(state);
    return;
  }
  if (typeof state !== 'object' || state === null) throw new TypeError(`replica state must be an object of fields, got ${state === null ? 'null' : typeof state}`);
  Object.assign(instance, state);
}
