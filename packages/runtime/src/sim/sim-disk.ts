/**
 * The Disk port over a simulated disk: files in memory, every operation taking a latency drawn
 * from a seeded Prng on a virtual clock, and crashes that lose what was not synced.
 *
 * What survives a crash (`crash()`), per file: the bytes of its last completed sync, then, by
 * chance, an in-order prefix of the writes and truncates made since, of which the last may be torn
 * (only a random prefix of its bytes arrives). Per directory likewise: the names as of its last
 * sync, then perhaps an in-order prefix of the creates, renames and removes since, each whole (a
 * rename is atomic). This is the model the log's recovery is argued against (FORMAT.md,
 * "Recovery"): a later write of an unsynced batch never lands without the earlier ones. A sync
 * that had not completed covers nothing; operations still in flight never complete, and their
 * promises never settle (the process that awaited them is gone). Directories themselves are
 * durable once made.
 *
 * A process gets the disk through `mount()`; after a crash that mount fails every operation (the
 * process is gone) and the restarted process mounts again.
 *
 * Asynchronous operations complete when the virtual clock reaches their latency; `settle()` and
 * `runEvents(n)` advance it. Blocking operations complete at once and add their latency to
 * `blockedUs` (the time the caller's event loop would have stood still).
 */
import * as path from 'node:path';
import type { Disk, DiskFile, DiskOpenMode } from '../io/disk.js';
import { EventQueue } from './event-queue.js';
import type { Prng } from './prng.js';

/** A latency range in microseconds; each operation draws uniformly from it. */
export interface LatencyRangeUs {
  readonly minUs: number;
  readonly maxUs: number;
}

export interface SimDiskOptions {
  /** Latencies of reads, of writes and truncates, of syncs, and of name operations (open, rename, ...). */
  readonly readUs?: LatencyRangeUs;
  readonly writeUs?: LatencyRangeUs;
  readonly syncUs?: LatencyRangeUs;
  readonly metadataUs?: LatencyRangeUs;
  /** At a crash, the chance that a file (or directory) keeps some of its unsynced changes rather than none. Default 0.5. */
  readonly keepUnsyncedChance?: number;
  /** ...and that the last change it keeps, when a write, is torn. Default 0.5. */
  readonly tearChance?: number;
}

/** What the disk did, for reports and assertions. */
export interface SimDiskStats {
  crashes: number;
  /** Unsynced writes a crash dropped whole, and those it tore. */
  writesLost: number;
  writesTorn: number;
  syncs: number;
  blockedUs: number;
}

/** A file's bytes that grow and shrink in place. */
class FileBytes {
  private data: Uint8Array;
  size: number;

  constructor(from?: FileBytes) {
    this.data = from === undefined ? new Uint8Array(256) : from.data.slice(0, Math.max(from.size, 256));
    this.size = from?.size ?? 0;
  }

  write(position: number, source: Uint8Array): void {
    const end = position + source.length;
    this.ensure(end);
    // Bytes between the old end and `position` read as zeros, as in a sparse file.
    if (position > this.size) this.data.fill(0, this.size, position);
    this.data.set(source, position);
    if (end > this.size) this.size = end;
  }

  truncate(lengthBytes: number): void {
    this.ensure(lengthBytes);
    if (lengthBytes > this.size) this.data.fill(0, this.size, lengthBytes);
    this.size = lengthBytes;
  }

  read(target: Uint8Array, at: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    target.set(this.data.subarray(position, position + n), at);
    return n;
  }

  private ensure(bytes: number): void {
    if (bytes <= this.data.length) return;
    const grown = new Uint8Array(Math.max(bytes, this.data.length * 2));
    grown.set(this.data.subarray(0, this.size));
    this.data = grown;
  }
}

type Change = { readonly kind: 'write'; readonly position: number; readonly bytes: Uint8Array } | { readonly kind: 'truncate'; readonly lengthBytes: number };

function applyChange(bytes: FileBytes, change: Change): void {
  if (change.kind === 'write') bytes.write(change.position, change.bytes);
  else bytes.truncate(change.lengthBytes);
}

class Inode {
  /** What the page cache holds: every change, synced or not. */
  current = new FileBytes();
  /** What is on the platter: the changes covered by a completed sync. */
  durable = new FileBytes();
  /** Changes made since the last completed sync, in order. */
  unsynced: Change[] = [];

  change(change: Change): void {
    applyChange(this.current, change);
    this.unsynced.push(change);
  }

  /** Makes the first `count` unsynced changes durable. */
  syncThrough(count: number): void {
    for (const change of this.unsynced.splice(0, count)) applyChange(this.durable, change);
  }
}

