/** p50 and p99 of a benchmark's timed samples, in microseconds. */
export interface Latency {
  p50Us: number;
  p99Us: number;
}

/** Sorts `samplesNs` (nanoseconds) in place and reads its p50 and p99 in microseconds. */
export function percentiles(samplesNs: Float64Array): Latency {
  samplesNs.sort();
  const at = (q: number): number => samplesNs[Math.min(samplesNs.length - 1, Math.floor(q * samplesNs.length))] / 1000;
  return { p50Us: at(0.5), p99Us: at(0.99) };
}
