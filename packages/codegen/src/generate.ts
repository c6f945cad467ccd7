/**
 * The whole pipeline: discover -> model -> validate -> assign ids -> emit. `generate` computes
 * the generated file and the new lock without writing anything; `writeOutputs` writes the ones
 * that changed. Both work on the project's file system host, so tests run entirely in memory.
 */
import { posix } from 'node:path';
import type { Project } from 'ts-morph';
import { Locator, discover } from './discover.js';
import { emitGenerated } from './emit.js';
import { compareErrors, type CodegenError, type ProjectModel } from './ir.js';
import { EMPTY_LOCK, assignIds, parseLock, serializeLock, type SchemaLock } from './lock.js';
import { buildModel } from './model.js';
import { validateModel } from './validate.js';

export const DEFAULT_OUT_FILE = 'src/derecho.generated.ts';
export const DEFAULT_LOCK_FILE = 'derecho.schema.lock.json';

export interface GenerateOptions {
  readonly project: Project;
  /** Directory paths are relative to (the tsconfig's directory); absolute, `/`-separated. */
  readonly rootDir: string;
  /** Generated file, relative to rootDir. */
  readonly outFile?: string;
  /** Schema lock, relative to rootDir. */
  readonly lockFile?: string;
}

export interface GeneratedOutput {
  /** Absolute path. */
  readonly path: string;
  readonly content: string;
  /** The file is missing or differs. */
  readonly changed: boolean;
}

export interface GenerateResult {
  /** Sorted by file and position. Outputs are empty when there are errors. */
  readonly errors: readonly CodegenError[];
  readonly notices: readonly string[];
  readonly outputs: readonly GeneratedOutput[];
  readonly model: ProjectModel | undefined;
  readonly lock: SchemaLock | undefined;
}

export function generate(options: GenerateOptions): GenerateResult {
  const { project } = options;
  const rootDir = options.rootDir.replace(/\/+$/, '') || '/';
  const outFile = options.outFile ?? DEFAULT_OUT_FILE;
  const lockFile = options.lockFile ?? DEFAULT_LOCK_FILE;
  const fs = project.getFileSystem();
  const outPath = posix.join(rootDir, outFile);
  const lockPath = posix.join(rootDir, lockFile);
  const lockName = posix.basename(lockFile);
  const locator = new Locator(rootDir);

  const discovery = discover(project, locator);
  const { model, errors: modelErrors } = buildModel(project, discovery.classes, locator);
  const errors: CodegenError[] = [...discovery.errors, ...modelErrors, ...validateModel(model)];

  let previous = EMPTY_LOCK;
  const oldLockText = fs.fileExistsSync(lockPath) ? fs.readFileSync(lockPath) : undefined;
  if (oldLockText !== undefined) {
    const parsed = parseLock(oldLockText, lockName);
    errors.push(...parsed.errors);
    previous = parsed.lock;
  }
  const assignment = assignIds(model, previous, lockName);
  errors.push(...assignment.errors);
  if (errors.length > 0) return { errors: [...errors].sort(compareErrors), notices: [], outputs: [], model, lock: undefined };

  const generated = emitGenerated({ model, ids: assignment.ids, outFile, lockName });
  const lockText = serializeLock(assignment.lock);
  const oldGenerated = fs.fileExistsSync(outPath) ? fs.readFileSync(outPath) : undefined;
  return {
    errors: [],
    notices: assignment.notices,
    outputs: [
      { path: outPath, content: generated, changed: oldGenerated !== generated },
      { path: lockPath, content: lockText, changed: oldLockText !== lockText },
    ],
    model,
    lock: assignment.lock,
  };
}

/** Writes the outputs that changed; returns their paths. */
export function writeOutputs(project: Project, result: GenerateResult): string[] {
  const fs = project.getFileSystem();
  const written: string[] = [];
  for (const output of result.outputs) {
    if (!output.changed) continue;
    fs.mkdirSync(posix.dirname(output.path));
    fs.writeFileSync(output.path, output.content);
    written.push(output.path);
  }
  return written;
}
