/**
 * `derecho-examples bench typed <num_nodes> <count> <sender_selector> [--payload-bytes N] [--window N] [--replies] [--json]`:
 * ordered RPC throughput, like Derecho's typed_subgroup_bw_test: every sender makes `count` ordered
 * calls of `RpcProbe.sink(bytes)` (void, so no replies; with --replies `sinkAck(bytes)`, which every
 * member answers); each member times until it has applied every sender's calls. Prints calls
 * applied per second per member, Derecho's data line, CPU per call, and the marshalling cost of
 * one call. `DERECHO_PROFILE_DIR=<dir>` makes every member write a V8 CPU profile there.
 */
import { loadavg } from 'node:os';
import { childScriptArgs } from '@derecho-ts/rdma-native';
import { intValue, measureMarshalCost, measureRpcLayerCost, parseCommand, printUsage, type Command, SchemaCodec } from '@derecho-ts/runtime/internals';
import { wireSchema } from '../derecho.generated.js';
import { runLocalGroup } from '../local/local-group.js';
import { RpcProbe } from '../testing/rpc-probe.js';
import type { TypedResult, TypedTask } from './typed-member.js';

const USAGE = `usage: derecho-examples bench typed <num_nodes> <count> <sender_selector> [options]
  Ordered RPC throughput (Derecho's typed_subgroup_bw_test): every sender makes <count> ordered calls.
  num_nodes        members, 1 to 16 (one process each, on loopback)
  count            calls per sender
  sender_selector  0 all members send, 1 half of them, 2 one
options:
  --payload-bytes N  bytes per call (default 100)
  --window N         send window (default 64)
  --replies          call sinkAck, which every member answers, instead of the void sink
  --json             print one JSON object instead of text
`;

export function senderIds(selector: number, memberIds: readonly number[]): number[] {
  if (selector === 0) return [...memberIds];
  if (selector === 1) return memberIds.slice(Math.floor(memberIds.length / 2));
  return [memberIds[memberIds.length - 1]];
}

/** Encode + decode of one sink(bytes) call's arguments with the generated schema, ns per call. */
export function sinkMarshalNs(payloadBytes: number, iterations = 100_000): number {
  const codec = new SchemaCodec(wireSchema).method('RpcProbe', 'sink');
  const payload = new Uint8Array(payloadBytes).fill(7);
  let sink = 0;
  const loop = (n: number): void => {
    for (let i = 0; i < n; i++) sink += (codec.decodeArgs(codec.encodeArgs([payload]))[0] as Uint8Array).length;
  };
  loop(iterations / 10);
  const startNs = process.hrtime.bigint();
  loop(iterations);
  const ns = Number(process.hrtime.bigint() - startNs) / iterations;
  if (sink === 0) throw new Error('nothing decoded');
  return ns;
}

