/** The RPC benchmarks of the examples, run by `derecho-examples bench <name>`; each loads only when asked for. */
import type { Subcommand } from '@derecho-ts/runtime/internals';

export const benches: Readonly<Record<string, Subcommand>> = {
  typed: { summary: "ordered RPC throughput (Derecho's typed_subgroup_bw_test)", load: async () => (await import('./typed.js')).typed },
  'p2p-latency': { summary: "round trip of a blocking p2p call (Derecho's p2p_latency_test)", load: async () => (await import('./p2p-latency.js')).p2pLatency },
  'durable-kv': { summary: 'what durability costs: DurableKV puts with and without fsync', load: async () => (await import('./durable-kv.js')).durableKv },
};
