#!/usr/bin/env node
/**
 * The `derecho` command. Each subcommand lives in its own module and is loaded only when asked
 * for, so one command's dependencies never slow down another's start. Every command follows
 * cli/command.ts: --help, strict options, exit 2 with one line for bad usage.
 */
import { main, program, subcommands } from './command.js';
import { benches, EXAMPLES_BENCHES } from '../bench/registry.js';

const benchCommand = subcommands(
  'derecho bench',
  'Benchmarks on this machine; most print figures beside the machine limit measured in the same run, --json for one JSON object.\n' +
    `The RPC benchmarks (${EXAMPLES_BENCHES.join(', ')}) are in the examples package: derecho-examples bench <name>.`,
  benches,
  Object.fromEntries(EXAMPLES_BENCHES.map((name) => [name, `${name} is a benchmark of the examples package: run derecho-examples bench ${name} (from @derecho-ts/examples)`])),
);

main(
  program(
    'derecho',
    import.meta.url,
    {
      init: { summary: 'write a new application project (a @Replicated class, codegen, three local members)', load: async () => (await import('./init-command.js')).initCommand },
      demo: { summary: 'the data-plane demo on 3 local processes', load: async () => (await import('./demo.js')).demoCommand },
      sim: { summary: 'replay one seed of the multicast (or --membership) simulator swarm, printing its trace', load: async () => (await import('../sim/replay.js')).simCommand },
      bench: { summary: `run a benchmark: ${Object.keys(benches).join(', ')}`, load: async () => benchCommand },
      status: { summary: 'show a running group as one member sees it (--contact <its HTTP host:port>)', load: async () => (await import('./status-command.js')).statusCommand },
      'config-schema': { summary: 'print the JSON Schema of cluster.json (for editors)', load: async () => (await import('./config-schema.js')).configSchemaCommand },
    },
    'The replicated-object demos and the RPC benchmarks need the examples: derecho-examples demo|bench (npm start runs the foo-bar demo).',
  ),
);