async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(
    args,
    { 'payload-bytes': { type: 'string' }, window: { type: 'string' }, replies: { type: 'boolean' }, json: { type: 'boolean' } },
    { min: 3, max: 3, names: 'num_nodes count sender_selector' },
  );
  if (parsed === undefined) return printUsage({ usage: USAGE });
  const { positionals, values } = parsed;
  const numNodes = intValue(positionals[0], 'num_nodes', 1, 16);
  const count = intValue(positionals[1], 'count', 1, 100_000_000);
  const selector = intValue(positionals[2], 'sender_selector', 0, 2);
  const payloadBytes = intValue(values['payload-bytes'], '--payload-bytes', 0, 1 << 20, 100);
  const window = intValue(values.window, '--window', 1, 65536, 64);
  const json = values.json === true;
  const replies = values.replies === true;
  const memberIds = Array.from({ length: numNodes }, (_, i) => i);
  const senders = senderIds(selector, memberIds);
  // Header (12 B) + msgpack array and bin headers (up to 6 B) around the bytes.
  const messageBytes = payloadBytes + 32;
  const [, results] = await runLocalGroup<TypedTask, TypedResult | string>({
    script: childScriptArgs(import.meta.url, './typed-member'),
    numNodes,
    task: (_id, config) => ({
      config: { ...config, multicast: { windowSize: window, maxPayloadBytes: messageBytes, maxSmcPayloadBytes: messageBytes } },
      memberIds,
      senderIds: senders,
      count,
      payloadBytes,
      replies,
    }),
    steps: 2,
    timeoutMs: 600_000,
    logLevel: 'error',
    // DERECHO_PROFILE_DIR=<dir>: every member writes a V8 CPU profile there.
    nodeArgs: process.env.DERECHO_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.DERECHO_PROFILE_DIR}`] : [],
  });
  const members = results as TypedResult[];
  const rates = members.map((r) => r.applied / (r.elapsedNs / 1e9));
  const rate = rates.reduce((a, b) => a + b, 0) / rates.length;
  const avgMs = members.reduce((a, r) => a + r.elapsedNs / 1e6, 0) / members.length;
  const gbps = (rate * payloadBytes) / 1e9;
  // CPU per applied call, mean over members: what the machine's load does not change.
  const cpuUsPerCall = members.reduce((a, r) => a + (r.cpuUserUs + r.cpuSystemUs) / r.applied, 0) / members.length;
  // With replies: calls per second each sender had answered by every member.
  const answered = members.filter((r) => r.repliedNs !== undefined).map((r) => count / (r.repliedNs! / 1e9));
  const answeredPerSender = answered.length === 0 ? undefined : answered.reduce((a, b) => a + b, 0) / answered.length;
  const kernelShare = members.reduce((a, r) => a + r.cpuSystemUs, 0) / Math.max(1, members.reduce((a, r) => a + r.cpuUserUs + r.cpuSystemUs, 0));
  const marshalNs = sinkMarshalNs(payloadBytes);
  // The RPC layer alone (three engines in this process, no network, no protocol): what one
  // applied call costs a member on top of the multicast.
  const layer = await measureRpcLayerCost({
    schema: wireSchema,
    className: 'RpcProbe',
    methodName: replies ? 'sinkAck' : 'sink',
    args: [new Uint8Array(payloadBytes).fill(7)],
    create: (nodeId) => new RpcProbe(nodeId),
    members: numNodes,
  });
  // The comparison, in the same run: generated structures vs plain msgpackr vs JSON.
  const marshalFigures = measureMarshalCost({ valueBytes: payloadBytes, iterations: 50_000 });
  const generic = marshalFigures.find((f) => f.scenario === 'key+bytes' && /schema/i.test(f.name));
  const figures = {
    benchmark: 'typed',
    numNodes,
    senderSelector: selector,
    numSenders: senders.length,
    count,
    payloadBytes,
    windowSize: window,
    replies,
    answeredCallsPerSecondPerSender: answeredPerSender,
    callsPerSecondPerMember: rate,
    minMemberCallsPerSecond: Math.min(...rates),
    avgMs,
    gbps,
    cpuUsPerCall,
    rpcLayerNsPerCallPerMember: layer.nsPerCallPerMember,
    marshalNsPerCall: marshalNs,
    marshalBenchSchemaCodecNsPerCall: generic?.nsPerCall,
    marshalComparison: marshalFigures.map((f) => ({ scenario: f.scenario, name: f.name, nsPerCall: f.nsPerCall })),
    loadAverage: loadavg(),
  };
  if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
  else {
    process.stdout.write(`data_derecho_typed_subgroup_bw ${numNodes} ${selector} ${payloadBytes} ${window} ${count} ${avgMs.toFixed(1)} ${gbps.toFixed(6)}\n`);
    process.stdout.write(
      `${numNodes} members, ${senders.length} sending ${count.toLocaleString('en-US')} ordered calls each of ${replies ? 'sinkAck' : 'sink'}(${payloadBytes} B) (window ${window}):\n` +
        `  applied per member: ${Math.round(rate).toLocaleString('en-US')} calls/s (slowest ${Math.round(figures.minMemberCallsPerSecond).toLocaleString('en-US')}), ${(gbps * 1000).toFixed(1)} MB/s of arguments\n` +
        (answeredPerSender === undefined ? '' : `  answered by every member: ${Math.round(answeredPerSender).toLocaleString('en-US')} calls/s per sender, ${Math.round(answeredPerSender * senders.length).toLocaleString('en-US')} calls/s in all\n`) +
        `  CPU per applied call (mean over members, senders included): ${cpuUsPerCall.toFixed(2)} µs (${(kernelShare * 100).toFixed(0)}% in the kernel)\n` +
        `  the RPC layer alone (in process, no network), per member per call: ${layer.nsPerCallPerMember.toFixed(0)} ns\n` +
        `  marshalling per call (encode + decode of the arguments): ${marshalNs.toFixed(0)} ns` +
        (generic ? `; marshal bench, schema codec put(key, ${payloadBytes} B): ${generic.nsPerCall.toFixed(0)} ns\n` : '\n') +
        `  marshal bench, encode + decode per call (${payloadBytes} B values):\n` +
        marshalFigures.map((f) => `    ${f.scenario === 'key+bytes' ? 'put(key, bytes)' : 'putEntry({...})'}  ${f.name}: ${f.nsPerCall.toFixed(0)} ns\n`).join('') +
        `  load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
    );
  }
  return 0;
}

export const typed: Command = { name: 'derecho-examples bench typed', usage: USAGE, run };
