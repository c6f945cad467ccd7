/**
 * Validation of a parsed configuration into a DerechoConfig. Pure: files it refers to (secretFile,
 * layoutFile) are read through an injected `readFile`, so tests and `load.ts` decide what I/O means.
 * Every problem is collected; the error lists them all, each naming its key path.
 *
 * The schema's table (schema.ts) drives it: each section's keys are checked by the check of their
 * kind (leaf-checks.ts) and get the table's defaults; rules between keys are a table too
 * (key-order-rules.ts). What is left here is what the table cannot say: where a secret comes
 * from, how a node's address follows from the member list, and the order of the sections.
 */
import * as path from 'node:path';
import { show } from '../layout/show.js';
import { isJsonObject, type JsonObject } from '../util/json-object.js';
import { ConfigChecker, type ConfigCheckerOptions } from './config-checker.js';
import { ConfigError } from './errors.js';
import { checkKeyOrder, FAILURE_RULES, PROFILE_RULES } from './key-order-rules.js';
import { checkLayout } from './layout-section.js';
import { checkMembers } from './members.js';
import { checkProfiles } from './profiles.js';
import { checkSigning } from './signing-section.js';
import { SECTIONS, TOP_LEVEL_KEYS, type DerechoConfig, type HostPort, type MemberAddress } from './schema.js';
import { checkTls } from './tls-section.js';

export { parseHostPort } from './leaf-checks.js';
export { profileSettings } from './profiles.js';

export interface ValidateConfigOptions extends ConfigCheckerOptions {
  /** Names the file in the error header. */
  readonly source?: string;
}

/** Validates `raw` (a parsed JSON config, with overrides applied). Throws ConfigError. */
export function validateConfig(raw: unknown, options: ValidateConfigOptions = {}): DerechoConfig {
  const check = new ConfigChecker(options);
  if (!isJsonObject(raw)) {
    check.add('', `expected a JSON object with sections such as "cluster" and "node", got ${show(raw)}`);
    throw new ConfigError(check.issues, options.source);
  }
  check.unknownKeys(raw, '', TOP_LEVEL_KEYS);
  const cluster = checkCluster(check, raw);
  const node = checkNode(check, raw, cluster.members);

  const multicastSection = check.leaves('multicast', check.section(raw, 'multicast'));
  checkKeyOrder(check, 'multicast', PROFILE_RULES, multicastSection.values, multicastSection.given);
  const multicast = multicastSection.values as unknown as DerechoConfig['multicast'];
  const profiles = checkProfiles(check, raw.profiles, multicast);

  const failureSection = check.leaves('failure', check.section(raw, 'failure'));
  checkKeyOrder(check, 'failure', FAILURE_RULES, failureSection.values, failureSection.given);
  const persistenceRaw = check.section(raw, 'persistence', ['signing']);
  const persistenceSection = check.leaves('persistence', persistenceRaw);
  const signing = checkSigning(check, persistenceRaw.signing, node.id);
  const persistence = {
    ...(persistenceSection.values as unknown as DerechoConfig['persistence']),
    dir: (persistenceSection.given.dir as string | undefined) ?? path.join(node.dataDir, 'log'),
    ...(signing === undefined ? {} : { signing }),
  };
  const logging = check.leaves('logging', check.section(raw, 'logging')).values as unknown as DerechoConfig['logging'];
  const gateway = check.leaves('gateway', check.section(raw, 'gateway')).values as unknown as DerechoConfig['gateway'];
  if (gateway.port !== undefined && gateway.port === node.port) check.add('gateway.port', `${gateway.port} is node.port, the member's own port; give the gateway another one`);

  const layout = checkLayout(check, raw, profiles, cluster.members);
  const tls = checkTls(check, check.section(raw, 'security', ['tls']).tls, node.id);
  const opsGiven = check.leaves('ops', check.section(raw, 'ops')).given;
  const ops = { httpPort: opsGiven.httpPort as number | undefined, httpHost: (opsGiven.httpHost as string | undefined) ?? node.bindHost };

  if (check.issues.length > 0) throw new ConfigError(check.issues, options.source);
  return {
    cluster: { secret: cluster.secrets[0], secrets: cluster.secrets, contact: cluster.contact!, members: cluster.members },
    node: { ...node, id: node.id! },
    multicast,
    profiles,
    failure: failureSection.values as unknown as DerechoConfig['failure'],
    persistence,
    logging,
    ops,
    gateway,
    layout,
    security: { tls },
  };
}

interface ClusterValues {
  /** Empty only when an issue was reported. */
  readonly secrets: string[];
  readonly contact: HostPort | undefined;
  readonly members: MemberAddress[] | undefined;
}