/** One atomic change of names: each name set to a file, or removed (undefined). */
type NameChange = readonly (readonly [string, Inode | undefined])[];

interface OpenFile {
  readonly inode: Inode;
  readonly readable: boolean;
  readonly writable: boolean;
}

const DEFAULTS = {
  readUs: { minUs: 20, maxUs: 200 },
  writeUs: { minUs: 20, maxUs: 200 },
  syncUs: { minUs: 500, maxUs: 5_000 },
  metadataUs: { minUs: 10, maxUs: 100 },
};

/** A copy (a Buffer's own `slice` would be a view of memory the caller reuses). */
function copyOf(source: Uint8Array, from: number, length: number): Uint8Array {
  return Uint8Array.prototype.slice.call(source, from, from + length);
}

function diskError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

export class SimDisk implements Disk {
  private names = new Map<string, Inode>();
  private durableNames = new Map<string, Inode>();
  /** Name changes not yet covered by a sync of their directory, per directory, in order. */
  private unsyncedNames = new Map<string, NameChange[]>();
  private readonly directories = new Set<string>(['/']);
  private files = new Map<DiskFile, OpenFile>();
  private nextHandle = 3;
  private readonly events = new EventQueue<() => void>();
  /** The virtual clock; ahead of the event queue's by the blocking operations' latencies. */
  private clockUs = 0;
  /** Bumped by every crash: completions scheduled before it are dropped. */
  private life = 0;
  private readonly options: Required<SimDiskOptions>;
  readonly stats: SimDiskStats = { crashes: 0, writesLost: 0, writesTorn: 0, syncs: 0, blockedUs: 0 };

  constructor(
    private readonly prng: Prng,
    options: SimDiskOptions = {},
  ) {
    this.options = { ...DEFAULTS, keepUnsyncedChance: 0.5, tearChance: 0.5, ...options };
  }

  get nowUs(): number {
    return Math.max(this.clockUs, this.events.nowUs);
  }

  /** Asynchronous operations not yet completed. */
  get pendingOperations(): number {
    return this.events.size;
  }

