#!/usr/bin/env node
/**
 * Reruns one swarm seed deterministically and prints its scenario and trace:
 *   node --conditions=@derecho-ts/source --import tsx packages/runtime/src/sim/replay.ts --seed N [--quiet]
 * With --membership, a seed of the membership swarm (crashes, joins, leaves, partitions, view changes).
 * Exit code 0 when the seed passes, 1 when it fails (the failure is printed last), 2 bad usage.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intValue, parseCommand, printUsage, runCommand, UsageError, type Command } from '../cli/command.js';
import { describeMembershipScenario, generateMembershipScenario, runMembershipSeed } from './membership-swarm.js';
import { describeScenario, generateScenario, runSwarmSeed } from './swarm.js';

const USAGE = `usage: derecho sim [--membership] --seed N [--quiet]
  Reruns one seed of the simulator swarm deterministically and prints its scenario and trace.
  --seed N        the seed to replay (a failing swarm run prints it)
  --membership    a seed of the membership swarm (crashes, joins, leaves, partitions, view changes)
                  instead of the multicast swarm
  --quiet         print the scenario and the verdict only, not the trace
exit codes: 0 the seed passes, 1 it fails (the failure is printed last), 2 usage error
`;

function run(argv: string[]): number {
  const parsed = parseCommand(argv, { seed: { type: 'string' }, quiet: { type: 'boolean' }, membership: { type: 'boolean' } });
  if (parsed === undefined) return printUsage({ usage: USAGE });
  const { values } = parsed;
  if (values.seed === undefined) throw new UsageError('missing --seed N');
  const seed = intValue(values.seed, '--seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  return values.membership === true ? replayMembership(seed, values.quiet === true) : replayMulticast(seed, values.quiet === true);
}

/** `derecho sim` (and this file run as a script): replays one seed, returns the exit code. */
export const simCommand: Command = { name: 'derecho sim', usage: USAGE, run };

function replayMulticast(seed: number, quiet: boolean): number {
  process.stdout.write(describeScenario(generateScenario(seed)) + '\n');
  try {
    const r = runSwarmSeed(seed, { trace: quiet ? undefined : (line) => process.stdout.write(line + '\n') });
    process.stdout.write(`PASS seed ${seed}: ${r.sends} sends, ${r.deliveries} deliveries, ${r.events} events, ${r.pushes} pushes, ${r.rdmcSends} RDMC sends, ${r.virtualUs}us virtual\n`);
    return 0;
  } catch (e) {
    process.stdout.write(`FAIL ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

function replayMembership(seed: number, quiet: boolean): number {
  process.stdout.write(describeMembershipScenario(generateMembershipScenario(seed)) + '\n');
  try {
    const r = runMembershipSeed(seed, { trace: quiet ? undefined : (line) => process.stdout.write(line + '\n') });
    process.stdout.write(
      `PASS membership seed ${seed}: ${r.installs} installs (max vid ${r.maxVid}), ${r.deliveries} deliveries, ${r.joinerStarts} joiners started, ` +
        `shutdowns ${JSON.stringify(r.shutdowns)}, ${r.inadequateReports} inadequate reports, ${r.events} events, ${r.virtualUs}us virtual\n`,
    );
    return 0;
  } catch (e) {
    process.stdout.write(`FAIL ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

// Run as a script (not when imported by the CLI).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void runCommand(simCommand, process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
