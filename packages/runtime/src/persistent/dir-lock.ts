/**
 * One log directory, one owner: a lock file in the directory names the pid of the process whose
 * group writes there. Two members writing the same `sg<n>-sh<m>-<field>.log` files would corrupt
 * each other's logs (and race on the files' create-and-rename), so a second owner is refused at
 * start, naming the directory and the holder. A lock left by a process that died (kill -9, power
 * cut) names a pid that no longer runs: it is taken over, and the caller logs that it was.
 */
import * as path from 'node:path';
import { nodeDisk } from '../driver/node-disk.js';
import type { Disk } from '../io/disk.js';
import { PersistentError } from './errors.js';

export const LOCK_FILE_NAME = 'derecho.lock';

/** Another process (or another group of this process) holds the log directory. */
export class DirectoryLockedError extends PersistentError {
  override readonly name = 'DirectoryLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number,
    sameProcess: boolean,
  ) {
    super(
      sameProcess
        ? `the log directory ${dir} is already used by another group in this process (pid ${pid}); give each member its own persistence.dir`
        : `the log directory ${dir} is locked by process ${pid} (${path.join(dir, LOCK_FILE_NAME)}): another member is running with this persistence.dir. ` +
          `Stop it, or give this member its own directory; if process ${pid} is not a derecho member, delete the lock file`,
    );
  }
}

/** What acquiring found: `takenOverFromPid` is the dead process whose stale lock was replaced. */
export interface DirectoryLock {
  readonly dir: string;
  readonly file: string;
  readonly takenOverFromPid: number | undefined;
  /** Deletes the lock file (idempotent). */
  release(): void;
}

/** Directories locked by this process, per disk, so a second group here is refused too (same pid in the file). */
const heldHere = new Map<Disk, Map<string, DirectoryLock>>();
let exitHookInstalled = false;

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(disk: Disk, file: string): number | undefined {
  let text: string;
  try {
    text = readSmallFile(disk, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const pid = Number.parseInt(text.trim(), 10);
  // An empty or garbled file: its writer died between create and write.
  return Number.isSafeInteger(pid) && pid > 0 ? pid : 0;
}

/**
 * Takes the lock of `dir` (created if missing) for this process, or throws DirectoryLockedError.
 * The file is created with O_EXCL holding this pid; a lock naming a pid that no longer runs is
 * moved aside and replaced.
 */
export function lockDirectory(dir: string, disk: Disk = nodeDisk): DirectoryLock {
  const resolved = path.resolve(dir);
  const file = path.join(resolved, LOCK_FILE_NAME);
  let held = heldHere.get(disk);
  if (held === undefined) heldHere.set(disk, (held = new Map()));
  if (held.has(resolved)) throw new DirectoryLockedError(resolved, process.pid, true);
  disk.makeDirectory(resolved);
  let takenOverFromPid: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = disk.open(file, 'create-exclusive');
      try {
        const text = new TextEncoder().encode(`${process.pid}\n`);
        let done = 0;
        while (done < text.length) done += disk.write(fd, text, done, text.length - done, done);
        disk.sync(fd);
      } finally {
        disk.close(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readPid(disk, file);
    if (holder === undefined) continue; // released between our create and read: try again
    // Our own pid in a file no group here holds: left by an earlier process that had this pid.
    if (holder !== 0 && holder !== process.pid && pidRuns(holder)) throw new DirectoryLockedError(resolved, holder, false);
    if (attempt >= 8) throw new DirectoryLockedError(resolved, holder, false);
    // Stale. Move it aside under a name of our own, then check that what moved is the stale lock
    // and not one a competing taker created meanwhile (that one is put back).
    const aside = `${file}.stale-${process.pid}`;
    try {
      disk.rename(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const moved = readPid(disk, aside);
    if (moved !== holder) {
      try {
        disk.link(aside, file);
      } catch {
        // Someone created a lock meanwhile: the loop reads it.
      }
      disk.remove(aside);
      continue;
    }
    disk.remove(aside);
    takenOverFromPid = holder;
  }
  let released = false;
  const lock: DirectoryLock = {
    dir: resolved,
    file,
    takenOverFromPid,
    release() {
      if (released) return;
      released = true;
      held.delete(resolved);
      // Only our own lock: never delete one a later owner took over.
      if (readPid(disk, file) === process.pid) disk.remove(file);
    },
  };
  held.set(resolved, lock);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A process that exits without closing its group leaves no lock behind.
    process.on('exit', () => {
      for (const locks of heldHere.values()) for (const lock of [...locks.values()]) lock.release();
    });
  }
  return lock;
}

/** The whole of a small file as text (ENOENT when it does not exist). */
function readSmallFile(disk: Disk, file: string): string {
  const fd = disk.open(file, 'read-only');
  try {
    const bytes = new Uint8Array(disk.fileBytes(file) ?? 0);
    let got = 0;
    while (got < bytes.length) {
      const n = disk.read(fd, bytes, got, bytes.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return new TextDecoder().decode(bytes.subarray(0, got));
  } finally {
    disk.close(fd);
  }
}
