/**
 * The Disk port: what the log store (FileLog, the restart log, the directory lock) needs from a
 * file system, as types only. `driver/node-disk.ts` implements it over node:fs; `sim/sim-disk.ts`
 * over an in-memory disk that has latency on a virtual clock, loses unsynced writes on a simulated
 * crash and tears the last of them.
 *
 * The shape is POSIX's, because the log's crash safety is argued in POSIX terms (FORMAT.md): data
 * written to a file is durable only once a sync of that file completed; a name created, renamed or
 * removed in a directory is durable only once that directory was synced. Positions and lengths are
 * byte counts. Failures throw an Error whose `code` is the POSIX name ('ENOENT', 'EEXIST', 'EIO',
 * 'ENOSPC', 'EBADF', ...), as node:fs does, so callers test `code`, never message text.
 */

/** An open file: a handle only the Disk that returned it understands. */
export type DiskFile = number;

/**
 * - 'read-only': an existing file, for reading (ENOENT when absent).
 * - 'read-write': an existing file, for reading and positional writes (ENOENT when absent).
 * - 'create-truncate': created if absent, emptied if present, for writing.
 * - 'create-exclusive': created for writing; EEXIST when the name exists (a lock file).
 */
export type DiskOpenMode = 'read-only' | 'read-write' | 'create-truncate' | 'create-exclusive';

export interface Disk {
  /** Creates `dir` and its missing parents; nothing when it exists. */
  makeDirectory(dir: string): void;
  /** The length of `file` in bytes, or undefined when no such file exists. */
  fileBytes(file: string): number | undefined;
  open(file: string, mode: DiskOpenMode): DiskFile;
  close(handle: DiskFile): void;

  /** Reads up to `length` bytes at `position` into `target[at..]`; returns how many (0 at the end of the file). */
  read(handle: DiskFile, target: Uint8Array, at: number, length: number, position: number): number;
  /** `read`, completing later (off the event loop for the real disk). */
  readAsync(handle: DiskFile, target: Uint8Array, at: number, length: number, position: number): Promise<number>;
  /** Writes `source[from..from+length)` at `position`; returns how many bytes were written (may be fewer). */
  write(handle: DiskFile, source: Uint8Array, from: number, length: number, position: number): number;
  writeAsync(handle: DiskFile, source: Uint8Array, from: number, length: number, position: number): Promise<number>;
  /** Cuts (or zero-extends) the file to `lengthBytes`. Durable only after a sync, like a write. */
  truncate(handle: DiskFile, lengthBytes: number): void;

  /** Makes the file's data and length durable (fdatasync). Blocks the caller until done. */
  syncData(handle: DiskFile): void;
  /** `syncData` off the event loop: covers what was written before the call. */
  syncDataAsync(handle: DiskFile): Promise<void>;
  /** Makes the file's data and all of its metadata durable (fsync). */
  sync(handle: DiskFile): void;

  /** Renames atomically, replacing `to` if it exists; durable once the directory is synced. */
  rename(from: string, to: string): void;
  /** Gives an existing file a second name; EEXIST when `newName` exists. */
  link(existing: string, newName: string): void;
  /** Removes `file`; nothing when it does not exist. */
  remove(file: string): void;
  /** Makes the names created, renamed and removed in `dir` durable. */
  syncDirectory(dir: string): void;
}
