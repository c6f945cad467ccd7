/**
 * `derecho-examples bench p2p-latency [--count N] [--json]`: round trip of a blocking p2p call (Derecho's
 * p2p_latency_test) between two member processes, beside the raw C TCP ping-pong on the same
 * machine in the same run.
 */
import { loadavg } from 'node:os';
import { childScriptArgs } from '@derecho-ts/rdma-native';
import { intValue, parseCommand, percentile, printUsage, rawPingPongUs, type Command } from '@derecho-ts/runtime/internals';
import { runLocalGroup } from '../local/local-group.js';
import type { P2PLatencyResult, P2PLatencyTask } from './p2p-latency-member.js';

const USAGE = `usage: derecho-examples bench p2p-latency [--count N] [--json]
  Round trip of a blocking p2p call between two member processes (Derecho's p2p_latency_test),
  beside the raw C TCP ping-pong on this machine.
  --count N  calls timed (default 10000)
  --json     print one JSON object instead of text
`;

async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, { count: { type: 'string' }, json: { type: 'boolean' } });
  if (parsed === undefined) return printUsage({ usage: USAGE });
  const count = intValue(parsed.values.count, '--count', 1, 10_000_000, 10_000);
  const json = parsed.values.json === true;
  const [, results] = await runLocalGroup<P2PLatencyTask, P2PLatencyResult | string>({
    script: childScriptArgs(import.meta.url, './p2p-latency-member'),
    numNodes: 2,
    task: (_id, config) => ({ config, count }),
    steps: 2,
    timeoutMs: 600_000,
    logLevel: 'error',
  });
  const rtt = (results as P2PLatencyResult[]).flatMap((r) => r.rttUs ?? []).sort((a, b) => a - b);
  const raw = (await rawPingPongUs(16)).sort((a, b) => a - b);
  const mean = rtt.reduce((a, b) => a + b, 0) / rtt.length;
  const figures = {
    benchmark: 'p2p-latency',
    samples: rtt.length,
    meanUs: mean,
    p50Us: percentile(rtt, 50),
    p99Us: percentile(rtt, 99),
    rawPingPongP50Us: percentile(raw, 50),
    rawPingPongP99Us: percentile(raw, 99),
    loadAverage: loadavg(),
  };
  if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
  else {
    process.stdout.write(
      `p2p call round trip (RpcProbe.ping, 2 member processes), ${rtt.length} samples:\n` +
        `  mean ${mean.toFixed(1)} µs, p50 ${figures.p50Us.toFixed(1)} µs, p99 ${figures.p99Us.toFixed(1)} µs\n` +
        `  raw C TCP ping-pong (16 B): p50 ${figures.rawPingPongP50Us.toFixed(1)} µs, p99 ${figures.rawPingPongP99Us.toFixed(1)} µs\n` +
        `  load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
    );
  }
  return 0;
}

export const p2pLatency: Command = { name: 'derecho-examples bench p2p-latency', usage: USAGE, run };
