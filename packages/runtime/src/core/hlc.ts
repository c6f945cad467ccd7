/**
 * Hybrid logical clock: wall-clock microseconds plus a logical counter that breaks ties and keeps
 * the clock monotone when the wall clock stalls or steps back. Versions carry the HLC of the
 * sender's send time, bumped where needed so HLCs are strictly increasing along a shard's versions.
 *
 * Microseconds fit a double exactly until the year 2255, so plain numbers are used.
 */
export interface Hlc {
  readonly wallUs: number;
  readonly logical: number;
}

export const HLC_ZERO: Hlc = Object.freeze({ wallUs: 0, logical: 0 });

export function hlc(wallUs: number, logical = 0): Hlc {
  if (!Number.isSafeInteger(wallUs) || wallUs < 0) throw new RangeError(`HLC wall time must be a non-negative integer of microseconds, got ${wallUs}`);
  if (!Number.isSafeInteger(logical) || logical < 0) throw new RangeError(`HLC logical counter must be a non-negative integer, got ${logical}`);
  return { wallUs, logical };
}

/** Negative, zero or positive as a is before, equal to, or after b. */
export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wallUs !== b.wallUs ? a.wallUs - b.wallUs : a.logical - b.logical;
}

/**
 * The HLC to stamp on the next event, given the last one stamped and a proposed wall time: the
 * proposed time when it is ahead, otherwise the last one with the logical counter bumped.
 */
export function nextHlc(last: Hlc, proposedWallUs: number): Hlc {
  return proposedWallUs > last.wallUs ? hlc(proposedWallUs, 0) : hlc(last.wallUs, last.logical + 1);
}

/** Merge on receipt of a remote HLC (the standard HLC receive rule), with the local wall time. */
export function mergeHlc(local: Hlc, remote: Hlc, nowWallUs: number): Hlc {
  const wallUs = Math.max(local.wallUs, remote.wallUs, nowWallUs);
  let logical = 0;
  if (wallUs === local.wallUs && wallUs === remote.wallUs) logical = Math.max(local.logical, remote.logical) + 1;
  else if (wallUs === local.wallUs) logical = local.logical + 1;
  else if (wallUs === remote.wallUs) logical = remote.logical + 1;
  return hlc(wallUs, logical);
}

export function formatHlc(t: Hlc): string {
  return `${t.wallUs}+${t.logical}`;
}
