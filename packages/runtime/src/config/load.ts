/**
 * The configuration's only I/O: find the file (--config > DERECHO_CONFIG > the caller's path), read
 * it and the files it names, then hand everything to the pure validator. Precedence of values:
 * flag > environment variable > file > default.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, type ConfigIssue } from './errors.js';
import { JsonSyntaxError, parseJsonText } from './json-text.js';
import { applyOverrides, envOverrides, parseConfigArgs } from './overrides.js';
import type { DerechoConfig } from './schema.js';
import { validateConfig } from './validate.js';

export interface LoadConfigOptions {
  /** The config file, unless --config or DERECHO_CONFIG name another. Optional: without any file,
   * flags, environment and defaults must supply everything. */
  readonly path?: string;
  /** Configuration flags (`--node-id 3`, `--set key=value`, ...); default none. */
  readonly argv?: readonly string[];
  /** Arguments in `argv` that are not configuration flags: errors (default), or ignored when
   *  `argv` is a whole program's command line (`Group.join` reading process.argv). */
  readonly otherArgs?: 'error' | 'ignore';
  /** Environment to read DERECHO_* variables from; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

function readUtf8(file: string): string {
  return readFileSync(file, 'utf8');
}

/** Loads, merges and validates the configuration. Throws ConfigError listing every problem. */
export function loadConfig(options: LoadConfigOptions = {}): DerechoConfig {
  const args = parseConfigArgs(options.argv ?? [], { others: options.otherArgs });
  const env = envOverrides(options.env ?? process.env);
  const issues: ConfigIssue[] = [...args.issues];
  const file = args.configPath ?? env.configPath ?? options.path;

  let raw: unknown = {};
  let baseDir = process.cwd();
  if (file !== undefined) {
    const absolute = path.resolve(file);
    baseDir = path.dirname(absolute);
    let text: string | undefined;
    try {
      text = readUtf8(absolute);
    } catch (err) {
      issues.push({ path: file, message: `cannot read the config file: ${(err as Error).message}` });
    }
    if (text !== undefined) {
      try {
        raw = parseJsonText(text, file);
      } catch (err) {
        if (!(err instanceof JsonSyntaxError)) throw err;
        issues.push({ path: `${file}:${err.line}:${err.column}`, message: err.message.slice(err.message.indexOf('invalid JSON')) });
      }
    }
    if (issues.some((i) => i.path.startsWith(file))) throw new ConfigError(issues);
  }

  // Environment first, flags after: the later layer wins.
  const merged = applyOverrides(raw, [...env.overrides, ...args.overrides]);
  return validated(() => validateConfig(merged.raw, { baseDir, readFile: readUtf8, labels: merged.labels, source: file }), issues, file);
}

/** Runs the validator and reports its problems together with those found before it. */
function validated(validate: () => DerechoConfig, earlier: readonly ConfigIssue[], file: string | undefined): DerechoConfig {
  let config: DerechoConfig | undefined;
  let later: readonly ConfigIssue[] = [];
  try {
    config = validate();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    later = err.issues;
  }
  if (earlier.length > 0 || config === undefined) throw new ConfigError([...earlier, ...later], file);
  return config;
}

/**
 * A configuration given either as a file path or as an object (e.g. `Group.join({ config })`).
 * Objects are validated as they are (relative paths against the working directory; files they
 * name are read), with the same flag and environment layering.
 */
export function resolveConfig(input: string | object, options: Omit<LoadConfigOptions, 'path'> = {}): DerechoConfig {
  if (typeof input === 'string') return loadConfig({ ...options, path: input });
  const args = parseConfigArgs(options.argv ?? [], { others: options.otherArgs });
  const env = envOverrides(options.env ?? process.env);
  const merged = applyOverrides(input, [...env.overrides, ...args.overrides]);
  return validated(() => validateConfig(merged.raw, { baseDir: process.cwd(), readFile: readUtf8, labels: merged.labels }), args.issues, undefined);
}
