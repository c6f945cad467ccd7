/**
 * How each kind of key in the schema (schema.ts, `LeafType`) is checked: one entry per kind,
 * giving the validated value or what was expected, worded for the user.
 */
import * as path from 'node:path';
import { show } from '../layout/show.js';
import { didYouMean } from '../util/did-you-mean.js';
import { classifyHost } from './host-address.js';
import { DEFAULT_PORT, type HostPort, type LeafType } from './schema.js';

/** A checked value, or the problem with it (the message after the key path). */
export type LeafResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };

type KindOf<T extends LeafType['type']> = Extract<LeafType, { readonly type: T }>;

/** Checks a value of one kind; `baseDir` resolves relative paths. */
type LeafCheck<T extends LeafType['type']> = (kind: KindOf<T>, value: unknown, baseDir: string) => LeafResult;

const ok = (value: unknown): LeafResult => ({ ok: true, value });
const problem = (text: string): LeafResult => ({ ok: false, problem: text });

export const LEAF_CHECKS: { readonly [T in LeafType['type']]: LeafCheck<T> } = {
  int: (kind, value) => {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= kind.min && value <= kind.max) return ok(value);
    const expect = kind.expect ?? (kind.min === 1 && kind.max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer from ${kind.min} to ${kind.max}`);
    return problem(`expected ${expect}, got ${show(value)}`);
  },
  bool: (_kind, value) => (typeof value === 'boolean' ? ok(value) : problem(`expected true or false, got ${show(value)}`)),
  string: (kind, value) => {
    const min = kind.minLength ?? 1;
    if (typeof value === 'string' && value.length >= min) return ok(value);
    // Never echo a secret, even a malformed one.
    const got = kind.secret && typeof value === 'string' ? `a string of ${value.length} character${value.length === 1 ? '' : 's'}` : show(value);
    return problem(min > 1 ? `expected a string of at least ${min} characters, got ${got}` : `expected a non-empty string, got ${got}`);
  },
  enum: (kind, value) =>
    typeof value === 'string' && kind.values.includes(value)
      ? ok(value)
      : problem(`expected one of ${kind.values.map((v) => `"${v}"`).join(', ')}, got ${show(value)}${typeof value === 'string' ? didYouMean(value, kind.values) : ''}`),
  host: (_kind, value) => {
    if (typeof value !== 'string' || value === '') return problem(`expected an IPv4 address or a host name, got ${show(value)}`);
    const host = classifyHost(value);
    return 'kind' in host ? ok(value) : problem(host.problem);
  },
  hostPort: (_kind, value) => {
    const parsed = typeof value === 'string' ? parseHostPort(value) : undefined;
    if (parsed === undefined) return problem(`expected "host:port" with a port from 1 to 65535 (e.g. "10.0.0.1:${DEFAULT_PORT}"), got ${show(value)}`);
    const host = classifyHost(parsed.host);
    return 'kind' in host ? ok(parsed) : problem(host.problem);
  },
  path: (_kind, value, baseDir) => (typeof value === 'string' && value !== '' ? ok(path.resolve(baseDir, value)) : problem(`expected a non-empty path, got ${show(value)}`)),
};

/** Checks `value` against `kind` with the check of its kind. */
export function checkLeaf(kind: LeafType, value: unknown, baseDir: string): LeafResult {
  return (LEAF_CHECKS[kind.type] as LeafCheck<LeafType['type']>)(kind, value, baseDir);
}

/** Parses "host:port" or "[v6addr]:port". */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^\[([^\]]+)\]:([0-9]+)$/.exec(text) ?? /^([^:\s]+):([0-9]+)$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1], port } : undefined;
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
