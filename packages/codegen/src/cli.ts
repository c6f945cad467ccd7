#!/usr/bin/env node
/**
 * `derecho-codegen [--project tsconfig.json] [--out src/derecho.generated.ts] [--lock derecho.schema.lock.json] [--check]`
 *
 * Generates the typed registry, wire ids and marshalling schema of a project's @Replicated
 * classes. Paths given to --out and --lock are relative to the tsconfig's directory. --check
 * writes nothing and fails, naming the files, when the generated file or the lock is stale.
 */
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Project } from 'ts-morph';
import { DEFAULT_LOCK_FILE, DEFAULT_OUT_FILE, generate, writeOutputs } from './generate.js';
import { formatError } from './ir.js';

const USAGE = `usage: derecho-codegen [--project <tsconfig.json>] [--out <file>] [--lock <file>] [--check]
  --project  the tsconfig whose program holds the @Replicated classes (default: ./tsconfig.json)
  --out      generated file, relative to the tsconfig's directory (default: ${DEFAULT_OUT_FILE})
  --lock     schema lock, relative to the tsconfig's directory (default: ${DEFAULT_LOCK_FILE})
  --check    write nothing; exit 1 naming the stale files if the output or the lock would change`;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly cwd: string;
}

/** Runs the CLI and returns its exit code: 0 done, 1 errors or stale output, 2 bad usage. */
export function runCli(argv: readonly string[], io: CliIo): number {
  let project = 'tsconfig.json';
  let outFile: string | undefined;
  let lockFile: string | undefined;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string | undefined => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) {
        io.err(`derecho-codegen: ${arg} needs a value\n${USAGE}`);
        return undefined;
      }
      return v;
    };
    if (arg === '--check') check = true;
    else if (arg === '--help' || arg === '-h') {
      io.out(USAGE);
      return 0;
    } else if (arg === '--project' || arg === '-p' || arg === '--out' || arg === '--lock') {
      const v = value();
      if (v === undefined) return 2;
      if (arg === '--out') outFile = v;
      else if (arg === '--lock') lockFile = v;
      else project = v;
    } else {
      io.err(`derecho-codegen: unknown argument '${arg}'\n${USAGE}`);
      return 2;
    }
  }
  const tsconfig = resolve(io.cwd, project);
  let tsProject: Project;
  try {
    tsProject = new Project({ tsConfigFilePath: tsconfig });
  } catch (e) {
    io.err(`derecho-codegen: cannot load ${tsconfig}: ${(e as Error).message}`);
    return 1;
  }
  const result = generate({ project: tsProject, rootDir: dirname(tsconfig).replace(/\\/g, '/'), outFile, lockFile });
  if (result.errors.length > 0) {
    for (const e of result.errors) io.err(formatError(e));
    io.err(`derecho-codegen: ${result.errors.length} error(s); nothing written`);
    return 1;
  }
  const stale = result.outputs.filter((o) => o.changed);
  if (check) {
    if (stale.length === 0) {
      io.out('derecho-codegen: up to date');
      return 0;
    }
    for (const o of stale) io.err(`stale: ${o.path}`);
    for (const n of result.notices) io.err(`  ${n}`);
    io.err('derecho-codegen --check: generated output is stale; run derecho-codegen and commit the result');
    return 1;
  }
  for (const n of result.notices) io.out(n);
  const written = writeOutputs(tsProject, result);
  if (written.length === 0) io.out('derecho-codegen: up to date');
  for (const path of written) io.out(`wrote ${path}`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = runCli(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l), cwd: process.cwd() });
}
