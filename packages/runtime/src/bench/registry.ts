/**
 * The benchmarks `derecho bench <name>` knows. Each entry loads a module whose `run(args)` parses
 * its own arguments, prints its figures (or one JSON object with --json) and returns an exit code.
 */
export interface BenchModule {
  run(args: string[]): Promise<number>;
}

interface ExamplesBenches {
  readonly benches: Readonly<Record<string, () => Promise<BenchModule>>>;
}

// The RPC benchmarks need a replicated class with a generated schema, so they live with the
// examples (which depend on the runtime); loaded by name at run time, never at compile time.
const EXAMPLES = '@derecho-ts/examples';
const fromExamples = (name: string) => async (): Promise<BenchModule> => ((await import(EXAMPLES)) as ExamplesBenches).benches[name]();

export const benches: Record<string, () => Promise<BenchModule>> = {
  bandwidth: async () => (await import('./multicast.js')).bandwidth,
  latency: async () => (await import('./multicast.js')).latency,
  fabric: () => import('./fabric.js'),
  log: () => import('./log.js'),
  viewchange: () => import('./viewchange.js'),
  typed: fromExamples('typed'),
  'p2p-latency': fromExamples('p2p-latency'),
  'durable-kv': fromExamples('durable-kv'),
};
