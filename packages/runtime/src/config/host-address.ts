/**
 * What a host in the configuration may be: an IPv4 address or a DNS name (resolved when the node
 * starts, config/resolve-addresses.ts). IPv6 is refused at once with the reason: the membership
 * protocol's SST columns and the data plane carry IPv4 addresses only, so an IPv6 host would only
 * fail later, after the whole join timeout.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type HostKind = 'ipv4' | 'name';

/** One DNS label: letters, digits, hyphens inside (RFC 1123); underscores allowed as service names use them. */
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** The kind of `host`, or why it cannot be one (worded for the user, after "expected ..."). */
export function classifyHost(host: string): { readonly kind: HostKind } | { readonly problem: string } {
  if (isIPv4(host)) return { kind: 'ipv4' };
  if (isIPv6(host)) {
    return { problem: `${JSON.stringify(host)} is an IPv6 address, which derecho-ts does not support yet (the membership protocol carries IPv4 addresses): give an IPv4 address or a host name that resolves to one` };
  }
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (/^[0-9.]+$/.test(name)) return { problem: `${JSON.stringify(host)} is not a valid IPv4 address (expected four numbers from 0 to 255, e.g. "10.0.0.1")` };
  if (name.length === 0 || name.length > 253 || !name.split('.').every((label) => LABEL.test(label))) {
    return { problem: `${JSON.stringify(host)} is neither an IPv4 address nor a host name (letters, digits, hyphens and dots, e.g. "node-1.example.com")` };
  }
  return { kind: 'name' };
}
