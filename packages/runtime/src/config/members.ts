/** `cluster.members`: the static membership, each entry `{ "id", "host", "port" }`, ids and addresses unique. */
import { show } from '../layout/show.js';
import { isJsonObject } from '../util/json-object.js';
import type { ConfigChecker } from './config-checker.js';
import { formatHostPort } from './leaf-checks.js';
import { DEFAULT_PORT, nodeId, port as portKind, type MemberAddress } from './schema.js';

const MEMBER_KEYS = ['id', 'host', 'port'];

/** The members listed in `value` (the raw `cluster.members`), or undefined when absent or unusable. */
export function checkMembers(check: ConfigChecker, value: unknown): MemberAddress[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    check.add('cluster.members', `expected a non-empty array of { "id", "host", "port" }, got ${show(value)}`);
    return undefined;
  }
  const members: MemberAddress[] = [];
  const firstWithId = new Map<number, number>();
  const firstWithAddress = new Map<string, number>();
  value.forEach((entry: unknown, i: number) => {
    const at = `cluster.members[${i}]`;
    if (!isJsonObject(entry)) {
      check.add(at, `expected { "id", "host", "port" }, got ${show(entry)}`);
      return;
    }
    check.unknownKeys(entry, at, MEMBER_KEYS);
    const id = entry.id === undefined ? (check.add(`${at}.id`, 'required'), undefined) : check.leaf<number>(`${at}.id`, nodeId, entry.id);
    const host = entry.host === undefined ? (check.add(`${at}.host`, 'required'), undefined) : check.leaf<string>(`${at}.host`, { type: 'host' }, entry.host);
    const port = entry.port === undefined ? DEFAULT_PORT : check.leaf<number>(`${at}.port`, portKind, entry.port);
    if (id === undefined || host === undefined || port === undefined) return;
    if (firstWithId.has(id)) check.add(`${at}.id`, `duplicate id ${id} (also cluster.members[${firstWithId.get(id)}])`);
    else firstWithId.set(id, i);
    const address = formatHostPort({ host, port });
    if (firstWithAddress.has(address)) check.add(at, `duplicate address ${address} (also cluster.members[${firstWithAddress.get(address)}])`);
    else firstWithAddress.set(address, i);
    members.push({ id, host, port });
  });
  return members;
}
