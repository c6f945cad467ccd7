/**
 * Groups of churn members (./churn-member.ts) for membership tests: start them on loopback or on
 * the hosts of a network-namespace lab, follow their output lines, stop them and compare logs.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPorts, spawnLineProcess, type LineProcess } from '@derecho-ts/runtime/internals';

export interface Member extends LineProcess {
  readonly id: number;
}

const script = fileURLToPath(new URL('./churn-member.ts', import.meta.url));

export function waitLine(m: Member, test: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
  return m.waitLine(test, timeoutMs, what);
}

export interface Host {
  readonly netns: string;
  readonly ip: string;
}

/**
 * Starts n churn members (ids 0..n-1) that form a group, plus a way to start late joiners (ids n..,
 * or an id whose member left, to restart it). With `hosts`, member i runs in network namespace
 * hosts[i] and listens on its address. `cluster` replaces keys of the cluster section (e.g.
 * `secrets` instead of the generated secret, or another `contact`), for all or for one joiner.
 */
export async function startGroup(
  n: number,
  failureTimeoutMs: number,
  lateJoiners = 0,
  hosts?: readonly Host[],
  cluster: Record<string, unknown> = {},
): Promise<{ members: Member[]; startLate: (id: number, cluster?: Record<string, unknown>) => Member; addressOf: (id: number) => string }> {
  const ports = hosts ? hosts.map(() => 23580) : await freeLoopbackPorts(n + lateJoiners);
  const hostOf = (id: number): string => hosts?.[id].ip ?? '127.0.0.1';
  const secret = randomBytes(16).toString('hex');
  const start = (port: number, id: number, late: boolean, patch: Record<string, unknown>): Member => {
    const given = { ...cluster, ...patch };
    const task = {
      config: {
        cluster: { ...(given.secrets === undefined ? { secret } : {}), contact: `${hostOf(0)}:${ports[0]}`, ...given },
        node: { id, host: hostOf(id), port },
        multicast: { windowSize: 32, maxPayloadBytes: 256, maxSmcPayloadBytes: 256 },
        failure: { heartbeatMs: 20, failureTimeoutMs },
        logging: { level: 'error' },
      },
      memberIds: ports.map((_, i) => i),
      initialMembers: n,
      payloadBytes: 64,
      late,
    };
    const nodeArgs = ['--conditions=@derecho-ts/source', '--import', 'tsx', script];
    const netns = hosts?.[id].netns;
    const env = { ...process.env, DERECHO_MEMBER_TASK: JSON.stringify(task) };
    const [command, args] = netns ? ['ip', ['netns', 'exec', netns, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
    return { id, ...spawnLineProcess(`node ${id}`, command, args, env) };
  };
  return {
    members: ports.slice(0, n).map((port, id) => start(port, id, false, {})),
    startLate: (id, patch = {}) => start(ports[id], id, true, patch),
    addressOf: (id) => `${hostOf(id)}:${ports[id]}`,
  };
}

/** A VIEW line for view `vid` whose members are exactly `ids` (in the order membership kept). */
export const viewWith = (vid: number, ids: number[]) => (l: string) => {
  const [tag, v, members] = l.split(' ');
  return tag === 'VIEW' && Number(v) === vid && members.split(',').map(Number).sort((a, b) => a - b).join(',') === [...ids].sort((a, b) => a - b).join(',');
};

/** A VIEW line (any vid after 0) whose members are exactly `ids`. */
export const viewOf = (ids: number[]) => (l: string) => {
  const [tag, v, members] = l.split(' ');
  return tag === 'VIEW' && Number(v) > 0 && members.split(',').map(Number).sort((a, b) => a - b).join(',') === [...ids].sort((a, b) => a - b).join(',');
};

export const deliveredAtLeast = (n: number) => (l: string) => l.startsWith('DELIVERED ') && Number(l.slice(10)) >= n;

/** Stops sending everywhere, waits until each survivor delivered everything the others sent. */
export async function finish(survivors: Member[]) {
  for (const m of survivors) m.child.stdin!.write('stop\n');
  const sent: Record<string, number> = {};
  for (const m of survivors) sent[m.id] = Number((await waitLine(m, (l) => l.startsWith('SENT '), 20_000, 'SENT')).slice(5));
  for (const m of survivors) m.child.stdin!.write(`expect ${JSON.stringify(sent)}\n`);
  const results = [];
  for (const m of survivors) results.push(JSON.parse((await waitLine(m, (l) => l.startsWith('RESULT '), 30_000, 'RESULT')).slice(7)));
  return { sent, results };
}

