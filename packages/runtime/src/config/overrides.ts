/**
 * Per-node values from command-line flags and environment variables, layered over the shared file:
 * flag > environment > file > default. Pure: argv and env come in as values.
 *
 * The secret is never accepted as a flag (any user can read a process's arguments with `ps`); it
 * comes from the file, a secret file, or DERECHO_SECRET.
 */
import type { ConfigIssue } from './errors.js';
import { leafPaths, type LeafSpec } from './schema.js';
import { closestKey, didYouMean } from '../util/did-you-mean.js';

export interface NodeOption {
  /** Command-line flag, or undefined for values that must not appear in argv. */
  readonly flag: string | undefined;
  readonly env: string;
  /** Config key path it sets. */
  readonly path: string;
}

export const NODE_OPTIONS: readonly NodeOption[] = [
  { flag: '--node-id', env: 'DERECHO_NODE_ID', path: 'node.id' },
  { flag: '--host', env: 'DERECHO_HOST', path: 'node.host' },
  { flag: '--port', env: 'DERECHO_PORT', path: 'node.port' },
  { flag: '--bind-host', env: 'DERECHO_BIND_HOST', path: 'node.bindHost' },
  { flag: '--http-port', env: 'DERECHO_HTTP_PORT', path: 'ops.httpPort' },
  { flag: '--data-dir', env: 'DERECHO_DATA_DIR', path: 'node.dataDir' },
  { flag: '--contact', env: 'DERECHO_CONTACT', path: 'cluster.contact' },
  { flag: '--secret-file', env: 'DERECHO_SECRET_FILE', path: 'cluster.secretFile' },
  { flag: undefined, env: 'DERECHO_SECRET', path: 'cluster.secret' },
  { flag: '--log-level', env: 'DERECHO_LOG_LEVEL', path: 'logging.level' },
  { flag: '--persistence-dir', env: 'DERECHO_PERSISTENCE_DIR', path: 'persistence.dir' },
];

/** Names the config file: `--config <path>` or DERECHO_CONFIG. */
export const CONFIG_FLAG = '--config';
export const CONFIG_ENV = 'DERECHO_CONFIG';
/** `--set <key.path>=<value>` sets any leaf key. */
export const SET_FLAG = '--set';

/** One value to layer over the file, and how to name it in errors. */
export interface Override {
  readonly path: string;
  readonly value: string;
  /** `--port`, `DERECHO_PORT`, `--set multicast.windowSize`. */
  readonly label: string;
}

export interface ParsedArgs {
  readonly configPath: string | undefined;
  readonly overrides: readonly Override[];
  readonly issues: readonly ConfigIssue[];
}

const LEAVES = new Map<string, LeafSpec>(leafPaths());

const EXCLUSIVE = new Map([
  ['cluster.secret', 'cluster.secretFile'],
  ['cluster.secretFile', 'cluster.secret'],
]);

/** The leaf spec of a key path, if it is one. */
export function leafSpec(path: string): LeafSpec | undefined {
  return LEAVES.get(path);
}

const knownFlags = (): string[] => [CONFIG_FLAG, SET_FLAG, ...NODE_OPTIONS.flatMap((o) => (o.flag === undefined ? [] : [o.flag]))];

export interface ParseConfigArgsOptions {
  /**
   * What to do with arguments that are not configuration flags: `'error'` (the default: the list
   * holds configuration flags only, so anything else is a mistake, reported with a suggestion), or
   * `'ignore'` (the list is a whole program's command line, e.g. process.argv, whose other
   * arguments belong to the program).
   */
  readonly others?: 'error' | 'ignore';
}

/**
 * Reads configuration flags: `--node-id 3`, `--node-id=3`, `--set multicast.windowSize=32`,
 * `--config cluster.json`. Anything else is an error (with a suggestion when it looks like a typo),
 * unless `others: 'ignore'`.
 */
