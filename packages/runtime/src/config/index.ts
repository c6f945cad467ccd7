/** Configuration: one JSON file per deployment, per-node flags and environment, validation. */
export {
  type DerechoConfig,
  type MulticastProfile,
  type SendAlgorithm,
  type LogLevel,
  type HostPort,
  type TlsFiles,
  type MemberAddress,
  type LeafSpec,
  SECTIONS as CONFIG_SECTIONS,
  PROFILE_KEYS,
  SPECIAL_KEYS as CONFIG_SPECIAL_KEYS,
  LOG_LEVELS,
  SEND_ALGORITHMS,
  DEFAULT_PORT,
  leafPaths as configKeyPaths,
} from './schema.js';
export { ConfigError, type ConfigIssue } from './errors.js';
export { type LogSigningConfig } from './signing-section.js';
export { validateConfig, profileSettings, parseHostPort, type ValidateConfigOptions } from './validate.js';
export {
  NODE_OPTIONS,
  CONFIG_FLAG,
  CONFIG_ENV,
  SET_FLAG,
  parseConfigArgs,
  envOverrides,
  applyOverrides,
  type NodeOption,
  type Override,
  type ParsedArgs,
} from './overrides.js';
export { JsonSyntaxError, parseJsonText } from './json-text.js';
export { resolveAddresses, type ResolveIpv4 } from './resolve-addresses.js';
export { classifyHost, type HostKind } from './host-address.js';
export { loadConfig, resolveConfig, type LoadConfigOptions } from './load.js';
export { didYouMean, closestKey } from '../util/did-you-mean.js';
