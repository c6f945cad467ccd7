/**
 * State transfer of a replicated object: what an old shard leader sends a joiner at a view
 * boundary. A class may say how itself, with `snapshotState(): unknown` and
 * `restoreState(state: unknown): void`; otherwise its own enumerable fields are sent, structured
 * (Maps, Sets, Dates, typed arrays, bigints and shared references survive), and assigned onto
 * the joiner's fresh instance. Versioned fields (`Persistent`/`Volatile`) are left out: they travel
 * as their logs (see replica-transfer.ts), so `exclude` names them.
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

export function snapshotReplica(instance: object, exclude: readonly string[] = []): Uint8Array {
  if (hasHooks(instance)) return packr.pack(instance.snapshotState());
  const state: Record<string, unknown> = { ...instance };
  for (const name of exclude) delete state[name];
  return packr.pack(state);
}

export function restoreReplica(instance: object, bytes: Uint8Array, exclude: readonly string[] = []): void {
  const state = packr.unpack(bytes) as unknown;
  if (hasHooks(instance)) {
    instance.restoreState(state);
    return;
  }
  if (typeof state !== 'object' || state === null) throw new TypeError(`replica state must be an object of fields, got ${state === null ? 'null' : typeof state}`);
  const fields = state as Record<string, unknown>;
  // A versioned field of the joiner's instance is never replaced by plain data.
  for (const name of exclude) delete fields[name];
  Object.assign(instance, fields);
}
