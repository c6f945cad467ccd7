/**
 * Host names in a validated configuration, resolved to the IPv4 addresses the data plane and the
 * membership protocol carry. Done once when a node starts (a restarted node resolves again), so a
 * name that does not resolve is reported at once, naming the key, instead of after the join timeout.
 */
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { ConfigError, type ConfigIssue } from './errors.js';
import type { DerechoConfig } from './schema.js';

/** Resolves one host name to one IPv4 address (default: the system resolver, as `getaddrinfo`). */
export type ResolveIpv4 = (host: string) => Promise<string>;

const systemResolveIpv4: ResolveIpv4 = async (host) => (await lookup(host, { family: 4 })).address;

/**
 * `config` with every host (node.host, node.bindHost, ops.httpHost, cluster.contact, cluster.members) an IPv4
 * address. Throws ConfigError listing every name that does not resolve, with the resolver's reason.
 */
export async function resolveAddresses(config: DerechoConfig, resolve: ResolveIpv4 = systemResolveIpv4): Promise<DerechoConfig> {
  const answers = new Map<string, Promise<string | Error>>();
  const issues: ConfigIssue[] = [];
  const one = async (keyPath: string, host: string): Promise<string> => {
    if (isIPv4(host)) return host;
    let answer = answers.get(host);
    if (answer === undefined) {
      answer = resolve(host).then(
        (address) => (isIPv4(address) ? address : new Error(`the resolver answered ${JSON.stringify(address)}, not an IPv4 address`)),
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
      answers.set(host, answer);
    }
    const result = await answer;
    if (result instanceof Error) {
      const code = (result as NodeJS.ErrnoException).code;
      const why = code === 'ENOTFOUND' || code === 'ENODATA' ? 'no such host (or it has no IPv4 address)' : result.message;
      issues.push({ path: `config.${keyPath}`, message: `cannot resolve ${JSON.stringify(host)} to an IPv4 address: ${why}; check the name, or give an IPv4 address` });
      return host;
    }
    return result;
  };
  const { node, cluster, ops } = config;
  const [host, bindHost, httpHost, contactHost, members] = await Promise.all([
    one('node.host', node.host),
    one('node.bindHost', node.bindHost),
    one('ops.httpHost', ops.httpHost),
    one('cluster.contact', cluster.contact.host),
    cluster.members === undefined ? undefined : Promise.all(cluster.members.map(async (m, i) => ({ ...m, host: await one(`cluster.members[${i}].host`, m.host) }))),
  ]);
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    ...config,
    node: { ...node, host, bindHost },
    ops: { ...ops, httpHost },
    cluster: { ...cluster, contact: { ...cluster.contact, host: contactHost }, members },
  };
}
