/**
 * Validation of a parsed configuration into a DerechoConfig. Pure: files it refers to (secretFile,
 * layoutFile) are read through an injected `readFile`, so tests and `load.ts` decide what I/O means.
 * Every problem is collected; the error lists them all, each naming its key path.
 */
import * as path from 'node:path';
import { InadequateLayoutError } from '../layout/errors.js';
import { parseLayoutJson } from '../layout/json.js';
import { SubgroupAllocator } from '../layout/allocate.js';
import { DEFAULT_PROFILE, type GroupLayout } from '../layout/spec.js';
import { show } from '../layout/show.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { JsonSyntaxError, parseJsonText } from './json-text.js';
import {
  DEFAULT_PORT,
  PROFILE_KEYS,
  SECTIONS,
  TOP_LEVEL_KEYS,
  nodeId,
  port as portKind,
  type DerechoConfig,
  type HostPort,
  type LeafSpec,
  type MemberAddress,
  type MulticastProfile,
  type SectionName,
} from './schema.js';
import { didYouMean } from '../util/did-you-mean.js';

export interface ValidateConfigOptions {
  /** Relative paths in the config are resolved against this (the config file's directory). */
  readonly baseDir?: string;
  /** Reads a file the config refers to (absolute path, utf-8). Without it, such keys are errors. */
  readonly readFile?: (absolutePath: string) => string;
  /** Key path -> label for values that came from flags or the environment. */
  readonly labels?: ReadonlyMap<string, string>;
  /** Names the file in the error header. */
  readonly source?: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Parses "host:port" or "[v6addr]:port". */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^\[([^\]]+)\]:([0-9]+)$/.exec(text) ?? /^([^:\s]+):([0-9]+)$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1], port } : undefined;
}

