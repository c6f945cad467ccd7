/**
 * The dependency direction of docs/ARCHITECTURE.md, checked by scanning the import statements of
 * packages/runtime/src: a layer that imports upward compiles fine and only shows up as a tangle
 * later, so the direction is a test.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

interface SourceImport {
  /** The importing file, relative to src ("rpc/rpc-engine.ts"). */
  readonly file: string;
  /** The specifier as written. */
  readonly specifier: string;
  /** For a relative import, the imported file relative to src; undefined for packages. */
  readonly target: string | undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The code without comments, so a comment that mentions an import or Date.now is not one. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** `import ... from 'x'`, `export ... from 'x'`, `import 'x'` and `import('x')`. */
const IMPORT = /\b(?:import|export)\s[^;'"`]*?\bfrom\s*'([^']+)'|\bimport\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g;

function scanImports(): SourceImport[] {
  const found: SourceImport[] = [];
  for (const full of sourceFiles(SRC)) {
    const file = path.relative(SRC, full).split(path.sep).join('/');
    for (const m of withoutComments(readFileSync(full, 'utf8')).matchAll(IMPORT)) {
      const specifier = m[1] ?? m[2] ?? m[3];
      const target = specifier.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(full), specifier)).split(path.sep).join('/').replace(/\.js$/, '.ts') : undefined;
      found.push({ file, specifier, target });
    }
  }
  return found;
}

/** The layer a file belongs to: its folder under src, or '' for the entry points (src/index.ts, ...). */
function layerOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : '';
}

function describeImport(i: SourceImport): string {
  return `${i.file} imports '${i.specifier}'`;
}

/**
 * Files that may import driver/ or sim/ besides those folders themselves: the composition root
 * (Group wires the real driver), the CLI, the benchmarks (they time the simulator and the
 * driver), and the package entry points (src/*.ts, which export the simulator and internals for
 * tests and benchmarks; they are no layer of their own).
 */
const COMPOSITION_ROOTS = ['replicated/group.ts'];
const COMPOSITION_LAYERS = ['cli', 'bench', ''];

/**
 * Real-world ports any layer may take as its default (the log store writes to the node disk
 * unless given another Disk). Each must be a leaf: it imports only io/ and Node built-ins, so
 * importing it pulls nothing of the driver in (checked below).
 */
const DEFAULT_PORTS = ['driver/node-disk.ts'];

/** Exceptions to the rules above, each to be removed by the change that makes it unnecessary (none today). */
const KNOWN_DRIVER_IMPORTS = new Set<string>();


const IO_GLOBALS = /\b(?:Date\.now|Math\.random|performance\.now|setTimeout|setInterval|setImmediate|queueMicrotask|process\.)/;

