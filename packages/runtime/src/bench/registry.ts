/**
 * The benchmarks `derecho bench <name>` runs. Each loads only when asked for. The RPC benchmarks
 * need replicated classes with a generated schema, so they live in @derecho-ts/examples and run
 * from its own command (`derecho-examples bench ...`): the runtime never loads the examples.
 */
import type { Subcommand } from '../cli/command.js';

export const benches: Readonly<Record<string, Subcommand>> = {
  bandwidth: { summary: "multicast throughput (Derecho's bandwidth_test arguments)", load: async () => (await import('./multicast.js')).bandwidth },
  latency: { summary: "multicast send-to-delivery latency (Derecho's latency_test arguments)", load: async () => (await import('./multicast.js')).latency },
  fabric: { summary: 'the native data plane (SST puts, RDMC) against raw TCP on loopback', load: async () => (await import('./fabric.js')).fabric },
  history: { summary: 'historical reads of a whole object (at / asOf) against a live read', load: async () => (await import('./history.js')).historyBench },
  log: { summary: 'the versioned log store on this disk: durable versions/s, reads, recovery', load: async () => (await import('./log.js')).log },
  viewchange: { summary: 'kill -9 to new view, and join to first delivery, on local groups', load: async () => (await import('./viewchange.js')).viewchange },
  core: { summary: 'the multicast core alone in the simulator (CPU cost of the protocol)', load: async () => (await import('./core-sim.js')).core },
  membership: { summary: 'the view manager per step, and the membership swarm speed', load: async () => (await import('./membership-sim.js')).membership },
};

/** Benchmarks of the examples package: `derecho bench <name>` says where they are. */
export const EXAMPLES_BENCHES = ['typed', 'p2p-latency', 'durable-kv'] as const;
