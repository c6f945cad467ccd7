#!/usr/bin/env node
/**
 * Reruns one swarm seed deterministically and prints its scenario and trace:
 *   node --conditions=@derecho-ts/source --import tsx packages/runtime/src/sim/replay.ts --seed N [--quiet]
 * With --membership, a seed of the membership swarm (crashes, joins, leaves, partitions, view changes).
 * Exit code 0 when the seed passes, 1 when it fails (the failure is printed last).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMembershipScenario, generateMembershipScenario, runMembershipSeed } from './membership-swarm.js';
import { describeScenario, generateScenario, runSwarmSeed } from './swarm.js';

function parseArgs(argv: string[]): { seed: number; quiet: boolean; membership: boolean } {
  let seed: number | undefined;
  let quiet = false;
  let membership = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seed') seed = Number(argv[++i]);
    else if (argv[i].startsWith('--seed=')) seed = Number(argv[i].slice('--seed='.length));
    else if (argv[i] === '--quiet') quiet = true;
    else if (argv[i] === '--membership') membership = true;
    else throw new Error(`replay: unknown argument ${JSON.stringify(argv[i])}; usage: replay.ts [--membership] --seed N [--quiet]`);
  }
  if (seed === undefined || !Number.isSafeInteger(seed)) throw new Error(`replay: --seed must be an integer, got ${String(seed)}`);
  return { seed, quiet, membership };
}

/** `derecho sim --seed N [--quiet]` and this script: replays one seed, returns the exit code. */
export function runReplay(argv: string[]): number {
  const { seed, quiet, membership } = parseArgs(argv);
  if (membership) return replayMembership(seed, quiet);
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
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = runReplay(process.argv.slice(2));
