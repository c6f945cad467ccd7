/**
 * Delta persistence: instead of a full copy of the value at every version, a type can log only
 * what changed since the previous version. The log writes a full checkpoint every
 * `checkpointEvery` versions so reading an old version replays at most that many deltas.
 */

/** Implemented by a value class that tracks its own changes. */
export interface DeltaSupport {
  /** The changes since the last call (an empty array when nothing changed), and start a new delta. */
  takeDelta(): Uint8Array;
  /** Apply a delta produced by `takeDelta` on an object in the state it was taken from. */
  applyDelta(delta: Uint8Array): void;
}

/** The same contract as a pair of functions, for values that cannot carry methods (a Map, say). */
export interface DeltaForm<T> {
  take(value: T): Uint8Array;
  apply(value: T, delta: Uint8Array): void;
}

export function hasDeltaSupport(value: unknown): value is DeltaSupport {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<DeltaSupport>;
  return typeof candidate.takeDelta === 'function' && typeof candidate.applyDelta === 'function';
}

/** The DeltaForm that calls a DeltaSupport value's own methods. */
export function methodDeltaForm<T extends DeltaSupport>(): DeltaForm<T> {
  return {
    take: (value) => value.takeDelta(),
    apply: (value, delta) => value.applyDelta(delta),
  };
}
