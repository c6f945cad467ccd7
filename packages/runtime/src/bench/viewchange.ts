/**
 * `derecho bench viewchange [--sizes 3,5,8] [--reps N] [--json]`: for groups of each size on this
 * machine, the time from `kill -9` of a member to the new view installed at every survivor, and
 * from a joiner's join call to its first delivery (empty state), as p50 and max over repetitions.
 */
import { randomBytes } from 'node:crypto';
import { childScriptArgs } from '@derecho-ts/rdma-native';
import { intValue, parseCommand, printUsage, type Command } from '../cli/command.js';
import { spawnLineProcess, type LineProcess } from './line-process.js';
import { freeLoopbackPorts } from './local-ports.js';
import { percentile } from './loopback-limits.js';
import type { ViewChangeMemberTask } from './viewchange-member.js';

const HEARTBEAT_MS = 20;
const FAILURE_TIMEOUT_MS = 500;

interface Proc extends LineProcess {
  readonly id: number;
}

function startMember(id: number, ports: readonly number[], secret: string, task: Omit<ViewChangeMemberTask, 'config'>): Proc {
  const script = childScriptArgs(import.meta.url, './viewchange-member');
  const config = {
    cluster: { secret, contact: `127.0.0.1:${ports[0]}` },
    node: { id, host: '127.0.0.1', port: ports[id] },
    failure: { heartbeatMs: HEARTBEAT_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS },
    logging: { level: 'error' },
  };
  const env = { ...process.env, DERECHO_MEMBER_TASK: JSON.stringify({ ...task, config }) };
  return { id, ...spawnLineProcess(`node ${id}`, script.command, script.args, env, 'ignore', 'ignore') };
}

/** One repetition for a group of n: returns [failure-to-view ms, join-to-first-delivery ms]. */
async function repetition(n: number): Promise<{ failureMs: number; joinMs: number }> {
  const ports = await freeLoopbackPorts(n + 1);
  const secret = randomBytes(16).toString('hex');
  const procs: Proc[] = [];
  try {
    for (let id = 0; id < n; id++) procs.push(startMember(id, ports, secret, { initialMembers: n, maxMembers: n + 1, late: false, sendEveryMs: 5 }));
    await Promise.all(procs.map((p) => p.waitLine((l) => l.startsWith('READY'), 60_000, 'READY')));
    // Failure: kill the last member; every survivor must install view 1.
    const victim = procs[n - 1];
    const killedAt = performance.timeOrigin + performance.now();
    victim.child.kill('SIGKILL');
    const survivors = procs.slice(0, n - 1);
    const viewTimes = await Promise.all(survivors.map((p) => p.waitLine((l) => l.startsWith('VIEW 1 '), 20_000, 'view 1').then((l) => Number(l.split(' ')[2]))));
    const failureMs = Math.max(...viewTimes) - killedAt;
    // Join: a new member joins the running group (empty state) and waits for its first delivery.
    const joiner = startMember(n, ports, secret, { initialMembers: n, maxMembers: n + 1, late: true, sendEveryMs: 5 });
    procs.push(joiner);
    const start = Number((await joiner.waitLine((l) => l.startsWith('JOINSTART'), 30_000, 'JOINSTART')).split(' ')[1]);
    const firstAt = Number((await joiner.waitLine((l) => l.startsWith('FIRST'), 30_000, 'first delivery')).split(' ')[1]);
    return { failureMs, joinMs: firstAt - start };
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
}

const USAGE = `usage: derecho bench viewchange [--sizes 3,5,8] [--reps N] [--json]
  For groups of each size on this machine: kill -9 of a member to the new view at every survivor,
  and a joiner's join call to its first delivery, as p50 and max over the repetitions.
  --sizes LIST  group sizes, comma-separated, each 2 to 16 (default 3,5,8)
  --reps N      repetitions per size, 1 to 100 (default 5)
  --json        print one JSON object instead of text
`;

async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, { sizes: { type: 'string' }, reps: { type: 'string' }, json: { type: 'boolean' } });
  if (parsed === undefined) return printUsage({ usage: USAGE });
  const sizes = (parsed.values.sizes ?? '3,5,8').split(',').map((s) => intValue(s, '--sizes entry', 2, 16));
  const reps = intValue(parsed.values.reps, '--reps', 1, 100, 5);
  const json = parsed.values.json === true;
  const rows = [];
  for (const n of sizes) {
    const failures: number[] = [];
    const joins: number[] = [];
    for (let r = 0; r < reps; r++) {
      const { failureMs, joinMs } = await repetition(n);
      failures.push(failureMs);
      if (process.env.DERECHO_BENCH_DEBUG) process.stderr.write(`n=${n} rep ${r}: failure ${failureMs.toFixed(1)} ms, join ${joinMs.toFixed(1)} ms\n`);
      joins.push(joinMs);
    }
    failures.sort((a, b) => a - b);
    joins.sort((a, b) => a - b);
    rows.push({
      members: n,
      repetitions: reps,
      failureToViewP50Ms: percentile(failures, 50),
      failureToViewMaxMs: failures[failures.length - 1],
      joinToFirstDeliveryP50Ms: percentile(joins, 50),
      joinToFirstDeliveryMaxMs: joins[joins.length - 1],
    });
  }
  const figures = { benchmark: 'viewchange', heartbeatMs: HEARTBEAT_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS, rows };
  if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
  else {
    process.stdout.write(`view changes on local groups (heartbeat ${HEARTBEAT_MS} ms, failure timeout ${FAILURE_TIMEOUT_MS} ms; target: failure-to-view within the timeout + 100 ms, join-to-first-delivery under 500 ms)\n`);
    process.stdout.write('members  reps  kill -9 -> new view at every survivor (p50 / max)   join call -> first delivery (p50 / max)\n');
    for (const r of rows) {
      process.stdout.write(
        `${String(r.members).padStart(7)}  ${String(r.repetitions).padStart(4)}  ${r.failureToViewP50Ms.toFixed(1).padStart(12)} / ${r.failureToViewMaxMs.toFixed(1).padEnd(8)} ms` +
          `                  ${r.joinToFirstDeliveryP50Ms.toFixed(1).padStart(8)} / ${r.joinToFirstDeliveryMaxMs.toFixed(1)} ms\n`,
      );
    }
  }
  return 0;
}

export const viewchange: Command = { name: 'derecho bench viewchange', usage: USAGE, run };
