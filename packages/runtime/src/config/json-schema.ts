/**
 * The JSON Schema of cluster.json, generated from the configuration schema (schema.ts), so an
 * editor completes and checks the file with the same keys, types, defaults and docs the validator
 * uses. Checked in as schemas/cluster.schema.json (`derecho config-schema` prints it; a test keeps the two
 * equal). The validator stays the authority: the schema cannot say everything it checks (e.g.
 * maxSmcPayloadBytes ≤ maxPayloadBytes, the layout's own rules).
 */
import { nodeId, port, PROFILE_KEYS, SECTIONS, SPECIAL_KEYS, type LeafSpec, type LeafType } from './schema.js';

type JsonSchema = Record<string, unknown>;

/** Where the checked-in file lives, relative to the package root (also named in the test). */
export const CLUSTER_SCHEMA_FILE = 'schemas/cluster.schema.json';

function leafType(kind: LeafType): JsonSchema {
  switch (kind.type) {
    case 'int':
      return { type: 'integer', minimum: kind.min, ...(kind.max < Number.MAX_SAFE_INTEGER ? { maximum: kind.max } : {}) };
    case 'bool':
      return { type: 'boolean' };
    case 'string':
      return { type: 'string', ...(kind.minLength !== undefined ? { minLength: kind.minLength } : {}) };
    case 'enum':
      return { enum: [...kind.values] };
    case 'host':
      // An IPv4 address or a host name (host-address.ts); IPv6 is refused by the validator.
      return { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_.-]+$' };
    case 'hostPort':
      // validate.ts's parseHostPort: "host:port", or "[ipv6]:port".
      return { type: 'string', pattern: '^(\\[[^\\]]+\\]|[^:\\s]+):[0-9]{1,5}$' };
    case 'path':
      return { type: 'string', minLength: 1 };
  }
}

function leaf(spec: LeafSpec): JsonSchema {
  return { description: spec.doc, ...leafType(spec.kind), ...(spec.default !== undefined ? { default: spec.default } : {}) };
}

function section(leaves: Readonly<Record<string, LeafSpec>>, extra: Record<string, JsonSchema> = {}): JsonSchema {
  return {
    type: 'object',
    properties: { ...Object.fromEntries(Object.entries(leaves).map(([key, spec]) => [key, leaf(spec)])), ...extra },
    additionalProperties: false,
  };
}

/** The keys of a section that are not plain leaves (schema.ts SPECIAL_KEYS). */
function specialKeysOf(sectionName: string, member: JsonSchema): Record<string, JsonSchema> {
  const pemFile = (doc: string): JsonSchema => ({ description: doc, type: 'string', minLength: 1 });
  switch (sectionName) {
    case 'cluster':
      return {
        members: { description: SPECIAL_KEYS['cluster.members'], type: 'array', minItems: 1, items: member },
        secrets: { description: SPECIAL_KEYS['cluster.secrets'], type: 'array', minItems: 1, maxItems: 4, uniqueItems: true, items: { type: 'string', minLength: 16 } },
      };
    case 'security':
      return {
        tls: {
          description: SPECIAL_KEYS['security.tls'],
          type: 'object',
          properties: {
            caFile: pemFile('The cluster CA certificate (PEM) every member\'s certificate chains to.'),
            certFile: pemFile('This node\'s certificate (PEM, then any intermediates), with the subjectAltName URI derecho:node:<id>.'),
            keyFile: pemFile('This node\'s private key (unencrypted PEM), matching certFile.'),
          },
          required: ['caFile', 'certFile', 'keyFile'],
          additionalProperties: false,
        },
      };
    default:
      return {};
  }
}

/** The JSON Schema (draft-07, which editors support best) of a cluster.json file. */
export function clusterJsonSchema(): JsonSchema {
  const sections = SECTIONS as Readonly<Record<string, Readonly<Record<string, LeafSpec>>>>;
  const member = {
    type: 'object',
    properties: {
      id: leaf({ kind: nodeId, doc: 'The member\'s node id, unique in the group.' }),
      host: leaf({ kind: { type: 'host' }, doc: 'The address the member advertises: an IPv4 address or a host name.' }),
      port: leaf({ kind: port, default: 23580, doc: 'The member\'s one TCP port.' }),
    },
    required: ['id', 'host'],
    additionalProperties: false,
  };
  const signing: JsonSchema = {
    description: SPECIAL_KEYS['persistence.signing'],
    type: 'object',
    properties: {
      privateKeyFile: { description: "This node's Ed25519 private key (PEM), relative to the config file.", type: 'string', minLength: 1 },
      publicKeyFiles: { description: 'Public keys (PEM) of the members, by node id.', type: 'object', propertyNames: { pattern: '^[0-9]+$' }, additionalProperties: { type: 'string', minLength: 1 } },
    },
    required: ['privateKeyFile'],
    additionalProperties: false,
  };
  const properties: Record<string, JsonSchema> = {
    $schema: { type: 'string', description: 'Where editors find this schema.' },
  };
  for (const [name, leaves] of Object.entries(sections)) {
    properties[name] = section(leaves, name === 'persistence' ? { signing } : specialKeysOf(name, member));
  }
  // The secret comes from one place only.
  (properties.cluster as JsonSchema).not = {
    anyOf: [{ required: ['secret', 'secretFile'] }, { required: ['secrets', 'secret'] }, { required: ['secrets', 'secretFile'] }],
  };
  properties.profiles = { description: SPECIAL_KEYS.profiles, type: 'object', additionalProperties: section(PROFILE_KEYS) };
  properties.layout = { description: `${SPECIAL_KEYS.layout} Checked by derecho-ts when the node starts.`, type: 'array' };
  properties.layoutFile = { description: SPECIAL_KEYS.layoutFile, type: 'string', minLength: 1 };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'derecho-ts cluster configuration (cluster.json)',
    description: 'One file shared by every node; per-node values (node.id, ...) usually come from flags or DERECHO_* variables. Keys, defaults and meanings: packages/runtime/src/config/README.md.',
    type: 'object',
    properties,
    not: { required: ['layout', 'layoutFile'] },
    additionalProperties: false,
  };
}

/** The schema as the checked-in file holds it. */
export function clusterJsonSchemaText(): string {
  return `${JSON.stringify(clusterJsonSchema(), null, 2)}\n`;
}
