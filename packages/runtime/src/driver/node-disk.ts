/**
 * The Disk port over node:fs: each operation is the node:fs call of the same meaning. It imports
 * nothing of the driver, so the log store can use it as its default disk without pulling the
 * driver in.
 */
import * as fs from 'node:fs';
import type { Disk, DiskFile, DiskOpenMode } from '../io/disk.js';

const OPEN_FLAGS: Record<DiskOpenMode, string | number> = {
  'read-only': 'r',
  'read-write': 'r+',
  'create-truncate': 'w',
  'create-exclusive': fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL,
};

export const nodeDisk: Disk = {
  makeDirectory(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
  },
  fileBytes(file: string): number | undefined {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    return stat?.size;
  },
  open(file: string, mode: DiskOpenMode): DiskFile {
    return fs.openSync(file, OPEN_FLAGS[mode], 0o644);
  },
  close(handle: DiskFile): void {
    fs.closeSync(handle);
  },
  read(handle: DiskFile, target: Uint8Array, at: number, length: number, position: number): number {
    return fs.readSync(handle, target, at, length, position);
  },
  readAsync(handle: DiskFile, target: Uint8Array, at: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => fs.read(handle, target, at, length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead))));
  },
  write(handle: DiskFile, source: Uint8Array, from: number, length: number, position: number): number {
    return fs.writeSync(handle, source, from, length, position);
  },
  writeAsync(handle: DiskFile, source: Uint8Array, from: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => fs.write(handle, source, from, length, position, (err, written) => (err ? reject(err) : resolve(written))));
  },
  truncate(handle: DiskFile, lengthBytes: number): void {
    fs.ftruncateSync(handle, lengthBytes);
  },
  syncData(handle: DiskFile): void {
    fs.fdatasyncSync(handle);
  },
  syncDataAsync(handle: DiskFile): Promise<void> {
    return new Promise((resolve, reject) => fs.fdatasync(handle, (err) => (err ? reject(err) : resolve())));
  },
  sync(handle: DiskFile): void {
    fs.fsyncSync(handle);
  },
  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  },
  link(existing: string, newName: string): void {
    fs.linkSync(existing, newName);
  },
  remove(file: string): void {
    fs.rmSync(file, { force: true });
  },
  syncDirectory(dir: string): void {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
};