function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Validates `raw` (a parsed JSON config, with overrides applied). Throws ConfigError. */
export function validateConfig(raw: unknown, options: ValidateConfigOptions = {}): DerechoConfig {
  const issues: ConfigIssue[] = [];
  const baseDir = path.resolve(options.baseDir ?? '.');
  const labels = options.labels ?? new Map<string, string>();
  const name = (keyPath: string): string => labels.get(keyPath) ?? `config.${keyPath}`;
  const add = (keyPath: string, message: string): void => {
    issues.push({ path: keyPath === '' ? 'config' : name(keyPath), message });
  };
  const fail = (): never => {
    throw new ConfigError(issues, options.source);
  };

  if (!isObject(raw)) {
    add('', `expected a JSON object with sections such as "cluster" and "node", got ${show(raw)}`);
    return fail();
  }
  const config: Json = raw;
  for (const key of Object.keys(config)) {
    if (!TOP_LEVEL_KEYS.includes(key)) add(key, `unknown key${didYouMean(key, TOP_LEVEL_KEYS)}`);
  }

  /** Checks one leaf value against its spec; undefined when absent or invalid. */
  function leaf<T>(keyPath: string, spec: LeafSpec, value: unknown): T | undefined {
    if (value === undefined) return undefined;
    const kind = spec.kind;
    switch (kind.type) {
      case 'int': {
        const ok = typeof value === 'number' && Number.isSafeInteger(value) && value >= kind.min && value <= kind.max;
        if (ok) return value as T;
        const expect = kind.expect ?? (kind.min === 1 && kind.max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer from ${kind.min} to ${kind.max}`);
        add(keyPath, `expected ${expect}, got ${show(value)}`);
        return undefined;
      }
      case 'bool':
        if (typeof value === 'boolean') return value as T;
        add(keyPath, `expected true or false, got ${show(value)}`);
        return undefined;
      case 'string': {
        const min = kind.minLength ?? 1;
        if (typeof value === 'string' && value.length >= min) return value as T;
        // Never echo a secret, even a malformed one.
        const got = kind.secret && typeof value === 'string' ? `a string of ${value.length} character${value.length === 1 ? '' : 's'}` : show(value);
        add(keyPath, min > 1 ? `expected a string of at least ${min} characters, got ${got}` : `expected a non-empty string, got ${got}`);
        return undefined;
      }
      case 'enum':
        if (typeof value === 'string' && kind.values.includes(value)) return value as T;
        add(keyPath, `expected one of ${kind.values.map((v) => `"${v}"`).join(', ')}, got ${show(value)}${typeof value === 'string' ? didYouMean(value, kind.values) : ''}`);
        return undefined;
      case 'hostPort': {
        const parsed = typeof value === 'string' ? parseHostPort(value) : undefined;
        if (parsed !== undefined) return parsed as T;
        add(keyPath, `expected "host:port" with a port from 1 to 65535 (e.g. "10.0.0.1:${DEFAULT_PORT}"), got ${show(value)}`);
        return undefined;
      }
      case 'path':
        if (typeof value === 'string' && value !== '') return path.resolve(baseDir, value) as T;
        add(keyPath, `expected a non-empty path, got ${show(value)}`);
        return undefined;
    }
  }

  /** A section's object (or {} when absent), after reporting unknown keys in it. */
  function section(sectionName: SectionName, extraKeys: readonly string[] = []): Json {
    const value = config[sectionName];
    if (value === undefined) return {};
    if (!isObject(value)) {
      add(sectionName, `expected an object, got ${show(value)}`);
      return {};
    }
    const known = [...Object.keys(SECTIONS[sectionName]), ...extraKeys];
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) add(`${sectionName}.${key}`, `unknown key${didYouMean(key, known)}`);
    }
    return value;
  }

  /** Every leaf of a section, validated (absent keys left undefined). */
  function leaves(sectionName: SectionName, obj: Json): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(SECTIONS[sectionName]) as [string, LeafSpec][]) {
      out[key] = leaf(`${sectionName}.${key}`, spec, obj[key]);
    }
    return out;
  }

  function readFile(keyPath: string, absolutePath: string): string | undefined {
    if (options.readFile === undefined) {
      add(keyPath, `refers to a file (${absolutePath}) but this configuration was given as an object; load it with loadConfig() or give the value inline`);
      return undefined;
    }
    try {
      return options.readFile(absolutePath);
    } catch (err) {
      add(keyPath, `cannot read ${JSON.stringify(absolutePath)}: ${(err as Error).message}`);
      return undefined;
    }
  }

  // --- cluster -------------------------------------------------------------------------------
  const clusterRaw = section('cluster', ['members']);
  const cluster = leaves('cluster', clusterRaw);
  let secret = cluster.secret as string | undefined;
  const secretFile = cluster.secretFile as string | undefined;
  if (clusterRaw.secret !== undefined && clusterRaw.secretFile !== undefined) {
    add('cluster.secretFile', 'give cluster.secret or cluster.secretFile, not both');
  } else if (secretFile !== undefined) {
    const text = readFile('cluster.secretFile', secretFile)?.trim();
    if (text !== undefined) {
      if (text.length >= 16) secret = text;
      else add('cluster.secretFile', `the secret in ${JSON.stringify(secretFile)} must be at least 16 characters, it has ${text.length}`);
    }
  } else if (clusterRaw.secret === undefined) {
    add('cluster.secret', 'required: set cluster.secret or cluster.secretFile in the file, or the DERECHO_SECRET environment variable');
  }

  let members: MemberAddress[] | undefined;
  if (clusterRaw.members !== undefined) {
    if (!Array.isArray(clusterRaw.members) || clusterRaw.members.length === 0) {
      add('cluster.members', `expected a non-empty array of { "id", "host", "port" }, got ${show(clusterRaw.members)}`);
    } else {
      members = [];
      const firstWithId = new Map<number, number>();
      const firstWithAddress = new Map<string, number>();
      clusterRaw.members.forEach((entry: unknown, i: number) => {
        const at = `cluster.members[${i}]`;
        if (!isObject(entry)) {
          add(at, `expected { "id", "host", "port" }, got ${show(entry)}`);
          return;
        }
        for (const key of Object.keys(entry)) if (!['id', 'host', 'port'].includes(key)) add(`${at}.${key}`, `unknown key${didYouMean(key, ['id', 'host', 'port'])}`);
        const id = entry.id === undefined ? (add(`${at}.id`, 'required'), undefined) : leaf<number>(`${at}.id`, { kind: nodeId, doc: '' }, entry.id);
        const host = entry.host === undefined ? (add(`${at}.host`, 'required'), undefined) : leaf<string>(`${at}.host`, { kind: { type: 'string', minLength: 1 }, doc: '' }, entry.host);
        const port = entry.port === undefined ? DEFAULT_PORT : leaf<number>(`${at}.port`, { kind: portKind, doc: '' }, entry.port);
        if (id === undefined || host === undefined || port === undefined) return;
        if (firstWithId.has(id)) add(`${at}.id`, `duplicate id ${id} (also cluster.members[${firstWithId.get(id)}])`);
        else firstWithId.set(id, i);
        const address = formatHostPort({ host, port });
        if (firstWithAddress.has(address)) add(at, `duplicate address ${address} (also cluster.members[${firstWithAddress.get(address)}])`);
        else firstWithAddress.set(address, i);
        members!.push({ id, host, port });
      });
    }
  }
  let contact = cluster.contact as HostPort | undefined;
  if (contact === undefined && clusterRaw.contact === undefined) {
    if (members !== undefined && members.length > 0) contact = { host: members[0].host, port: members[0].port };
    else if (clusterRaw.members === undefined) add('cluster.contact', 'required: the "host:port" of the initial leader or of any member (or list cluster.members)');
  }

  // --- node ----------------------------------------------------------------------------------
  const nodeRaw = section('node');
  const node = leaves('node', nodeRaw);
  const id = node.id as number | undefined;
  if (nodeRaw.id === undefined) add('node.id', 'required: give each node its id with --node-id or DERECHO_NODE_ID (or node.id in a per-node file)');
  let host = node.host as string | undefined;
  let port = node.port as number | undefined;
  if (id !== undefined && members !== undefined) {
    const me = members.find((m) => m.id === id);
    if (me === undefined) {
      add('node.id', `node ${id} is not in cluster.members (ids: ${members.map((m) => m.id).join(', ')})`);
    } else {
      const index = members.indexOf(me);
      if (host !== undefined && host !== me.host) add('node.host', `${show(host)} differs from cluster.members[${index}].host (${show(me.host)})`);
      if (port !== undefined && port !== me.port) add('node.port', `${port} differs from cluster.members[${index}].port (${me.port})`);
      host ??= me.host;
      port ??= me.port;
    }
  }
  host ??= SECTIONS.node.host.default;
  port ??= SECTIONS.node.port.default;
  const dataDir = (node.dataDir as string | undefined) ?? path.resolve(baseDir, '.derecho', `node-${id ?? 'unknown'}`);

  // --- multicast and profiles ----------------------------------------------------------------
  const multicastRaw = section('multicast');
  const multicastGiven = leaves('multicast', multicastRaw);
  const multicast = withDefaults('multicast', multicastGiven) as unknown as DerechoConfig['multicast'];
  const checkSmc = (at: string, p: MulticastProfile, given: Record<string, unknown>): void => {
    if (p.maxSmcPayloadBytes > p.maxPayloadBytes && given.maxSmcPayloadBytes !== undefined) {
      add(`${at}.maxSmcPayloadBytes`, `must be ≤ maxPayloadBytes (${p.maxPayloadBytes}), got ${p.maxSmcPayloadBytes}`);
    } else if (p.maxSmcPayloadBytes > p.maxPayloadBytes) {
      add(`${at}.maxPayloadBytes`, `must be ≥ maxSmcPayloadBytes (${p.maxSmcPayloadBytes}), got ${p.maxPayloadBytes}`);
    }
  };
  checkSmc('multicast', multicast, multicastGiven);

  const profiles: Record<string, MulticastProfile> = {};
  if (raw.profiles !== undefined) {
    if (!isObject(raw.profiles)) {
      add('profiles', `expected an object of named profiles, got ${show(raw.profiles)}`);
    } else {
      for (const [profileName, body] of Object.entries(raw.profiles)) {
        const at = `profiles.${profileName}`;
        if (profileName.toLowerCase() === DEFAULT_PROFILE) {
          add(at, 'the default profile is the multicast section itself; set these values there');
          continue;
        }
        if (!isObject(body)) {
          add(at, `expected an object of multicast settings, got ${show(body)}`);
          continue;
        }
        const given: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(body)) {
          const spec = (PROFILE_KEYS as Record<string, LeafSpec>)[key];
          if (spec === undefined) {
            const inMulticast = key in SECTIONS.multicast;
            add(`${at}.${key}`, inMulticast ? 'not a per-profile setting; set it in the multicast section' : `unknown key${didYouMean(key, Object.keys(PROFILE_KEYS))}`);
            continue;
          }
          given[key] = leaf(`${at}.${key}`, spec, value);
        }
        const profile: MulticastProfile = { ...pickProfile(multicast), ...stripUndefined(given) };
        checkSmc(at, profile, given);
        profiles[profileName] = profile;
      }
    }
  }

  // --- failure, persistence, logging ---------------------------------------------------------
  const failureGiven = leaves('failure', section('failure'));
  const failure = withDefaults('failure', failureGiven) as unknown as DerechoConfig['failure'];
  if (failure.failureTimeoutMs <= failure.heartbeatMs) {
    const blame = failureGiven.failureTimeoutMs !== undefined ? 'failure.failureTimeoutMs' : 'failure.heartbeatMs';
    add(
      blame,
      blame === 'failure.failureTimeoutMs'
        ? `must be greater than heartbeatMs (${failure.heartbeatMs}), got ${failure.failureTimeoutMs}`
        : `must be less than failureTimeoutMs (${failure.failureTimeoutMs}), got ${failure.heartbeatMs}`,
    );
  }
  const persistenceGiven = leaves('persistence', section('persistence'));
  const persistence = {
    ...(withDefaults('persistence', persistenceGiven) as unknown as Omit<DerechoConfig['persistence'], 'dir'>),
    dir: (persistenceGiven.dir as string | undefined) ?? path.join(dataDir, 'log'),
  };
  const logging = withDefaults('logging', leaves('logging', section('logging'))) as unknown as DerechoConfig['logging'];

  // --- layout --------------------------------------------------------------------------------
  let layout: GroupLayout | undefined;
  if (raw.layout !== undefined && raw.layoutFile !== undefined) {
    add('layoutFile', 'give layout or layoutFile, not both');
  } else if (raw.layout !== undefined || raw.layoutFile !== undefined) {
    let layoutJson: unknown;
    let root = 'config.layout';
    if (raw.layout !== undefined) {
      layoutJson = raw.layout;
    } else if (typeof raw.layoutFile !== 'string' || raw.layoutFile === '') {
      add('layoutFile', `expected a non-empty path, got ${show(raw.layoutFile)}`);
    } else {
      const file = path.resolve(baseDir, raw.layoutFile);
      const text = readFile('layoutFile', file);
      root = raw.layoutFile;
      if (text !== undefined) {
        try {
          layoutJson = parseJsonText(text, raw.layoutFile);
        } catch (err) {
          if (!(err instanceof JsonSyntaxError)) throw err;
          add('layoutFile', err.message);
        }
      }
    }
    if (layoutJson !== undefined) {
      const parsed = parseLayoutJson(layoutJson, root);
      for (const issue of parsed.issues) issues.push({ path: issue.path, message: issue.message });
      if (parsed.issues.length === 0) {
        layout = parsed.layout;
        const known = Object.keys(profiles);
        const checkProfile = (profile: string, at: string): void => {
          if (profile === DEFAULT_PROFILE || profile in profiles) return;
          issues.push({
            path: at,
            message: `unknown profile "${profile}"; define it under "profiles"${known.length > 0 ? ` (defined: ${known.join(', ')})` : ''}${didYouMean(profile, known)}`,
          });
        };
        layout.forEach(({ layout: l }, t) => {
          if (l.kind === 'sharded') {
            l.subgroups.forEach((sg, g) => sg.shards.forEach((shard, s) => checkProfile(shard.profile, parsed.paths.shardField(t, g, s, 'profile'))));
          } else {
            checkProfile(l.profile, parsed.paths.entryField(t, 'profile'));
          }
        });
        if (members !== undefined && issues.length === 0) {
          try {
            new SubgroupAllocator(layout).allocate(members.map((m) => m.id));
          } catch (err) {
            if (!(err instanceof InadequateLayoutError)) throw err;
            issues.push({
              path: root,
              message: `cluster.members lists ${members.length} node${members.length === 1 ? '' : 's'} but the layout needs at least ${err.nodesNeeded}, so the group could never start`,
            });
          }
        }
      }
    }
  }

  if (issues.length > 0) fail();
  return {
    cluster: { secret: secret!, contact: contact!, members },
    node: { id: id!, host, port, dataDir },
    multicast,
    profiles,
    failure,
    persistence,
    logging,
    layout,
  };
}

function withDefaults(sectionName: SectionName, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SECTIONS[sectionName]) as [string, LeafSpec][]) {
    out[key] = given[key] ?? spec.default;
  }
  return out;
}

function pickProfile(multicast: MulticastProfile): MulticastProfile {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(PROFILE_KEYS)) out[key] = multicast[key as keyof MulticastProfile];
  return out as unknown as MulticastProfile;
}

function stripUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

/** The multicast settings of a shard's profile ('default' = the multicast section). */
export function profileSettings(config: Pick<DerechoConfig, 'multicast' | 'profiles'>, profile: string): MulticastProfile {
  if (profile === DEFAULT_PROFILE) return pickProfile(config.multicast);
  const found = config.profiles[profile];
  if (found === undefined) throw new Error(`unknown multicast profile ${JSON.stringify(profile)}; defined: default, ${Object.keys(config.profiles).join(', ')}`);
  return found;
}