  // ---- driving the clock ----------------------------------------------------------------------
  /**
   * Completes up to `count` asynchronous operations in virtual-time order, letting the code that
   * awaited each one run (and start more) before the next. Returns how many completed.
   */
  async runEvents(count: number): Promise<number> {
    let done = 0;
    while (done < count) {
      // First let the code waiting on promises run: it may start the next operation.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const next = this.events.pop();
      if (next === undefined) break;
      next.event();
      done++;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    return done;
  }

  /** Completes every asynchronous operation, including those started meanwhile, until none is left. */
  async settle(): Promise<void> {
    while ((await this.runEvents(1)) > 0);
  }

  // ---- faults ---------------------------------------------------------------------------------
  /**
   * The machine loses power: every file and directory falls back to what was synced plus, by
   * chance, a prefix of what was not (the last write maybe torn); open files are gone and
   * operations in flight never complete.
   */
  crash(): void {
    this.stats.crashes++;
    this.life++;
    const inodes = new Set([...this.names.values(), ...this.durableNames.values(), ...[...this.files.values()].map((f) => f.inode)]);
    for (const inode of inodes) this.crashFile(inode);
    for (const [dir, changes] of [...this.unsyncedNames.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const kept = this.prng.chance(this.options.keepUnsyncedChance) ? this.prng.int(1, changes.length) : 0;
      for (const change of changes.slice(0, kept)) this.applyNames(this.durableNames, change);
      this.unsyncedNames.delete(dir);
    }
    this.names = new Map(this.durableNames);
    this.files.clear();
    while (this.events.pop() !== undefined);
  }

  private crashFile(inode: Inode): void {
    const changes = [...inode.unsynced];
    const kept = changes.length > 0 && this.prng.chance(this.options.keepUnsyncedChance) ? this.prng.int(1, changes.length) : 0;
    inode.syncThrough(kept - 1 < 0 ? 0 : kept - 1);
    if (kept > 0) {
      const last = inode.unsynced[0];
      if (last.kind === 'write' && last.bytes.length > 1 && this.prng.chance(this.options.tearChance)) {
        applyChange(inode.durable, { kind: 'write', position: last.position, bytes: last.bytes.subarray(0, this.prng.int(0, last.bytes.length - 1)) });
        this.stats.writesTorn++;
      } else applyChange(inode.durable, last);
    }
    this.stats.writesLost += changes.slice(kept).filter((c) => c.kind === 'write').length;
    inode.unsynced = [];
    inode.current = new FileBytes(inode.durable);
  }

  /**
   * The disk as one life of the machine sees it: the Disk a process is given. After `crash()` it
   * fails every operation with EIO (the code of a process that is gone must not touch the disk of
   * the one that restarted); mount again for the next life.
   */
  mount(): Disk {
    const life = this.life;
    const gone = (): Error => diskError('EIO', 'the machine crashed: this disk belongs to a process that no longer runs');
    const alive = (): void => {
      if (life !== this.life) throw gone();
    };
    const aliveAsync = <T>(run: () => Promise<T>): Promise<T> => (life !== this.life ? Promise.reject(gone()) : run());
    return {
      makeDirectory: (dir) => (alive(), this.makeDirectory(dir)),
      fileBytes: (file) => (alive(), this.fileBytes(file)),
      open: (file, mode) => (alive(), this.open(file, mode)),
      close: (handle) => (alive(), this.close(handle)),
      read: (handle, target, at, length, position) => (alive(), this.read(handle, target, at, length, position)),
      readAsync: (handle, target, at, length, position) => aliveAsync(() => this.readAsync(handle, target, at, length, position)),
      write: (handle, source, from, length, position) => (alive(), this.write(handle, source, from, length, position)),
      writeAsync: (handle, source, from, length, position) => aliveAsync(() => this.writeAsync(handle, source, from, length, position)),
      truncate: (handle, lengthBytes) => (alive(), this.truncate(handle, lengthBytes)),
      syncData: (handle) => (alive(), this.syncData(handle)),
      syncDataAsync: (handle) => aliveAsync(() => this.syncDataAsync(handle)),
      sync: (handle) => (alive(), this.sync(handle)),
      rename: (from, to) => (alive(), this.rename(from, to)),
      link: (existing, newName) => (alive(), this.link(existing, newName)),
      remove: (file) => (alive(), this.remove(file)),
      syncDirectory: (dir) => (alive(), this.syncDirectory(dir)),
    };
  }

  /** A file's bytes as the page cache holds them (for tests that damage or inspect a file). */
  contentOf(file: string): Uint8Array {
    const inode = this.names.get(path.posix.resolve(file));
    if (inode === undefined) throw diskError('ENOENT', `no such file: ${file}`);
    const out = new Uint8Array(inode.current.size);
    inode.current.read(out, 0, out.length, 0);
    return out;
  }

  // ---- Disk (for the current life; processes use mount()) ------------------------------------
  makeDirectory(dir: string): void {
    this.block(this.options.metadataUs);
    for (let d = path.posix.resolve(dir); !this.directories.has(d); d = path.posix.dirname(d)) this.directories.add(d);
  }

  fileBytes(file: string): number | undefined {
    return this.names.get(path.posix.resolve(file))?.current.size;
  }

  open(file: string, mode: DiskOpenMode): DiskFile {
    this.block(this.options.metadataUs);
    const name = path.posix.resolve(file);
    let inode = this.names.get(name);
    if (mode === 'create-exclusive' && inode !== undefined) throw diskError('EEXIST', `file already exists: ${file}`);
    if ((mode === 'read-only' || mode === 'read-write') && inode === undefined) throw diskError('ENOENT', `no such file: ${file}`);
    if (inode === undefined) {
      this.checkDirectory(name);
      inode = new Inode();
      this.changeNames([[name, inode]]);
    } else if (mode === 'create-truncate') inode.change({ kind: 'truncate', lengthBytes: 0 });
    const handle = this.nextHandle++;
    this.files.set(handle, { inode, readable: mode === 'read-only' || mode === 'read-write', writable: mode !== 'read-only' });
    return handle;
  }

  close(handle: DiskFile): void {
    this.file(handle, 'close');
    this.files.delete(handle);
  }

  read(handle: DiskFile, target: Uint8Array, at: number, length: number, position: number): number {
    const file = this.file(handle, 'read');
    this.block(this.options.readUs);
    return file.inode.current.read(target, at, length, position);
  }

  readAsync(handle: DiskFile, target: Uint8Array, at: number, length: number, position: number): Promise<number> {
    const file = this.file(handle, 'read');
    return this.later(this.options.readUs, () => file.inode.current.read(target, at, length, position));
  }

  write(handle: DiskFile, source: Uint8Array, from: number, length: number, position: number): number {
    const file = this.file(handle, 'write');
    this.block(this.options.writeUs);
    file.inode.change({ kind: 'write', position, bytes: copyOf(source, from, length) });
    return length;
  }

  writeAsync(handle: DiskFile, source: Uint8Array, from: number, length: number, position: number): Promise<number> {
    const file = this.file(handle, 'write');
    // The caller may reuse its buffer once the write completes, not before: copy at completion.
    return this.later(this.options.writeUs, () => {
      file.inode.change({ kind: 'write', position, bytes: copyOf(source, from, length) });
      return length;
    });
  }

  truncate(handle: DiskFile, lengthBytes: number): void {
    const file = this.file(handle, 'write');
    this.block(this.options.writeUs);
    file.inode.change({ kind: 'truncate', lengthBytes });
  }

  syncData(handle: DiskFile): void {
    this.sync(handle);
  }

  sync(handle: DiskFile): void {
    const { inode } = this.file(handle, 'sync');
    this.block(this.options.syncUs);
    this.stats.syncs++;
    inode.syncThrough(inode.unsynced.length);
  }

  syncDataAsync(handle: DiskFile): Promise<void> {
    const { inode } = this.file(handle, 'sync');
    // Covers what was written before the call; later writes wait for a later sync.
    const covered = inode.unsynced.length;
    const before = inode.unsynced[covered - 1];
    return this.later(this.options.syncUs, () => {
      this.stats.syncs++;
      // A sync completed meanwhile may have made some of them durable already.
      const stillUnsynced = before === undefined ? 0 : inode.unsynced.indexOf(before) + 1;
      inode.syncThrough(stillUnsynced);
    });
  }

  rename(from: string, to: string): void {
    this.block(this.options.metadataUs);
    const source = path.posix.resolve(from);
    const target = path.posix.resolve(to);
    const inode = this.names.get(source);
    if (inode === undefined) throw diskError('ENOENT', `no such file: ${from}`);
    this.checkDirectory(target);
    if (source !== target) this.changeNames([[source, undefined], [target, inode]]);
  }

  link(existing: string, newName: string): void {
    this.block(this.options.metadataUs);
    const inode = this.names.get(path.posix.resolve(existing));
    const target = path.posix.resolve(newName);
    if (inode === undefined) throw diskError('ENOENT', `no such file: ${existing}`);
    if (this.names.has(target)) throw diskError('EEXIST', `file already exists: ${newName}`);
    this.checkDirectory(target);
    this.changeNames([[target, inode]]);
  }

  remove(file: string): void {
    this.block(this.options.metadataUs);
    const name = path.posix.resolve(file);
    if (this.names.has(name)) this.changeNames([[name, undefined]]);
  }

  syncDirectory(dir: string): void {
    const name = path.posix.resolve(dir);
    if (!this.directories.has(name)) throw diskError('ENOENT', `no such directory: ${dir}`);
    this.block(this.options.syncUs);
    this.stats.syncs++;
    for (const change of this.unsyncedNames.get(name) ?? []) this.applyNames(this.durableNames, change);
    this.unsyncedNames.delete(name);
  }

  // ---- internals ------------------------------------------------------------------------------
  private file(handle: DiskFile, op: 'read' | 'write' | 'sync' | 'close'): OpenFile {
    const file = this.files.get(handle);
    if (file === undefined) throw diskError('EBADF', `${op} on a handle that is not open (${handle})`);
    if ((op === 'read' && !file.readable) || (op === 'write' && !file.writable)) throw diskError('EBADF', `${op} on a handle not opened for it (${handle})`);
    return file;
  }

  private checkDirectory(name: string): void {
    if (!this.directories.has(path.posix.dirname(name))) throw diskError('ENOENT', `no such directory: ${path.posix.dirname(name)}`);
  }

  /** Applies a name change now; it becomes durable with a sync of the (first) directory it touches. */
  private changeNames(change: NameChange): void {
    this.applyNames(this.names, change);
    const dir = path.posix.dirname(change[change.length - 1][0]);
    const pending = this.unsyncedNames.get(dir);
    if (pending === undefined) this.unsyncedNames.set(dir, [change]);
    else pending.push(change);
  }

  private applyNames(names: Map<string, Inode>, change: NameChange): void {
    for (const [name, inode] of change) {
      if (inode === undefined) names.delete(name);
      else names.set(name, inode);
    }
  }

  private latency(range: LatencyRangeUs): number {
    return this.prng.int(range.minUs, range.maxUs);
  }

  private block(range: LatencyRangeUs): void {
    const us = this.latency(range);
    this.clockUs = this.nowUs + us;
    this.stats.blockedUs += us;
  }

  private later<T>(range: LatencyRangeUs, complete: () => T): Promise<T> {
    const life = this.life;
    return new Promise<T>((resolve, reject) => {
      this.events.schedule(this.nowUs + this.latency(range), () => {
        if (life !== this.life) return;
        try {
          resolve(complete());
        } catch (err) {
          reject(err);
        }
      });
    });
  }
}
