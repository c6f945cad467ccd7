/**
 * The configuration schema: every key, its type, default and meaning, as data. Validation, the
 * coercion of flag and environment strings, and the README's key table all follow this one table,
 * so a key cannot be accepted in one place and unknown in another.
 */
import type { MemberAddress } from '../core/membership/group-view.js';
import type { GroupLayout } from '../layout/spec.js';
import type { LogSigningConfig } from './signing-section.js';

/** The settings a shard's profile can change (Derecho's `SUBGROUP/<profile>` section). */
export interface MulticastProfile {
  readonly windowSize: number;
  readonly maxPayloadBytes: number;
  readonly maxReplyPayloadBytes: number;
  readonly maxSmcPayloadBytes: number;
  readonly blockBytes: number;
  readonly sendAlgorithm: SendAlgorithm;
}

export type SendAlgorithm = 'binomial' | 'chain' | 'sequential' | 'tree';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** A member's id and address (the same type as in views). */
export type { MemberAddress };

/** A validated configuration: every default filled in, every path absolute. */
export interface DerechoConfig {
  readonly cluster: {
    /** The shared secret proven (by HMAC) in every connection handshake (the first of `secrets`). */
    readonly secret: string;
    /**
     * Every secret accepted, the preferred first: one, or during a rotation [new, old] (each
     * connection proves the first both sides hold).
     */
    readonly secrets: readonly string[];
    /** Where a node that is not the initial leader asks to join. */
    readonly contact: HostPort;
    /** The members of a static deployment, if the file lists them. */
    readonly members: readonly MemberAddress[] | undefined;
  };
  readonly node: {
    readonly id: number;
    /** The address this node advertises to the others (an IPv4 address once resolved). */
    readonly host: string;
    /** The address this node listens on: `host` unless given (e.g. 0.0.0.0 in a container). */
    readonly bindHost: string;
    readonly port: number;
    readonly dataDir: string;
  };
  readonly multicast: MulticastProfile & {
    readonly maxP2pRequestBytes: number;
    readonly maxP2pReplyBytes: number;
    readonly p2pWindowSize: number;
  };
  /** Named multicast profiles for shards; each is `multicast` with some values overridden. */
  readonly profiles: Readonly<Record<string, MulticastProfile>>;
  readonly failure: {
    readonly heartbeatMs: number;
    readonly failureTimeoutMs: number;
    readonly blockedLoopLimitMs: number;
    readonly partitionSafety: boolean;
  };
  readonly persistence: {
    readonly enabled: boolean;
    readonly dir: string;
    readonly fsync: boolean;
    /** Default retention of every versioned field (unset: keep every version). */
    readonly retainVersions?: number;
    readonly retainSeconds?: number;
    readonly retainBytes?: number;
    /** Signed logs: this node's key that signs its logs, and the members' public keys. Absent: logs are not signed. */
    readonly signing?: LogSigningConfig;
  };
  readonly logging: {
    readonly level: LogLevel;
    readonly remoteStacks: boolean;
  };
  /** The operator's HTTP endpoints: /metrics (Prometheus) and /status (JSON). */
  readonly ops: {
    /** Off (no server) unless given. */
    readonly httpPort: number | undefined;
    /** Where the HTTP server listens: node.bindHost unless given. */
    readonly httpHost: string;
  };
  /** The HTTP/JSON gateway this member serves (none unless `port` is set). */
  readonly gateway: {
    readonly port?: number;
    readonly host: string;
    readonly maxBodyBytes: number;
  };
  /** The subgroup layout, if the deployment gives one (otherwise the code's own layout is used). */
  readonly layout: GroupLayout | undefined;
  readonly security: {
    /** TLS on every connection, when configured. */
    readonly tls: TlsFiles | undefined;
  };
}

/** security.tls: the paths given (absolute) and the PEM texts read from them. */
export interface TlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export type LeafType =
  | { readonly type: 'int'; readonly min: number; readonly max: number; readonly expect?: string }
  | { readonly type: 'bool' }
  | { readonly type: 'string'; readonly minLength?: number; readonly secret?: boolean }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | { readonly type: 'host' }
  | { readonly type: 'hostPort' }
  | { readonly type: 'path' };

export interface LeafSpec {
  readonly kind: LeafType;
  /** Shown in the README; `undefined` default means required or derived (said in `doc`). */
  readonly default?: string | number | boolean;
  readonly doc: string;
}

