/**
 * The benchmarks `derecho bench <name>` knows. Each entry loads a module whose `run(args)` parses
 * its own arguments, prints its figures (or one JSON object with --json) and returns an exit code.
 */
export interface BenchModule {
  run(args: string[]): Promise<number>;
}

export const benches: Record<string, () => Promise<BenchModule>> = {
  bandwidth: async () => (await import('./bench-multicast.js')).bandwidth,
  latency: async () => (await import('./bench-multicast.js')).latency,
  fabric: () => import('./bench-fabric.js'),
  log: () => import('./bench-log.js'),
};
