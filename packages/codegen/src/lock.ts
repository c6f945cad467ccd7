/**
 * The schema lock: the checked-in record of every replicated method's stable wire id.
 *
 * Rules (also in the package README):
 * - A method keeps its id as long as its name and wire signature stay (reordering is irrelevant;
 *   parameter names, property order and doc comments are not part of the signature).
 * - A changed signature under the same name is refused: peers of the previous build would
 *   misread the calls. Retiring the old id (adding `{ "id": N }` to the class's `retired` list)
 *   accepts it, and the method gets a new id.
 * - A rename keeps the id when `@Ordered({ renamedFrom: 'old' })` says so, or when it is
 *   unambiguous: exactly one removed method and exactly one new method of the class with the
 *   same signature and the same kind. Anything ambiguous is refused with the fix spelled out.
 * - A method that disappears (and was not renamed) retires automatically; ids are never reused.
 * - A class that disappears keeps its entry with every id retired.
 * - Adding or dropping @Ordered/@P2P on a method keeps its id (the kind is recorded).
 */
import { methodSignature } from './signature.js';
import type { ClassModel, CodegenError, MethodModel, ProjectModel } from './ir.js';

export type MethodKind = 'ordered' | 'p2p' | 'ordered+p2p';

export interface LockMethod {
  readonly id: number;
  readonly kind: MethodKind;
  readonly signature: string;
}

export interface LockRetired {
  readonly id: number;
  readonly name?: string;
  readonly signature?: string;
}

export interface LockClass {
  readonly methods: Readonly<Record<string, LockMethod>>;
  readonly retired: readonly LockRetired[];
}

export interface SchemaLock {
  readonly version: 1;
  readonly classes: Readonly<Record<string, LockClass>>;
}

export const EMPTY_LOCK: SchemaLock = { version: 1, classes: {} };

const LOCK_NOTE = 'derecho-codegen schema lock: stable wire ids of replicated methods. Commit it. Edit it only to retire ids (see @derecho-ts/codegen README).';

export function kindOf(method: { ordered: boolean; p2p: boolean }): MethodKind {
  return method.ordered && method.p2p ? 'ordered+p2p' : method.ordered ? 'ordered' : 'p2p';
}