const MAX_U32 = 0xffffffff;
const positiveInt: LeafType = { type: 'int', min: 1, max: Number.MAX_SAFE_INTEGER };
const bytes = (min = 1): LeafType => ({ type: 'int', min, max: Number.MAX_SAFE_INTEGER });
export const port: LeafType = { type: 'int', min: 1, max: 65535, expect: 'a port number (an integer from 1 to 65535)' };
export const nodeId: LeafType = { type: 'int', min: 0, max: MAX_U32, expect: `a node id (an integer from 0 to ${MAX_U32})` };

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
export const SEND_ALGORITHMS: readonly SendAlgorithm[] = ['binomial', 'chain', 'sequential', 'tree'];

export const DEFAULT_PORT = 23580;

/** The keys a profile may override, with the defaults of Derecho's `SUBGROUP/DEFAULT`. */
export const PROFILE_KEYS = {
  windowSize: { kind: positiveInt, default: 16, doc: 'Messages each sender may have in flight per shard (pipeline depth); each member preallocates windowSize × shard size message buffers.' },
  maxPayloadBytes: { kind: bytes(), default: 10240, doc: 'Largest multicast payload; bigger messages are refused.' },
  maxReplyPayloadBytes: { kind: bytes(), default: 10240, doc: 'Largest reply to an ordered call.' },
  maxSmcPayloadBytes: { kind: bytes(), default: 10240, doc: 'Payloads up to this size travel by SST multicast (SMC), larger ones by RDMC; must be ≤ maxPayloadBytes.' },
  blockBytes: { kind: bytes(), default: 262144, doc: 'RDMC block size; large messages are split into blocks of this size. (Derecho uses 1 MiB over RDMA; over TCP, 256 KiB blocks pipeline better: 1 MiB messages 0.59 -> 0.66 GB/s, 100 MiB 0.36 -> 0.49 GB/s per member, 3 members.)' },
  sendAlgorithm: { kind: { type: 'enum', values: SEND_ALGORITHMS }, default: 'binomial', doc: 'RDMC dissemination pattern (Derecho\'s rdmc_send_algorithm).' },
} as const satisfies Record<keyof MulticastProfile, LeafSpec>;

/** Every section of plain leaves, by section then key. */
export const SECTIONS = {
  cluster: {
    secret: { kind: { type: 'string', minLength: 16, secret: true }, doc: 'Shared cluster secret (at least 16 characters); every connection proves it by HMAC. Give this, secretFile, or DERECHO_SECRET.' },
    secretFile: { kind: { type: 'path' }, doc: 'File holding the cluster secret (surrounding whitespace ignored); relative to the config file.' },
    contact: { kind: { type: 'hostPort' }, doc: '"host:port" of the initial leader or of any member (host: an IPv4 address or a host name); a node whose own host:port equals it starts the group. Required unless members is given (then the first member).' },
  },
  node: {
    id: { kind: nodeId, doc: 'This node\'s id, unique in the group. Required; usually given per node (--node-id / DERECHO_NODE_ID).' },
    host: { kind: { type: 'host' }, default: '127.0.0.1', doc: 'Address this node advertises to the others (and listens on, unless bindHost is given): an IPv4 address or a host name, resolved to IPv4 when the node starts (from cluster.members when listed there).' },
    bindHost: { kind: { type: 'host' }, doc: 'Address this node listens on when it differs from the address it advertises (containers, NAT), e.g. "0.0.0.0" for every interface. Default: node.host.' },
    port: { kind: port, default: DEFAULT_PORT, doc: 'The one TCP port this node listens on, for every kind of connection (from cluster.members when listed there).' },
    dataDir: { kind: { type: 'path' }, doc: 'Directory for this node\'s state. Default: ".derecho/node-<id>" beside the config file.' },
  },
  multicast: {
    ...PROFILE_KEYS,
    maxP2pRequestBytes: { kind: bytes(), default: 10240, doc: 'Largest point-to-point request payload.' },
    maxP2pReplyBytes: { kind: bytes(), default: 10240, doc: 'Largest point-to-point reply payload.' },
    p2pWindowSize: { kind: positiveInt, default: 16, doc: 'Point-to-point requests in flight per peer.' },
  },
  failure: {
    heartbeatMs: { kind: positiveInt, default: 100, doc: 'Period of the failure detector: heartbeats and acknowledged writes.' },
    failureTimeoutMs: { kind: positiveInt, default: 2000, doc: 'A peer silent (or a write unacknowledged) this long is suspected of failure; must be > heartbeatMs.' },
    blockedLoopLimitMs: { kind: positiveInt, default: 20000, doc: 'While this node\'s event loop is blocked (a slow handler, GC, a busy machine), its native I/O thread keeps acknowledging heartbeats for it, for at most this long; a node stuck longer is suspected failureTimeoutMs later.' },
    partitionSafety: { kind: { type: 'bool' }, default: true, doc: 'A node that sees half or more of the view suspected shuts down rather than risk a split brain (Derecho\'s default is off; ours is on).' },
  },
  persistence: {
    enabled: { kind: { type: 'bool' }, default: true, doc: 'Keep Persistent<T> logs on disk (off: Persistent fields behave as Volatile).' },
    dir: { kind: { type: 'path' }, doc: 'Directory of the logs. Default: "<node.dataDir>/log".' },
    fsync: { kind: { type: 'bool' }, default: true, doc: 'fdatasync each delivery batch before reporting it persisted (off: faster, loses the tail on power failure).' },
    retainVersions: { kind: positiveInt, doc: 'Keep only the newest this many versions of each versioned field (a field\'s own `retention` option wins). Default: keep all.' },
    retainSeconds: { kind: positiveInt, doc: 'Keep only the versions of the last this many seconds of each versioned field. Default: keep all.' },
    retainBytes: { kind: bytes(), doc: 'Keep at most this many bytes of version records per versioned field. Default: keep all. Retention trims only below the shard\'s global persistence frontier.' },
  },
  // Only special keys (security.tls) so far.
  security: {},
  logging: {
    level: { kind: { type: 'enum', values: LOG_LEVELS }, default: 'info', doc: 'Least severe level logged.' },
    remoteStacks: { kind: { type: 'bool' }, default: false, doc: 'Replicas send the stack of an exception an RPC handler throws with the error: the caller\'s RemoteError carries it (remoteStack, and cause.stack). Off by default: a stack shows code paths to every caller.' },
  },
  ops: {
    httpPort: { kind: port, doc: 'TCP port of this node\'s HTTP server for operators: GET /metrics (Prometheus text format) and GET /status (JSON: view, shards, frontiers, wedged or not). Default: off (no server).' },
    httpHost: { kind: { type: 'host' }, doc: 'Address the HTTP server listens on. Default: node.bindHost.' },
  },
  gateway: {
    port: { kind: port, doc: 'Serve the HTTP/JSON gateway (POST/GET /v1/<Class>/<shard>/<method>, /openapi.json, /healthz, /readyz) on this port. Default: no gateway. Must differ from node.port.' },
    host: { kind: { type: 'string', minLength: 1 }, default: '127.0.0.1', doc: 'Address the gateway listens on.' },
    maxBodyBytes: { kind: bytes(), default: 1048576, doc: 'Largest request body the gateway accepts; larger ones get 413 and never reach the members.' },
  },
} as const satisfies Record<string, Record<string, LeafSpec>>;

