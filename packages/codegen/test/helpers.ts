import { Project, ts } from 'ts-morph';
import { generate, serializeLock, type GenerateResult, type SchemaLock } from '@derecho-ts/codegen';

export const RUNTIME_IMPORT = `import { Ordered, P2P, Replicated } from '@derecho-ts/runtime';\n`;

/** An in-memory project rooted at `/`, with Node's Buffer declared as @types/node does. */
export function memoryProject(files: Record<string, string>): Project {
  const project = new Project({
    useInMemoryFileSystem: true,
    compilerOptions: { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler },
  });
  project.createSourceFile('/node_modules/@types/node/buffer.d.ts', 'declare class Buffer extends Uint8Array { private readonly brand: unknown }\n');
  for (const [path, text] of Object.entries(files)) project.createSourceFile(path, text);
  return project;
}

/** Runs the pipeline on `files` with `lock` as the existing lock file. */
export function run(files: Record<string, string>, lock?: SchemaLock | string): GenerateResult {
  const project = memoryProject(files);
  if (lock !== undefined) project.getFileSystem().writeFileSync('/derecho.schema.lock.json', typeof lock === 'string' ? lock : serializeLock(lock));
  return generate({ project, rootDir: '/' });
}

/** The lock a successful run produced; throws listing the errors otherwise. */
export function lockOf(result: GenerateResult): SchemaLock {
  if (result.lock === undefined) throw new Error(`expected success, got:\n${result.errors.map((e) => e.message).join('\n')}`);
  return result.lock;
}

export function messages(result: GenerateResult): string[] {
  return result.errors.map((e) => `${e.location === undefined ? '' : `${e.location.file}:${e.location.line}:${e.location.column}: `}${e.message}`);
}

/** `methods` of one class in a lock, as name -> id. */
export function idsOf(lock: SchemaLock, className: string): Record<string, number> {
  return Object.fromEntries(Object.entries(lock.classes[className].methods).map(([name, m]) => [name, m.id]));
}
