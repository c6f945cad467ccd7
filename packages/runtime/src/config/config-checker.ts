/**
 * What every part of config validation shares: the problems found so far (each naming its key
 * path, or the flag or variable the value came from), the checks of one leaf and of one
 * section's keys against the schema, and reading the files the config refers to.
 */
import * as path from 'node:path';
import { show } from '../layout/show.js';
import { didYouMean } from '../util/did-you-mean.js';
import { isJsonObject, type JsonObject } from '../util/json-object.js';
import type { ConfigIssue } from './errors.js';
import { checkLeaf } from './leaf-checks.js';
import { SECTIONS, type LeafSpec, type LeafType, type SectionName } from './schema.js';

export interface ConfigCheckerOptions {
  /** Relative paths in the config are resolved against this (the config file's directory). */
  readonly baseDir?: string;
  /** Reads a file the config refers to (absolute path, utf-8). Without it, such keys are errors. */
  readonly readFile?: (absolutePath: string) => string;
  /** Key path -> label for values that came from flags or the environment. */
  readonly labels?: ReadonlyMap<string, string>;
}

/** One section's keys as given (undefined where absent or invalid), and with the schema's defaults filled in. */
export interface SectionValues {
  readonly given: Record<string, unknown>;
  readonly values: Record<string, unknown>;
}

export class ConfigChecker {
  readonly issues: ConfigIssue[] = [];
  readonly baseDir: string;

  constructor(private readonly options: ConfigCheckerOptions) {
    this.baseDir = path.resolve(options.baseDir ?? '.');
  }

  /** Reports a problem with `keyPath` ('' for the whole config). */
  add(keyPath: string, message: string): void {
    this.issues.push({ path: keyPath === '' ? 'config' : (this.options.labels?.get(keyPath) ?? `config.${keyPath}`), message });
  }

  /** Reports a problem at a place named as is (a layout path, which already names its root). */
  addAt(place: string, message: string): void {
    this.issues.push({ path: place, message });
  }

  /** One leaf value checked against its kind; undefined when absent or invalid. */
  leaf<T>(keyPath: string, kind: LeafType, value: unknown): T | undefined {
    if (value === undefined) return undefined;
    const result = checkLeaf(kind, value, this.baseDir);
    if (result.ok) return result.value as T;
    this.add(keyPath, result.problem);
    return undefined;
  }

  /** Reports every key of `obj` not in `known`, with a suggestion. */
  unknownKeys(obj: JsonObject, at: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) if (!known.includes(key)) this.add(at === '' ? key : `${at}.${key}`, `unknown key${didYouMean(key, known)}`);
  }

  /** A section's object (or {} when absent), after reporting unknown keys in it. */
  section(config: JsonObject, name: SectionName, extraKeys: readonly string[] = []): JsonObject {
    const value = config[name];
    if (value === undefined) return {};
    if (!isJsonObject(value)) {
      this.add(name, `expected an object, got ${show(value)}`);
      return {};
    }
    this.unknownKeys(value, name, [...Object.keys(SECTIONS[name]), ...extraKeys]);
    return value;
  }

  /** Every leaf of a section checked against the schema, and the section with its defaults. */
  leaves(name: SectionName, obj: JsonObject): SectionValues {
    const given: Record<string, unknown> = {};
    const values: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(SECTIONS[name]) as [string, LeafSpec][]) {
      given[key] = this.leaf(`${name}.${key}`, spec.kind, obj[key]);
      values[key] = given[key] ?? spec.default;
    }
    return { given, values };
  }

  /** The text of a file the config refers to, or undefined after reporting why it cannot be read. */
  readFile(keyPath: string, absolutePath: string): string | undefined {
    if (this.options.readFile === undefined) {
      this.add(keyPath, `refers to a file (${absolutePath}) but this configuration was given as an object; load it with loadConfig() or give the value inline`);
      return undefined;
    }
    try {
      return this.options.readFile(absolutePath);
    } catch (err) {
      this.add(keyPath, `cannot read ${JSON.stringify(absolutePath)}: ${(err as Error).message}`);
      return undefined;
    }
  }
}
