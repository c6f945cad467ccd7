/**
 * `derecho init <dir>`: writes a new application from the template shipped in this package
 * (templates/app: a `@Replicated` class, a member program, a local launcher, codegen and tsc
 * scripts). The CLI wires the subcommand; this module only writes files.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The package root, from src/cli (sources) or dist/src/cli (compiled). */
const packageRoot = resolve(here, import.meta.url.includes('/dist/') ? '../../..' : '../..');
export const TEMPLATE_DIR = join(packageRoot, 'templates', 'app');

/** npm drops `.gitignore` from published packages, so the template keeps it without the dot. */
const RENAMED: Readonly<Record<string, string>> = { gitignore: '.gitignore' };

export interface InitOptions {
  /** The package name of the new project (default: the directory's name). */
  readonly name?: string;
  /** Write into a directory that already has files (existing template files are overwritten). */
  readonly force?: boolean;
}

export interface InitResult {
  readonly dir: string;
  /** The files written, relative to dir. */
  readonly files: readonly string[];
  /** The commands to run next, in order. */
  readonly nextSteps: readonly string[];
}

export class InitError extends Error {
  override name = 'InitError';
}

/** A valid npm package name made of the directory's name. */
function packageNameOf(dir: string): string {
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '');
  return name.length > 0 ? name.slice(0, 214) : 'derecho-app';
}

function templateFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? templateFiles(path) : [path];
    });
}

/**
 * Writes the template project into `dir` (created if missing): package.json named after the
 * directory and depending on this version of derecho-ts. Refuses a directory that already has
 * files unless `force`.
 */
export function initProject(dir: string, options: InitOptions = {}): InitResult {
  const target = resolve(dir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new InitError(`${target} exists and is not a directory; name a new directory`);
    if (!options.force && readdirSync(target).length > 0) {
      throw new InitError(`${target} is not empty; name a new directory, or pass force to write the template files over it`);
    }
  }
  const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const written: string[] = [];
  for (const source of templateFiles(TEMPLATE_DIR)) {
    const rel = relative(TEMPLATE_DIR, source);
    const out = join(dirname(rel), RENAMED[basename(rel)] ?? basename(rel));
    let content = readFileSync(source, 'utf8');
    if (rel === 'package.json') content = projectManifest(content, options.name ?? packageNameOf(target), version);
    mkdirSync(dirname(join(target, out)), { recursive: true });
    writeFileSync(join(target, out), content);
    written.push(out);
  }
  return { dir: target, files: written, nextSteps: [`cd ${shellPath(target)}`, 'npm install', 'npm run build', 'npm start'] };
}

/** `target` as a user types it: relative when it is below the working directory, quoted if needed. */
function shellPath(target: string): string {
  const rel = relative(process.cwd(), target);
  const path = rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? target : rel;
  return /^[\w./@+-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** The template's package.json with the project's name and every @derecho-ts package at `version`. */
function projectManifest(template: string, name: string, version: string): string {
  const manifest = JSON.parse(template) as { name: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  manifest.name = name;
  for (const deps of [manifest.dependencies, manifest.devDependencies]) {
    for (const dep of Object.keys(deps ?? {})) if (dep.startsWith('@derecho-ts/')) deps![dep] = `^${version}`;
  }
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