describe('layer imports (docs/ARCHITECTURE.md: dependencies point down)', () => {
  const imports = scanImports();

  it('finds the imports it checks', () => {
    // A scan that silently matched nothing would pass every rule below.
    expect(imports.filter((i) => layerOf(i.file) === 'core').length).to.be.greaterThan(20);
    expect(imports.some((i) => i.file === 'rpc/rpc-engine.ts' && i.target?.startsWith('core/'))).to.equal(true);
  });

  it('core imports only core (and the io ports), no packages, no Node built-ins', () => {
    const bad = imports.filter((i) => layerOf(i.file) === 'core' && (i.target === undefined || !['core', 'io'].includes(layerOf(i.target))));
    expect(bad.map(describeImport)).to.deep.equal([]);
  });

  it('io holds the ports as types: it imports only core, no packages, no Node built-ins', () => {
    const bad = imports.filter((i) => layerOf(i.file) === 'io' && (i.target === undefined || !['core', 'io'].includes(layerOf(i.target))));
    expect(bad.map(describeImport)).to.deep.equal([]);
  });

  it('shell imports only core, io, rpc and util (never driver or sim: it runs over the ports)', () => {
    const bad = imports.filter((i) => layerOf(i.file) === 'shell' && i.target !== undefined && !['core', 'io', 'rpc', 'util', 'shell'].includes(layerOf(i.target)));
    const nodeBuiltins = imports.filter((i) => ['shell', 'io'].includes(layerOf(i.file)) && i.specifier.startsWith('node:'));
    expect([...bad, ...nodeBuiltins].map(describeImport)).to.deep.equal([]);
  });

  for (const layer of ['core', 'io', 'shell']) {
    it(`${layer} reads no clock, no randomness and no timers (sans-I/O: time comes from the Clock port)`, () => {
      const bad = sourceFiles(path.join(SRC, layer))
        .map((full) => ({ file: path.relative(SRC, full), hit: IO_GLOBALS.exec(withoutComments(readFileSync(full, 'utf8')))?.[0] }))
        .filter((f) => f.hit !== undefined)
        .map((f) => `${f.file} uses ${f.hit}`);
      expect(bad).to.deep.equal([]);
    });
  }

  it('util imports no other layer (it is the ground floor every layer may use)', () => {
    const bad = imports.filter((i) => layerOf(i.file) === 'util' && i.target !== undefined && layerOf(i.target) !== 'util');
    expect(bad.map(describeImport)).to.deep.equal([]);
  });

  it('rpc imports neither replicated, driver, sim nor cli', () => {
    const bad = imports.filter((i) => layerOf(i.file) === 'rpc' && i.target !== undefined && ['replicated', 'driver', 'sim', 'cli'].includes(layerOf(i.target)));
    expect(bad.map(describeImport)).to.deep.equal([]);
  });

  it('layout imports neither config nor anything above it', () => {
    const bad = imports.filter((i) => layerOf(i.file) === 'layout' && i.target !== undefined && ['config', 'rpc', 'replicated', 'persistent', 'driver', 'sim', 'cli'].includes(layerOf(i.target)));
    expect(bad.map(describeImport)).to.deep.equal([]);
  });

  it('only the composition root imports driver or sim', () => {
    const bad = imports.filter((i) => {
      if (i.target === undefined) return false;
      const to = layerOf(i.target);
      const from = layerOf(i.file);
      if ((to !== 'driver' && to !== 'sim') || from === to) return false;
      if (COMPOSITION_ROOTS.includes(i.file) || COMPOSITION_LAYERS.includes(from) || DEFAULT_PORTS.includes(i.target)) return false;
      return !KNOWN_DRIVER_IMPORTS.has(`${i.file} -> ${i.target}`);
    });
    expect(bad.map(describeImport)).to.deep.equal([]);
  });

  it('a default port imports only io/ and Node built-ins', () => {
    const bad = imports.filter((i) => DEFAULT_PORTS.includes(i.file) && !(i.specifier.startsWith('node:') || (i.target !== undefined && layerOf(i.target) === 'io')));
    expect(bad.map(describeImport)).to.deep.equal([]);
    expect(imports.filter((i) => DEFAULT_PORTS.includes(i.file)).length).to.be.greaterThan(0);
  });

  it('lists only exceptions that still exist', () => {
    const present = new Set(imports.filter((i) => i.target !== undefined).map((i) => `${i.file} -> ${i.target}`));
    expect([...KNOWN_DRIVER_IMPORTS].filter((e) => !present.has(e))).to.deep.equal([]);
  });

  it('the scan sees every kind of import statement', () => {
    const sample = [
      "import { a } from './x.js';",
      "import type { B } from '../y.js';",
      "export { c } from './z.js';",
      "import './side-effect.js';",
      "const m = await import('./lazy.js');",
      "// import { no } from './commented.js';",
    ].join('\n');
    expect([...withoutComments(sample).matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3])).to.deep.equal(['./x.js', '../y.js', './z.js', './side-effect.js', './lazy.js']);
  });
});

