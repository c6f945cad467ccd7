#!/usr/bin/env node
/**
 * `derecho-codegen [--project tsconfig.json] [--out src/derecho.generated.ts] [--lock derecho.schema.lock.json] [--check]`
 *
 * Generates the typed registry, wire ids and marshalling schema of a project's @Replicated
 * classes. Paths given to --out and --lock are relative to the tsconfig's directory. --check
 * writes nothing and fails, naming the files, when the generated file or the lock is stale.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Project } from 'ts-morph';
import { DEFAULT_LOCK_FILE, DEFAULT_OUT_FILE, generate, writeOutputs } from './generate.js';
import { formatError } from './ir.js';

const USAGE = `usage: derecho-codegen [--project <tsconfig.json>] [--out <file>] [--lock <file>] [--check]
       derecho-codegen --version
  -p, --project  the tsconfig whose program holds the @Replicated classes (default: ./tsconfig.json)
  --out          generated file, relative to the tsconfig's directory (default: ${DEFAULT_OUT_FILE})
  --lock         schema lock, relative to the tsconfig's directory (default: ${DEFAULT_LOCK_FILE})
  --check        write nothing; exit 1 naming the stale files if the output or the lock would change
exit codes: 0 done (or up to date), 1 errors in the classes or stale output (--check),
            2 usage error (one line on stderr)`;

const OPTIONS = {
  project: { type: 'string', short: 'p' },
  out: { type: 'string' },
  lock: { type: 'string' },
  check: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/** This package's name and version, from its package.json (two levels up from src/ and dist/src/). */
function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@derecho-ts/codegen') return `${pkg.name} ${pkg.version}`;
    } catch {
      // not there from this layout: try the other
    }
  }
  return '@derecho-ts/codegen (unknown version)';
}

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly cwd: string;
}

/** Runs the CLI and returns its exit code: 0 done, 1 errors or stale output, 2 bad usage. */
export function runCli(argv: readonly string[], io: CliIo): number {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw e;
    const message = (e as Error).message.split('\n', 1)[0].replace(/\. To specify a positional argument.*$/, '');
    io.err(`derecho-codegen: ${message} (see derecho-codegen --help)`);
    return 2;
  }
  if (values.help === true) {
    io.out(USAGE);
    return 0;
  }
  if (values.version === true) {
    io.out(version());
    return 0;
  }
  const project = values.project ?? 'tsconfig.json';
  const { out: outFile, lock: lockFile } = values;
  const check = values.check === true;
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
