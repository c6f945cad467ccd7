#!/usr/bin/env node
/**
 * The `derecho` command: `derecho demo`, `derecho bench <name> ...`, and more as they land.
 * Each subcommand lives in its own module and is loaded only when asked for, so one command's
 * dependencies never slow down another's start.
 */
import { benches } from '../bench/registry.js';

const usage = `usage: derecho <command> [args]

commands:
  demo [name]          run a demo on a local multi-process group: foo-bar (default), kv, iot, fabric
  sim [--membership] --seed N
                       replay one seed of the multicast (or membership) simulator swarm, printing its trace
  bench <name> [args]  run a benchmark (${Object.keys(benches).join(', ') || 'none yet'}); --json for one JSON object
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo': {
      const { runDemo } = await import('./demo.js');
      return runDemo(rest);
    }
    case 'sim': {
      const { runReplay } = await import('../sim/replay.js');
      return runReplay(rest);
    }
    case 'bench': {
      const [name, ...args] = rest;
      const load = name === undefined ? undefined : benches[name];
      if (!load) {
        process.stderr.write(`derecho bench: unknown benchmark ${JSON.stringify(name ?? '')}; one of: ${Object.keys(benches).join(', ')}\n`);
        return 2;
      }
      const bench = await load();
      return bench.run(args);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`derecho: unknown command ${JSON.stringify(command)}\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`derecho: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