export type SectionName = keyof typeof SECTIONS;

/** Keys that are not plain leaves of a section. */
export const SPECIAL_KEYS = {
  'cluster.members': 'Static membership: an array of { "id", "host", "port" }. Optional.',
  'cluster.secrets': 'Instead of secret: 1 to 4 secrets (each at least 16 characters), the new one first, for a rotation without downtime: any is accepted, each connection proves the first both sides hold. Restart members one by one onto [new, old], then onto [new]. Optional; exclusive with secret and secretFile.',
  'security.tls': 'TLS 1.3 on every connection (SST writes, RDMC, P2P, control): { "caFile", "certFile", "keyFile" }, PEM files relative to the config file. Mutual authentication against the cluster CA (caFile); each node\'s certificate (certFile, with its key keyFile, unencrypted) must carry its node id as the subjectAltName URI derecho:node:<id>, and a peer whose certificate does not carry the id it claims is refused. Every member must have it, or none. Optional; off when absent.',
  profiles: 'Named multicast profiles: { "<NAME>": { <any multicast profile key> } }. Optional.',
  layout: 'Subgroup layout (JSON layout format, see below). Optional; exclusive with layoutFile.',
  layoutFile: 'File holding the subgroup layout, relative to the config file. Optional.',
  'persistence.signing':
    'Signed logs: { "privateKeyFile": this node\'s Ed25519 private key (PEM), "publicKeyFiles": { "<node id>": public key (PEM) } }, paths relative to the config file. Every version this node persists is signed; anyone with its public key can verify its logs. Optional.',
} as const;

export const TOP_LEVEL_KEYS: readonly string[] = [...Object.keys(SECTIONS), 'profiles', 'layout', 'layoutFile', '$schema'];

/** Every leaf key path ("multicast.windowSize") with its spec. */
export function leafPaths(): [string, LeafSpec][] {
  return Object.entries(SECTIONS).flatMap(([section, leaves]) =>
    Object.entries(leaves as Record<string, LeafSpec>).map(([key, spec]): [string, LeafSpec] => [`${section}.${key}`, spec]),
  );
}
