/**
 * One log directory, one owner: a lock file in the directory names the pid of the process whose
 * group writes there. Two members writing the same `sg<n>-sh<m>-<field>.log` files would corrupt
 * each other's logs (and race on the files' create-and-rename), so a second owner is refused at
 * start, naming the directory and the holder. A lock left by a process that died (kill -9, power
 * cut) names a pid that no longer runs: it is taken over, and the caller logs that it was.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
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

/** Directories locked by this process, so a second group here is refused too (same pid in the file). */
const heldHere = new Map<string, DirectoryLock>();
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

function readPid(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
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
export function lockDirectory(dir: string): DirectoryLock {
  const resolved = path.resolve(dir);
  const file = path.join(resolved, LOCK_FILE_NAME);
  if (heldHere.has(resolved)) throw new DirectoryLockedError(resolved, process.pid, true);
  fs.mkdirSync(resolved, { recursive: true });
  let takenOverFromPid: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
      try {
        fs.writeSync(fd, `${process.pid}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readPid(file);
    if (holder === undefined) continue; // released between our create and read: try again
    // Our own pid in a file no group here holds: left by an earlier process that had this pid.
    if (holder !== 0 && holder !== process.pid && pidRuns(holder)) throw new DirectoryLockedError(resolved, holder, false);
    if (attempt >= 8) throw new DirectoryLockedError(resolved, holder, false);
    // Stale. Move it aside under a name of our own, then check that what moved is the stale lock
    // and not one a competing taker created meanwhile (that one is put back).
    const aside = `${file}.stale-${process.pid}`;
    try {
      fs.renameSync(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const moved = readPid(aside);
    if (moved !== holder) {
      try {
        fs.linkSync(aside, file);
      } catch {
        // Someone created a lock meanwhile: the loop reads it.
      }
      fs.rmSync(aside, { force: true });
      continue;
    }
    fs.rmSync(aside, { force: true });
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
      heldHere.delete(resolved);
      // Only our own lock: never delete one a later owner took over.
      if (readPid(file) === process.pid) fs.rmSync(file, { force: true });
    },
  };
  heldHere.set(resolved, lock);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A process that exits without closing its group leaves no lock behind.
    process.on('exit', () => {
      for (const held of [...heldHere.values()]) held.release();
    });
  }
  return lock;
}