/** Parses and checks a lock file's text; `lockName` names the file in messages. */
export function parseLock(text: string, lockName: string): { lock: SchemaLock; errors: CodegenError[] } {
  const errors: CodegenError[] = [];
  const fail = (message: string): { lock: SchemaLock; errors: CodegenError[] } => {
    errors.push({ location: undefined, message: `${lockName}: ${message}` });
    return { lock: EMPTY_LOCK, errors };
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return fail(`not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(raw) || raw.version !== 1 || !isRecord(raw.classes)) return fail('expected { "version": 1, "classes": { ... } }');
  const classes: Record<string, LockClass> = {};
  for (const [className, value] of Object.entries(raw.classes)) {
    const at = `classes.${className}`;
    if (!isRecord(value) || !isRecord(value.methods)) return fail(`${at} must be { "methods": { ... }, "retired": [ ... ] }`);
    const methods: Record<string, LockMethod> = {};
    for (const [name, m] of Object.entries(value.methods)) {
      if (!isRecord(m) || !isId(m.id) || !isKind(m.kind) || typeof m.signature !== 'string') {
        return fail(`${at}.methods.${name} must be { "id": positive integer, "kind": "ordered" | "p2p" | "ordered+p2p", "signature": string }`);
      }
      methods[name] = { id: m.id, kind: m.kind, signature: m.signature };
    }
    const retiredRaw = value.retired ?? [];
    if (!Array.isArray(retiredRaw)) return fail(`${at}.retired must be an array`);
    const retired: LockRetired[] = [];
    for (const [i, r] of retiredRaw.entries()) {
      if (!isRecord(r) || !isId(r.id) || (r.name !== undefined && typeof r.name !== 'string') || (r.signature !== undefined && typeof r.signature !== 'string')) {
        return fail(`${at}.retired[${i}] must be { "id": positive integer, "name"?: string, "signature"?: string }`);
      }
      retired.push({ id: r.id, ...(r.name === undefined ? {} : { name: r.name }), ...(r.signature === undefined ? {} : { signature: r.signature }) });
    }
    const seen = new Map<number, string>();
    for (const [name, m] of Object.entries(methods)) {
      const other = seen.get(m.id);
      if (other !== undefined) return fail(`${at}: the methods ${other} and ${name} both have id ${m.id}`);
      seen.set(m.id, name);
    }
    classes[className] = { methods, retired };
  }
  return { lock: { version: 1, classes }, errors };
}

/** The lock as it is written: sorted keys, retired ids ascending, a trailing newline. */
export function serializeLock(lock: SchemaLock): string {
  const classes: Record<string, unknown> = {};
  for (const className of Object.keys(lock.classes).sort()) {
    const c = lock.classes[className];
    const methods: Record<string, LockMethod> = {};
    for (const name of Object.keys(c.methods).sort()) {
      const m = c.methods[name];
      methods[name] = { id: m.id, kind: m.kind, signature: m.signature };
    }
    const retired = [...c.retired]
      .sort((a, b) => a.id - b.id)
      .map((r) => ({ id: r.id, ...(r.name === undefined ? {} : { name: r.name }), ...(r.signature === undefined ? {} : { signature: r.signature }) }));
    classes[className] = { methods, retired };
  }
  return `${JSON.stringify({ '//': LOCK_NOTE, version: 1, classes }, null, 2)}\n`;
}

export interface IdAssignment {
  readonly lock: SchemaLock;
  /** Wire id per class wire name and method name. */
  readonly ids: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly errors: readonly CodegenError[];
  /** What changed in the lock, for the CLI to print. */
  readonly notices: readonly string[];
}

/** Assigns every method its wire id from the previous lock, by the rules at the top of this file. */
export function assignIds(model: ProjectModel, previous: SchemaLock, lockName: string): IdAssignment {
  const errors: CodegenError[] = [];
  const notices: string[] = [];
  const classes: Record<string, LockClass> = {};
  const ids = new Map<string, Map<string, number>>();
  for (const cls of model.classes) {
    const result = assignClass(cls, previous.classes[cls.name], model, lockName, errors, notices);
    classes[cls.name] = result.entry;
    ids.set(cls.name, result.ids);
  }
  for (const [name, old] of Object.entries(previous.classes)) {
    if (classes[name] !== undefined) continue;
    const retired = [...old.retired, ...Object.entries(old.methods).map(([m, e]) => ({ id: e.id, name: m, signature: e.signature }))];
    if (Object.keys(old.methods).length > 0) notices.push(`${name} is gone: its method ids are retired`);
    classes[name] = { methods: {}, retired };
  }
  return { lock: { version: 1, classes }, ids, errors, notices };
}

function assignClass(
  cls: ClassModel,
  old: LockClass | undefined,
  model: ProjectModel,
  lockName: string,
  errors: CodegenError[],
  notices: string[],
): { entry: LockClass; ids: Map<string, number> } {
  const retired: LockRetired[] = [];
  const retiredIds = new Set<number>();
  const oldMethods = new Map<string, LockMethod>();
  for (const r of old?.retired ?? []) {
    const active = Object.entries(old?.methods ?? {}).find(([, m]) => m.id === r.id);
    // A retirement written by hand may name only the id; fill in what the lock knew.
    retired.push({ id: r.id, name: r.name ?? active?.[0], signature: r.signature ?? active?.[1].signature });
    retiredIds.add(r.id);
  }
  for (const [name, m] of Object.entries(old?.methods ?? {})) if (!retiredIds.has(m.id)) oldMethods.set(name, m);
  let nextId = 1 + Math.max(0, ...[...Object.values(old?.methods ?? {})].map((m) => m.id), ...retired.map((r) => r.id));

  const current = new Map(cls.methods.map((m) => [m.name, { method: m, signature: methodSignature(m, model.types), kind: kindOf(m) }]));
  const assigned = new Map<string, number>();
  const claimed = new Set<string>(); // old names whose id is taken
  const label = (m: MethodModel): string => `${cls.className}.${m.name}`;

  // 1. Same name: keep the id if the signature is unchanged.
  for (const [name, c] of current) {
    const o = oldMethods.get(name);
    if (o === undefined || c.method.renamedFrom !== undefined) continue;
    claimed.add(name);
    if (o.signature !== c.signature) {
      errors.push({ location: c.method.location, message: incompatible(label(c.method), o, c.signature, cls.name, name, lockName) });
      continue;
    }
    assigned.set(name, o.id);
    if (o.kind !== c.kind) notices.push(`${label(c.method)} is now ${c.kind} (was ${o.kind}); wire id ${o.id} kept`);
  }
  // 2. Explicit renames.
  for (const [name, c] of current) {
    const from = c.method.renamedFrom;
    if (from === undefined) continue;
    const o = oldMethods.get(from);
    if (o === undefined) {
      if (oldMethods.has(name)) {
        errors.push({ location: c.method.location, message: `${label(c.method)}: renamedFrom '${from}' names no method in ${lockName}; it is already recorded as ${name}, so remove the renamedFrom option` });
      } else {
        errors.push({ location: c.method.location, message: `${label(c.method)}: renamedFrom '${from}' names no active method of ${cls.name} in ${lockName}` });
      }
      continue;
    }
    if (current.has(from)) {
      errors.push({ location: c.method.location, message: `${label(c.method)}: renamedFrom '${from}', but ${cls.className}.${from} still exists` });
      continue;
    }
    if (claimed.has(from)) {
      errors.push({ location: c.method.location, message: `${label(c.method)}: renamedFrom '${from}', but another method already took over ${from}` });
      continue;
    }
    claimed.add(from);
    if (o.signature !== c.signature) {
      errors.push({ location: c.method.location, message: incompatible(label(c.method), o, c.signature, cls.name, from, lockName) });
      continue;
    }
    assigned.set(name, o.id);
    notices.push(`${label(c.method)} takes over wire id ${o.id} from ${from} (renamedFrom)`);
  }
  // 3. Unambiguous renames: one vanished and one new method with the same signature and kind.
  const vanished = [...oldMethods].filter(([name]) => !current.has(name) && !claimed.has(name));
  const fresh = [...current].filter(([name, c]) => !claimed.has(name) && !assigned.has(name) && c.method.renamedFrom === undefined && !oldMethods.has(name));
  const pending: [string, typeof fresh[number][1]][] = [];
  for (const [name, c] of fresh) {
    const candidates = vanished.filter(([, o]) => o.signature === c.signature && o.kind === c.kind);
    const rivals = fresh.filter(([, f]) => candidates.length > 0 && f.signature === c.signature && f.kind === c.kind);
    if (candidates.length === 1 && rivals.length === 1) {
      const [from, o] = candidates[0];
      claimed.add(from);
      assigned.set(name, o.id);
      notices.push(`${label(c.method)} takes over wire id ${o.id} from ${from} (renamed: same signature, ${from} is gone)`);
    } else if (candidates.length > 0) {
      const names = candidates.map(([n]) => n);
      errors.push({
        location: c.method.location,
        message:
          `${label(c.method)}: cannot tell whether it renames ${names.join(' or ')} (removed, same signature and kind` +
          `${rivals.length > 1 ? `, and ${rivals.map(([n]) => n).filter((n) => n !== name).join(', ')} also match` : ''}); ` +
          `say which with @${c.kind === 'p2p' ? 'P2P' : 'Ordered'}({ renamedFrom: '${names[0]}' }), or retire the old id(s) in ${lockName}`,
      });
    } else pending.push([name, c]);
  }
  // 4. New methods get new ids, in name order so the result does not depend on source order.
  for (const [name] of pending.sort(([a], [b]) => (a < b ? -1 : 1))) {
    assigned.set(name, nextId);
    notices.push(`${cls.className}.${name} is new: wire id ${nextId}`);
    nextId++;
  }
  // 5. Vanished methods nobody took over retire.
  for (const [name, o] of vanished) {
    if (claimed.has(name)) continue;
    retired.push({ id: o.id, name, signature: o.signature });
    notices.push(`${cls.name}.${name} is gone: wire id ${o.id} retired`);
  }
  const methods: Record<string, LockMethod> = {};
  for (const [name, id] of assigned) {
    const c = current.get(name);
    if (c !== undefined) methods[name] = { id, kind: c.kind, signature: c.signature };
  }
  return { entry: { methods, retired }, ids: assigned };
}

function incompatible(label: string, old: LockMethod, signature: string, className: string, oldName: string, lockName: string): string {
  return (
    `${label}: its wire signature changed from '${old.signature}' to '${signature}', but ${lockName} gives it wire id ${old.id}, ` +
    `so peers running the previous build would misread its calls. Keep the old signature, or retire the id: ` +
    `add { "id": ${old.id}, "name": "${oldName}" } to classes.${className}.retired in ${lockName} (the method then gets a new id)`
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function isKind(v: unknown): v is MethodKind {
  return v === 'ordered' || v === 'p2p' || v === 'ordered+p2p';
}