/** The cluster section: the secret (inline or from its file), the static members, and the contact (by default the first member). */
function checkCluster(check: ConfigChecker, config: JsonObject): ClusterValues {
  const given = check.section(config, 'cluster', ['members', 'secrets']);
  const leaves = check.leaves('cluster', given).given;
  let secret = leaves.secret as string | undefined;
  const secretFile = leaves.secretFile as string | undefined;
  let secrets: string[] | undefined;
  if (given.secrets !== undefined && (given.secret !== undefined || given.secretFile !== undefined)) {
    check.add('cluster.secrets', 'give cluster.secrets, cluster.secret or cluster.secretFile, only one of them');
  } else if (given.secrets !== undefined) {
    secrets = checkSecretList(check, given.secrets);
  } else if (given.secret !== undefined && given.secretFile !== undefined) {
    check.add('cluster.secretFile', 'give cluster.secret or cluster.secretFile, not both');
  } else if (secretFile !== undefined) {
    const text = check.readFile('cluster.secretFile', secretFile)?.trim();
    if (text !== undefined) {
      if (text.length >= 16) secret = text;
      else check.add('cluster.secretFile', `the secret in ${JSON.stringify(secretFile)} must be at least 16 characters, it has ${text.length}`);
    }
  } else if (given.secret === undefined) {
    check.add('cluster.secret', 'required: set cluster.secret or cluster.secretFile in the file, or the DERECHO_SECRET environment variable');
  }

  const members = checkMembers(check, given.members);
  let contact = leaves.contact as HostPort | undefined;
  if (contact === undefined && given.contact === undefined) {
    if (members !== undefined && members.length > 0) contact = { host: members[0].host, port: members[0].port };
    else if (given.members === undefined) check.add('cluster.contact', 'required: the "host:port" of the initial leader or of any member (or list cluster.members)');
  }
  return { secrets: secrets ?? (secret !== undefined ? [secret] : []), contact, members };
}

/** cluster.secrets: 1 to 4 secrets of at least 16 characters, all different (never echoed). */
function checkSecretList(check: ConfigChecker, given: unknown): string[] | undefined {
  if (!Array.isArray(given) || given.length < 1 || given.length > 4) {
    check.add('cluster.secrets', `expected an array of 1 to 4 secrets, the new one first, got ${Array.isArray(given) ? `${given.length} entries` : 'something else'}`);
    return undefined;
  }
  let ok = true;
  given.forEach((s: unknown, i) => {
    if (typeof s !== 'string' || s.length < 16) {
      check.add(`cluster.secrets[${i}]`, `must be a string of at least 16 characters, got ${typeof s === 'string' ? `${s.length} characters` : typeof s}`);
      ok = false;
    } else if (given.indexOf(s) !== i) {
      check.add(`cluster.secrets[${i}]`, `is the same secret as cluster.secrets[${given.indexOf(s)}]`);
      ok = false;
    }
  });
  return ok ? (given as string[]) : undefined;
}

/** The node section: its id (required), and its address, which must agree with its entry in the static members. */
function checkNode(check: ConfigChecker, config: JsonObject, members: readonly MemberAddress[] | undefined): Omit<DerechoConfig['node'], 'id'> & { id: number | undefined } {
  const given = check.section(config, 'node');
  const leaves = check.leaves('node', given).given;
  const id = leaves.id as number | undefined;
  if (given.id === undefined) check.add('node.id', 'required: give each node its id with --node-id or DERECHO_NODE_ID (or node.id in a per-node file)');
  let host = leaves.host as string | undefined;
  let port = leaves.port as number | undefined;
  if (id !== undefined && members !== undefined) {
    const me = members.find((m) => m.id === id);
    if (me === undefined) {
      check.add('node.id', `node ${id} is not in cluster.members (ids: ${members.map((m) => m.id).join(', ')})`);
    } else {
      const index = members.indexOf(me);
      if (host !== undefined && host !== me.host) check.add('node.host', `${show(host)} differs from cluster.members[${index}].host (${show(me.host)})`);
      if (port !== undefined && port !== me.port) check.add('node.port', `${port} differs from cluster.members[${index}].port (${me.port})`);
      host ??= me.host;
      port ??= me.port;
    }
  }
  host ??= SECTIONS.node.host.default;
  return {
    id,
    host,
    bindHost: (leaves.bindHost as string | undefined) ?? host,
    port: port ?? SECTIONS.node.port.default,
    dataDir: (leaves.dataDir as string | undefined) ?? path.resolve(check.baseDir, '.derecho', `node-${id ?? 'unknown'}`),
  };
}