export function parseConfigArgs(argv: readonly string[], options: ParseConfigArgsOptions = {}): ParsedArgs {
  const ignoreOthers = options.others === 'ignore';
  const overrides: Override[] = [];
  const issues: ConfigIssue[] = [];
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const takeValue = (): string | undefined => {
      if (value !== undefined) return value;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        issues.push({ path: flag, message: 'expected a value after it' });
        return undefined;
      }
      i++;
      return next;
    };
    if (flag === '--secret' && !ignoreOthers) {
      issues.push({ path: flag, message: 'the cluster secret is not accepted on the command line (other users can read it with ps); use DERECHO_SECRET, --secret-file or cluster.secret in the file' });
      if (value === undefined && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) i++;
      continue;
    }
    if (flag === CONFIG_FLAG) {
      value = takeValue();
      if (value !== undefined) configPath = value;
      continue;
    }
    if (flag === SET_FLAG) {
      value = takeValue();
      if (value === undefined) continue;
      const split = value.indexOf('=');
      if (split <= 0) {
        issues.push({ path: `${SET_FLAG} ${value}`, message: 'expected <key.path>=<value>, e.g. --set multicast.windowSize=32' });
        continue;
      }
      const path = value.slice(0, split);
      const label = `${SET_FLAG} ${path}`;
      if (path === 'cluster.secret') {
        issues.push({ path: label, message: 'the cluster secret is not accepted on the command line (other users can read it with ps); use DERECHO_SECRET or --secret-file' });
      } else if (!LEAVES.has(path)) {
        issues.push({ path: label, message: `unknown key "${path}"${didYouMean(path, LEAVES.keys())}` });
      } else {
        overrides.push({ path, value: value.slice(split + 1), label });
      }
      continue;
    }
    const option = NODE_OPTIONS.find((o) => o.flag === flag);
    if (option !== undefined) {
      value = takeValue();
      if (value !== undefined) overrides.push({ path: option.path, value, label: flag });
      continue;
    }
    // An unknown option's value (if it seems to have one) is not reported a second time.
    if (arg.startsWith('-') && value === undefined && argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) i++;
    if (ignoreOthers) continue;
    const suggestion = arg.startsWith('-') ? closestKey(flag.replace(/^-+/, '--'), knownFlags()) : undefined;
    issues.push({
      path: flag,
      message: arg.startsWith('-')
        ? `unknown option${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}; options: ${knownFlags().join(', ')}`
        : 'unexpected argument',
    });
  }
  return { configPath, overrides, issues };
}

/** Reads the DERECHO_* variables of NODE_OPTIONS (an empty value counts as unset). */
export function envOverrides(env: Readonly<Record<string, string | undefined>>): { configPath: string | undefined; overrides: Override[] } {
  const overrides: Override[] = [];
  for (const option of NODE_OPTIONS) {
    const value = env[option.env];
    if (value !== undefined && value !== '') overrides.push({ path: option.path, value, label: option.env });
  }
  const configPath = env[CONFIG_ENV];
  return { configPath: configPath === '' ? undefined : configPath, overrides };
}

/** A flag or environment string as the type its key expects; left as is when it does not parse. */
export function coerce(spec: LeafSpec, text: string): unknown {
  switch (spec.kind.type) {
    case 'int':
      return /^-?[0-9]+$/.test(text.trim()) ? Number(text.trim()) : text;
    case 'bool': {
      const t = text.trim().toLowerCase();
      if (t === 'true' || t === '1' || t === 'yes' || t === 'on') return true;
      if (t === 'false' || t === '0' || t === 'no' || t === 'off') return false;
      return text;
    }
    default:
      return text;
  }
}

/**
 * Layers `overrides` (applied in order: the later wins) over the file's raw object. Returns the new
 * raw object and, for each key path set, the label to name it by in errors.
 */
export function applyOverrides(raw: unknown, overrides: readonly Override[]): { raw: unknown; labels: Map<string, string> } {
  const labels = new Map<string, string>();
  if (overrides.length === 0) return { raw, labels };
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  // Only the sections touched are copied; a non-object where a section should be is left for
  // validation to report.
  const out: Record<string, unknown> = isObject(raw) ? { ...raw } : raw === undefined ? {} : (raw as Record<string, unknown>);
  if (!isObject(out)) return { raw, labels };
  for (const { path, value, label } of overrides) {
    const spec = LEAVES.get(path);
    if (spec === undefined) continue;
    const [section, key] = path.split('.');
    const current = out[section];
    if (current !== undefined && !isObject(current)) continue;
    const next: Record<string, unknown> = { ...(current ?? {}), [key]: coerce(spec, value) };
    // The secret and the secret file exclude each other: a higher layer's choice replaces a lower one's.
    const rival = EXCLUSIVE.get(path);
    if (rival !== undefined) {
      delete next[rival.split('.')[1]];
      labels.delete(rival);
    }
    out[section] = next;
    labels.set(path, `${label} (config.${path})`);
  }
  return { raw: out, labels };
}
