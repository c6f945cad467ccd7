#!/usr/bin/env node
/**
 * `derecho-examples`: the demos and RPC benchmarks that need the examples' replicated classes.
 * Same conventions as `derecho` (--help everywhere, --version, exit 2 with one line for bad usage).
 */
import { main, program, subcommands } from '@derecho-ts/runtime/internals';
import { benches } from './bench/benches.js';

main(
  program('derecho-examples', import.meta.url, {
    demo: { summary: 'a demo on a local multi-process group: foo-bar (default), kv, iot', load: async () => (await import('./demos.js')).demoCommand },
    bench: {
      summary: `an RPC benchmark: ${Object.keys(benches).join(', ')}`,
      load: async () => subcommands('derecho-examples bench', 'RPC benchmarks on local groups of this machine; --json for one JSON object.', benches),
    },
  }),
);
