/**
 * Runs a multicast experiment on a local group: spawns one process per member on loopback, waits
 * for every member's result, then releases them all together. Used by `derecho bench bandwidth`,
 * `derecho bench latency` and the process tests. Every child is killed on timeout or error.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { childScriptArgs, DevPki, devPkiUnavailableReason } from '@derecho-ts/rdma-native';
import { spawnLineProcess } from './line-process.js';
import { freeLoopbackPorts } from './local-ports.js';
import type { MulticastMemberResult, MulticastMemberTask } from './multicast-member.js';

export interface MulticastRunOptions {
  readonly numNodes: number;
  /** Derecho's sender selector: 0 all members send, 1 half of them, 2 one. */
  readonly senderSelector: 0 | 1 | 2;
  readonly messagesPerSender: number;
  readonly mode: 'ordered' | 'unordered';
  readonly payloadBytes: number;
  readonly windowSize?: number;
  /** Default: payloadBytes up to 10 KiB go by SMC, larger ones by RDMC. */
  readonly maxSmcPayloadBytes?: number;
  readonly blockBytes?: number;
  readonly pattern?: 'bandwidth' | 'latency';
  readonly verifyPayloads?: boolean;
  /** Every fourth message of each sender has this size (see MulticastMemberTask). */
  readonly everyFourthBytes?: number;
  readonly digest?: 'sha256' | 'fast';
  readonly timeoutMs?: number;
  readonly logLevel?: string;
  /** Turn on every member's metrics and HTTP server (ops.httpPort), to measure what they cost. */
  readonly metrics?: boolean;
  /**
   * Where each member runs: by default every member on 127.0.0.1 in this network namespace. With
   * `hosts`, member i runs inside network namespace hosts[i].netns (through `ip netns exec`) and
   * listens on hosts[i].ip, as on a separate machine.
   */
  readonly hosts?: readonly { readonly netns: string; readonly ip: string }[];
  /** Every connection over TLS (security.tls), with certificates made for this run (needs openssl). */
  readonly tls?: boolean;
}

export function senderIdsFor(selector: 0 | 1 | 2, memberIds: readonly number[]): number[] {
  if (selector === 0) return [...memberIds];
  if (selector === 1) return memberIds.slice(Math.floor(memberIds.length / 2));
  return [memberIds[memberIds.length - 1]];
}

export async function runLocalMulticast(options: MulticastRunOptions): Promise<MulticastMemberResult[]> {
  const n = options.numNodes;
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`num_nodes must be an integer from 1 to 64, got ${n}`);
  if (options.hosts !== undefined && options.hosts.length !== n) throw new RangeError(`hosts must name one host per member (${n}), got ${options.hosts.length}`);
  // Each namespace has its own port space, so a fixed port serves every host there.
  const ports = options.hosts ? options.hosts.map(() => 23580) : await freeLoopbackPorts(n);
  const httpPorts = options.metrics === true ? (options.hosts ? options.hosts.map(() => 9464) : await freeLoopbackPorts(n)) : undefined;
  const hostOf = (id: number): string => options.hosts?.[id].ip ?? '127.0.0.1';
  const memberIds = ports.map((_, i) => i);
  const secret = randomBytes(16).toString('hex');
  const maxSmc = options.maxSmcPayloadBytes ?? Math.min(options.payloadBytes, 10240);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const children: ChildProcess[] = [];
  const results = new Map<number, MulticastMemberResult>();
  const script = childScriptArgs(import.meta.url, './multicast-member');
  // DERECHO_PROFILE_DIR=<dir>: every member writes a V8 CPU profile there (for `--cpu-prof` analysis).
  const profileDir = process.env.DERECHO_PROFILE_DIR;
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  let pki: DevPki | undefined;
  if (options.tls) {
    const why = devPkiUnavailableReason();
    if (why !== undefined) throw new Error(`--tls needs certificates: ${why}`);
    pki = new DevPki();
  }

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`multicast run timed out after ${timeoutMs} ms with ${results.size}/${n} results`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      for (const id of memberIds) {
        const task: MulticastMemberTask = {
          config: {
            cluster: { secret, contact: `${hostOf(0)}:${ports[0]}` },
            node: { id, host: hostOf(id), port: ports[id] },
            multicast: {
              windowSize: options.windowSize ?? 16,
              maxPayloadBytes: Math.max(options.payloadBytes, options.everyFourthBytes ?? 0, maxSmc),
              maxSmcPayloadBytes: maxSmc,
              blockBytes: options.blockBytes ?? 262144,
            },
            failure: { heartbeatMs: 100, failureTimeoutMs: 5000 },
            logging: { level: options.logLevel ?? 'warn' },
            ...(pki ? { security: { tls: pki.writeFiles(`node-${id}`, pki.issue(id)) } } : {}),
            ...(httpPorts === undefined ? {} : { ops: { httpPort: httpPorts[id] } }),
          },
          numNodes: n,
          memberIds,
          senderIds: senderIdsFor(options.senderSelector, memberIds),
          mode: options.mode,
          messagesPerSender: options.messagesPerSender,
          payloadBytes: options.payloadBytes,
          pattern: options.pattern ?? 'bandwidth',
          verifyPayloads: options.verifyPayloads ?? false,
          everyFourthBytes: options.everyFourthBytes,
          digest: options.digest ?? 'sha256',
        };
        const netns = options.hosts?.[id].netns;
        const [command, args] = netns ? ['ip', ['netns', 'exec', netns, script.command, ...nodeArgs, ...script.args]] : [script.command, [...nodeArgs, ...script.args]];
        const member = spawnLineProcess(`member ${id}`, command, args, { ...process.env, DERECHO_MEMBER_TASK: JSON.stringify(task) });
        children.push(member.child);
        void member.waitLine((l) => l.startsWith('RESULT '), timeoutMs, 'result').then((line) => {
          results.set(id, JSON.parse(line.slice(7)) as MulticastMemberResult);
          if (results.size === n) {
            clearTimeout(timer);
            resolve();
          }
        }, fail);
        member.child.on('exit', (code, signal) => {
          if (!results.has(id)) fail(new Error(`member ${id} exited (${signal ?? `code ${code}`}) before reporting a result`));
        });
      }
    });
    // Everyone is done: release them together and let them close cleanly.
    await Promise.all(
      children.map((c) => new Promise<void>((resolve) => {
        if (c.exitCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.stdin!.end('exit\n');
      })),
    );
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    pki?.dispose();
  }
  return memberIds.map((id) => results.get(id)!);
}
