/**
 * lockDirectory in one process: the file holds our pid, a second lock here is refused, release
 * deletes only our own lock, and a lock naming a pid that no longer runs (or a garbled one) is
 * taken over. Between real processes: packages/examples/test/dir-lock-processes.test.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { DirectoryLockedError, LOCK_FILE_NAME, lockDirectory } from '../../src/persistent/dir-lock.js';
import { makeTempDir, removeDir } from './helpers.js';

describe('log directory lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(makeTempDir('lock'), 'log');
  });
  afterEach(() => removeDir(path.dirname(dir)));

  it('creates the directory and a lock file with this pid; a second lock in this process is refused; release deletes it', () => {
    const lock = lockDirectory(dir);
    const file = path.join(dir, LOCK_FILE_NAME);
    expect(fs.readFileSync(file, 'utf8')).to.equal(`${process.pid}\n`);
    expect(lock.takenOverFromPid).to.equal(undefined);
    let refused: unknown;
    try {
      lockDirectory(dir);
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(DirectoryLockedError);
    expect((refused as DirectoryLockedError).dir).to.equal(dir);
    expect((refused as DirectoryLockedError).pid).to.equal(process.pid);
    lock.release();
    expect(fs.existsSync(file)).to.equal(false);
    lockDirectory(dir).release();
  });

  it('takes over the lock of a process that no longer runs, and a garbled lock', () => {
    // A pid that surely ran and is gone: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, LOCK_FILE_NAME);
    fs.writeFileSync(file, `${dead}\n`);
    const lock = lockDirectory(dir);
    expect(lock.takenOverFromPid).to.equal(dead);
    expect(fs.readFileSync(file, 'utf8').trim()).to.equal(String(process.pid));
    expect(fs.readdirSync(dir)).to.deep.equal([LOCK_FILE_NAME]);
    lock.release();
    fs.writeFileSync(file, '');
    const again = lockDirectory(dir);
    expect(again.takenOverFromPid).to.equal(0);
    again.release();
  });

  it('refuses a lock held by a running process, naming the directory and its pid', () => {
    fs.mkdirSync(dir, { recursive: true });
    // pid 1 always runs.
    fs.writeFileSync(path.join(dir, LOCK_FILE_NAME), '1\n');
    expect(() => lockDirectory(dir)).to.throw(DirectoryLockedError, `the log directory ${dir} is locked by process 1`);
  });

  it('release leaves a lock that another owner took over', () => {
    const lock = lockDirectory(dir);
    fs.writeFileSync(path.join(dir, LOCK_FILE_NAME), '1\n');
    lock.release();
    expect(fs.readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8')).to.equal('1\n');
  });
});
