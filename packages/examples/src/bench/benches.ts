/** The RPC benchmarks, run by `derecho bench typed|p2p-latency|durable-kv` (registered in the runtime's cli/benches.ts). */
export const benches: Readonly<Record<string, () => Promise<{ run(args: string[]): Promise<number> }>>> = {
  typed: () => import('./typed.js'),
  'p2p-latency': () => import('./p2p-latency.js'),
  'durable-kv': () => import('./durable-kv.js'),
};
