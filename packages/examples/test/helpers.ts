/** In-process groups for the RPC tests: every member has its own endpoint on loopback. */
import { Group, PersistentMap, type GroupJoinOptions } from '@derecho-ts/runtime';
import { freeLoopbackPorts } from '@derecho-ts/runtime/internals';
import { wireSchema } from '../src/derecho.generated.js';

export const SECRET = 'an-examples-test-secret';

export function memberConfig(id: number, ports: readonly number[], level = 'silent') {
  return {
    cluster: { secret: SECRET, contact: `127.0.0.1:${ports[0]}` },
    node: { id, host: '127.0.0.1', port: ports[id] },
    failure: { heartbeatMs: 50, failureTimeoutMs: 3000 },
    logging: { level },
  };
}

/** Starts `n` members (ids 0..n-1) with the same subgroups; all must join. */
export async function startGroup(n: number, options: (id: number) => Omit<GroupJoinOptions, 'config'>, ports?: readonly number[]): Promise<{ groups: Group[]; ports: readonly number[] }> {
  const p = ports ?? (await freeLoopbackPorts(n));
  const groups = await Promise.all(
    Array.from({ length: n }, (_, id) => Group.join({ argv: [], schema: wireSchema, minMembers: n, joinTimeoutMs: 20_000, ...options(id), config: memberConfig(id, p) })),
  );
  return { groups, ports: p };
}

export function sorted(ids: Iterable<number>): number[] {
  return [...ids].sort((a, b) => a - b);
}

/** Opens a DurableKV "data" log file (a PersistentMap) outside any group, to check what it holds. */
export function openDataLog(file: string): PersistentMap<string, Uint8Array> {
  const map = new PersistentMap<string, Uint8Array>();
  map.attach(file);
  return map;
}
