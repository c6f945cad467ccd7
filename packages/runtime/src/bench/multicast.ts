/**
 * `derecho bench bandwidth` and `derecho bench latency`, with Derecho's own argument order
 * (bandwidth_test / latency_test: num_nodes sender_selector num_messages delivery_mode) so figures
 * compare with its published ones. Members run as processes on this machine; each figure is
 * printed beside the machine's loopback limits measured in the same run.
 */
import { loadavg } from 'node:os';
import type { MulticastMemberResult } from './multicast-member.js';
import { intValue, parseCommand, printUsage, type Command } from '../cli/command.js';
import { percentile, rawPingPongUs, rawStreamGBps } from './loopback-limits.js';
import { runLocalMulticast, senderIdsFor } from './multicast-run.js';

const USAGE = (kind: string): string =>
  `usage: derecho bench ${kind} <num_nodes> <sender_selector> <num_messages> <delivery_mode> [options]\n` +
  `  Derecho's ${kind}_test arguments, in its order:\n` +
  `  num_nodes        members, 1 to 16 (one process each, on loopback)\n` +
  `  sender_selector  0 all members send, 1 half of them, 2 one\n` +
  `  num_messages     messages per sender\n` +
  `  delivery_mode    0 ordered, 1 unordered\n` +
  `options:\n` +
  `  --payload-bytes N  message size (default ${kind === 'latency' ? 1024 : 10240})\n` +
  `  --window N         send window (default 16)\n` +
  `  --smc-bytes N      largest payload sent through the SST (SMC); larger ones go through RDMC\n` +
  `  --block-bytes N    RDMC block size (default 262144)\n` +
  `  --tls              every connection over TLS 1.3 (security.tls; certificates made with openssl)\n` +
  `  --metrics          turn on every member's metrics and /metrics server (ops.httpPort), to measure their cost\n` +
  `  --json             print one JSON object instead of text\n`;

const OPTIONS = {
  'payload-bytes': { type: 'string' },
  window: { type: 'string' },
  'smc-bytes': { type: 'string' },
  'block-bytes': { type: 'string' },
  json: { type: 'boolean' },
  tls: { type: 'boolean' },
  metrics: { type: 'boolean' },
} as const;

interface Parsed {
  numNodes: number;
  senderSelector: 0 | 1 | 2;
  numMessages: number;
  deliveryMode: 0 | 1;
  payloadBytes: number;
  window: number;
  smcBytes: number;
  blockBytes: number;
  json: boolean;
  tls: boolean;
  metrics: boolean;
}

function parse(kind: string, args: string[]): Parsed | undefined {
  const parsed = parseCommand(args, OPTIONS, { min: 4, max: 4, names: 'num_nodes sender_selector num_messages delivery_mode' });
  if (parsed === undefined) return undefined;
  const { positionals: positional, values } = parsed;
  const payloadBytes = intValue(values['payload-bytes'], '--payload-bytes', 0, 1 << 30, kind === 'latency' ? 1024 : 10240);
  return {
    numNodes: intValue(positional[0], 'num_nodes', 1, 16),
    senderSelector: intValue(positional[1], 'sender_selector', 0, 2) as 0 | 1 | 2,
    numMessages: intValue(positional[2], 'num_messages', 1, 100_000_000),
    deliveryMode: intValue(positional[3], 'delivery_mode', 0, 1) as 0 | 1,
    payloadBytes,
    window: intValue(values.window, '--window', 1, 65536, 16),
    smcBytes: intValue(values['smc-bytes'], '--smc-bytes', 0, 1 << 20, Math.min(payloadBytes, 10240)),
    // The configuration's default (multicast.blockBytes).
    blockBytes: intValue(values['block-bytes'], '--block-bytes', 1024, 1 << 28, 256 * 1024),
    json: values.json === true,
    tls: values.tls === true,
    metrics: values.metrics === true,
  };
}

/** Load-independent cost figures: CPU per delivery, batching per wake-up. */
function costFigures(results: readonly MulticastMemberResult[], deliveriesPerMember: number) {
  const mean = (f: (r: MulticastMemberResult) => number) => results.reduce((a, r) => a + f(r), 0) / results.length;
  return {
    cpuUsPerDelivery: mean((r) => (r.cpuUserUs + r.cpuSystemUs) / deliveriesPerMember),
    systemCpuShare: (100 * mean((r) => r.cpuSystemUs)) / Math.max(1, mean((r) => r.cpuUserUs + r.cpuSystemUs)),
    deliveriesPerWakeup: mean((r) => deliveriesPerMember / Math.max(1, r.pollBatches)),
    remoteWritesPerWakeup: mean((r) => r.remoteWrites / Math.max(1, r.pollBatches)),
    loadAverage1m: loadavg()[0],
  };
}

