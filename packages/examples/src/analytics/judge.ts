/**
 * Judging the analytics demo's queries against what the store delivered: a query's per-shard
 * counts are consistent when some single instant of the group's clock has exactly those counts in
 * every shard (each shard's count only changes at its deliveries' HLCs).
 */
import type { Delivery, ShardCounts } from './scenario.js';

type Instant = readonly [wallUs: number, logical: number];

function before(a: Instant, b: Instant): boolean {
  return a[0] !== b[0] ? a[0] < b[0] : a[1] < b[1];
}

/** The instants at which shard `deliveries` holds exactly `count` readings: [from, until) (until undefined: still). */
function window(deliveries: readonly Delivery[], count: number): { from: Instant; until: Instant | undefined } | undefined {
  const sorted = [...deliveries].sort((a, b) => (a.wallUs !== b.wallUs ? a.wallUs - b.wallUs : a.logical - b.logical));
  let held = 0;
  let from: Instant = [0, 0];
  for (const d of sorted) {
    if (held === count) return { from, until: [d.wallUs, d.logical] };
    held += d.count;
    from = [d.wallUs, d.logical];
  }
  return held === count ? { from, until: undefined } : undefined;
}

/** Whether one instant explains every shard's count; for a snapshot, whether its own instant does. */
export function consistent(deliveries: readonly (readonly Delivery[])[], query: ShardCounts): boolean {
  const windows = query.counts.map((c, shard) => window(deliveries[shard], c));
  if (windows.some((w) => w === undefined)) return false;
  let from: Instant = [0, 0];
  let until: Instant | undefined;
  for (const w of windows) {
    if (before(from, w!.from)) from = w!.from;
    if (w!.until !== undefined && (until === undefined || before(w!.until, until))) until = w!.until;
  }
  if (until !== undefined && !before(from, until)) return false;
  if (query.atUs === undefined) return true;
  // A snapshot's instant (the end of its microsecond) must itself lie in every window.
  const at: Instant = [query.atUs, 0xffffffff];
  return !before(at, from) && (until === undefined || before(at, until));
}
