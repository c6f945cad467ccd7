/**
 * The persistence frontiers of one persistent subgroup as this node sees them, and the calls
 * waiting on them: `local` (this node's log is durable through it) and `global` (every shard
 * member's is: the core's globalPersisted output). Only calls someone asked about wait here, so a
 * writer that never asks pays nothing.
 */
import { INVALID_VERSION, type Version } from '../core/version.js';

interface Waiter {
  readonly version: Version;
  resolve(): void;
  reject(error: Error): void;
}

export class PersistenceFrontier {
  private localVersion: Version = INVALID_VERSION;
  private globalVersion: Version = INVALID_VERSION;
  private localWaiters: Waiter[] = [];
  private globalWaiters: Waiter[] = [];
  /** Set once this node can no longer make anything durable (a disk error) or left the group. */
  private failure: Error | undefined;

  constructor(readonly subgroupId: number) {}

  get local(): Version {
    return this.localVersion;
  }

  get global(): Version {
    return this.globalVersion;
  }

  /** Resolves once this node persisted `version`. */
  waitLocal(version: Version): Promise<void> {
    return this.wait(version, this.localVersion, this.localWaiters);
  }

  /** Resolves once every member of the shard persisted `version`. */
  waitGlobal(version: Version): Promise<void> {
    return this.wait(version, this.globalVersion, this.globalWaiters);
  }

  private wait(version: Version, frontier: Version, waiters: Waiter[]): Promise<void> {
    if (version <= frontier) return Promise.resolve();
    if (this.failure !== undefined) return rejected(this.failure);
    return new Promise<void>((resolve, reject) => waiters.push({ version, resolve, reject }));
  }

  /** This node's log is durable through `version`. */
  advanceLocal(version: Version): void {
    if (version <= this.localVersion) return;
    this.localVersion = version;
    this.localWaiters = release(this.localWaiters, version);
  }

  /** Every shard member's log is durable through `version` (also this node's, then). */
  advanceGlobal(version: Version): void {
    this.advanceLocal(version);
    if (version <= this.globalVersion) return;
    this.globalVersion = version;
    this.globalWaiters = release(this.globalWaiters, version);
  }

  /**
   * Nothing further will become durable here (a disk error, or this node left): every waiter
   * rejects with `error`, and so does every later wait beyond the frontiers reached.
   */
  fail(error: Error): void {
    this.failure ??= error;
    const waiting = [...this.localWaiters, ...this.globalWaiters];
    this.localWaiters = [];
    this.globalWaiters = [];
    for (const w of waiting) w.reject(this.failure);
  }
}

function release(waiters: Waiter[], frontier: Version): Waiter[] {
  if (waiters.length === 0) return waiters;
  const still: Waiter[] = [];
  for (const w of waiters) {
    if (w.version <= frontier) w.resolve();
    else still.push(w);
  }
  return still;
}

function rejected(error: Error): Promise<void> {
  const p = Promise.reject(error);
  p.catch(() => undefined);
  return p;
}