async function runKind(kind: 'bandwidth' | 'latency', args: string[]): Promise<number> {
  const p = parse(kind, args);
  if (p === undefined) return printUsage({ usage: USAGE(kind) });
  const mode = p.deliveryMode === 0 ? 'ordered' : 'unordered';
  const results = await runLocalMulticast({
    numNodes: p.numNodes,
    senderSelector: p.senderSelector,
    messagesPerSender: p.numMessages,
    mode,
    payloadBytes: p.payloadBytes,
    windowSize: p.window,
    maxSmcPayloadBytes: p.smcBytes,
    blockBytes: p.blockBytes,
    pattern: kind,
    digest: 'fast',
    timeoutMs: 600_000,
    tls: p.tls,
    metrics: p.metrics,
  });
  const problems = results.flatMap((r) => r.errors.map((e) => `node ${r.nodeId}: ${e}`));
  const numSenders = senderIdsFor(p.senderSelector, results.map((r) => r.nodeId)).length;
  const totalMessages = p.numMessages * numSenders;

  const limits = { rawStreamGBps: await rawStreamGBps(), rawPingPong: [...(await rawPingPongUs(Math.max(1, Math.min(p.payloadBytes, 65536))))].sort((a, b) => a - b) };
  const rawP50Us = percentile(limits.rawPingPong, 50);

  if (kind === 'bandwidth') {
    // Derecho's figure: bytes delivered per member over its elapsed time, averaged over members.
    const perMemberGBps = results.map((r) => (p.payloadBytes * totalMessages) / r.elapsedNs);
    const perMemberRate = results.map((r) => totalMessages / (r.elapsedNs / 1e9));
    const bwGBps = perMemberGBps.reduce((a, b) => a + b, 0) / results.length;
    const rate = perMemberRate.reduce((a, b) => a + b, 0) / results.length;
    const figures = {
      benchmark: 'bandwidth',
      numNodes: p.numNodes,
      senderSelector: p.senderSelector,
      numSenders,
      payloadBytes: p.payloadBytes,
      windowSize: p.window,
      numMessages: p.numMessages,
      deliveryMode: p.deliveryMode,
      path: p.payloadBytes > p.smcBytes ? 'rdmc' : 'smc',
      bwGBps,
      minMemberGBps: Math.min(...perMemberGBps),
      deliveriesPerSecond: rate,
      minMemberDeliveriesPerSecond: Math.min(...perMemberRate),
      rawStreamGBps: limits.rawStreamGBps,
      ratioToRawStream: bwGBps / limits.rawStreamGBps,
      rawPingPongP50Us: rawP50Us,
      ...costFigures(results, totalMessages),
      deliveryLogsIdentical: mode === 'ordered' ? new Set(results.map((r) => r.orderDigest)).size === 1 : undefined,
      errors: problems,
    };
    if (p.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
    else {
      process.stdout.write(`data_derecho_bw ${p.numNodes} ${p.senderSelector} ${p.payloadBytes} ${p.window} ${p.numMessages} ${p.deliveryMode} ${bwGBps.toFixed(6)}\n`);
      process.stdout.write(
        `${p.numNodes} members, ${numSenders} sending ${p.numMessages} × ${p.payloadBytes} B (${figures.path}, window ${p.window}, ${mode}):\n` +
          `  delivered per member: ${(bwGBps * 1000).toFixed(1)} MB/s, ${Math.round(rate).toLocaleString('en-US')} messages/s (slowest member ${(figures.minMemberGBps * 1000).toFixed(1)} MB/s)\n` +
          `  machine limit, one raw TCP stream on loopback: ${(limits.rawStreamGBps * 1000).toFixed(0)} MB/s -> ratio ${figures.ratioToRawStream.toFixed(3)}\n` +
          `  raw C TCP ping-pong p50: ${rawP50Us.toFixed(1)} µs\n` +
          `  where the time goes (mean over members): ${figures.cpuUsPerDelivery.toFixed(2)} µs CPU per delivered message ` +
          `(${figures.systemCpuShare.toFixed(0)}% in the kernel), ${figures.deliveriesPerWakeup.toFixed(1)} deliveries and ` +
          `${figures.remoteWritesPerWakeup.toFixed(1)} remote writes per wake-up, ${figures.loadAverage1m.toFixed(1)} load average\n` +
          (mode === 'ordered' ? `  delivery logs identical at every member: ${figures.deliveryLogsIdentical ? 'yes' : 'NO'}\n` : '') +
          (problems.length ? `  PROBLEMS: ${problems.slice(0, 5).join('; ')}\n` : ''),
      );
    }
  } else {
    const lat = results.flatMap((r) => r.latenciesUs ?? []).sort((a, b) => a - b);
    const mean = lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length);
    const figures = {
      benchmark: 'latency',
      numNodes: p.numNodes,
      senderSelector: p.senderSelector,
      payloadBytes: p.payloadBytes,
      numMessages: p.numMessages,
      deliveryMode: p.deliveryMode,
      samples: lat.length,
      meanUs: mean,
      p50Us: percentile(lat, 50),
      p99Us: percentile(lat, 99),
      rawPingPongP50Us: rawP50Us,
      ratioToRawPingPong: percentile(lat, 50) / rawP50Us,
      errors: problems,
    };
    if (p.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
    else {
      process.stdout.write(`data_derecho_latency ${p.numNodes} ${p.senderSelector} ${p.payloadBytes} ${p.numMessages} ${p.deliveryMode} ${mean.toFixed(1)}\n`);
      process.stdout.write(
        `${p.numNodes} members, send-to-delivery at the sender, ${p.payloadBytes} B, ${mode}, ${lat.length} samples:\n` +
          `  mean ${mean.toFixed(1)} µs, p50 ${figures.p50Us.toFixed(1)} µs, p99 ${figures.p99Us.toFixed(1)} µs\n` +
          `  machine limit, raw C TCP ping-pong p50: ${rawP50Us.toFixed(1)} µs -> ratio ${figures.ratioToRawPingPong.toFixed(2)}\n` +
          (problems.length ? `  PROBLEMS: ${problems.slice(0, 5).join('; ')}\n` : ''),
      );
    }
  }
  return problems.length > 0 ? 1 : 0;
}

export const bandwidth: Command = { name: 'derecho bench bandwidth', usage: USAGE('bandwidth'), run: (args) => runKind('bandwidth', args) };
export const latency: Command = { name: 'derecho bench latency', usage: USAGE('latency'), run: (args) => runKind('latency', args) };
