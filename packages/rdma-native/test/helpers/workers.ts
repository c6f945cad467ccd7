/** Spawns fabric worker processes for tests and talks to them over IPC; kills them all on cleanup. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const workerScript = fileURLToPath(new URL('../workers/fabric-worker.ts', import.meta.url));

export interface WorkerEvent {
  event: string;
  [k: string]: unknown;
}

export class Worker {
  readonly events: WorkerEvent[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private readonly eventWaiters = new Set<() => void>();
  exited = false;

  constructor(readonly child: ChildProcess, readonly name: string) {
    child.on('message', (raw) => {
      const m = raw as { id?: number; ok?: boolean; error?: string; event?: string };
      if (m.id !== undefined) {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (m.ok) w?.resolve(m as Record<string, unknown>);
        else w?.reject(new Error(`${name}: ${m.error}`));
      } else if (m.event) {
        this.events.push(m as WorkerEvent);
        for (const f of [...this.eventWaiters]) f();
      }
    });
    child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiting.values()) w.reject(new Error(`${name} exited`));
      this.waiting.clear();
    });
  }

  request(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => (clearTimeout(t), resolve(v)),
        reject: (e) => (clearTimeout(t), reject(e)),
      });
      this.child.send({ id, cmd, ...args });
    });
  }

  /** Resolves with the first event (already seen or future) that matches. */
  waitEvent(match: (e: WorkerEvent) => boolean, timeoutMs: number, what: string): Promise<WorkerEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const e = this.events.find(match);
        if (e) {
          done();
          resolve(e);
          return true;
        }
        return false;
      };
      const t = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(this.events.slice(-10))}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        this.eventWaiters.delete(listener);
      };
      const listener = () => void check();
      this.eventWaiters.add(listener);
      check();
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.child.kill(signal);
  }
}

/** Owns the workers a test suite starts; call killAll() from an after/afterEach hook. */
export class WorkerPool {
  private readonly workers: Worker[] = [];

  async spawn(name: string): Promise<Worker> {
    const child = spawn(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', workerScript], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const w = new Worker(child, name);
    this.workers.push(w);
    await w.waitEvent((e) => e.event === 'started', 30_000, 'start');
    return w;
  }

  /** Spawns members with node ids `ids`, opens their endpoints and connects every pair. */
  async cluster(ids: number[], open: Record<string, unknown> = {}): Promise<Worker[]> {
    const ws = await Promise.all(ids.map((id) => this.spawn(`node${id}`)));
    const ports = await Promise.all(ws.map((w, i) => w.request('open', { nodeId: ids[i], ...open })));
    // Every member dials every other one: exercises the simultaneous-dial resolution too.
    await Promise.all(
      ws.map((w, i) =>
        w.request('connect', { peers: ids.filter((_, j) => j !== i).map((id) => ({ nodeId: id, port: ports[ids.indexOf(id)].port as number })) }),
      ),
    );
    return ws;
  }

  killAll(): void {
    for (const w of this.workers) {
      if (!w.exited) {
        w.child.kill('SIGCONT');
        w.child.kill('SIGKILL');
      }
    }
    this.workers.length = 0;
  }
}

/** What a fence reader reports (fenceRead / fenceReadInline in the worker). */
export interface FenceResult {
  violations: number;
  regressions: number;
  checks: number;
  writes: number;
  finalData: number;
  stats?: { putsReceivedInline: number; putsReceivedByIoThread: number };
}

/**
 * The fencing experiment: `writer` writes data then counter, `count` times, to region `regionId`
 * of [writer, reader]; `reader` (with `readCmd`) checks after each batch that the counter never
 * runs ahead of the data.
 */
export async function runFence(writer: Worker, reader: Worker, ids: { writer: number; reader: number; regionId: number }, count: number, readCmd = 'fenceRead', bigBytes = 0): Promise<FenceResult> {
  const members = [ids.writer, ids.reader];
  const done = reader.request(readCmd, { regionId: ids.regionId, members, writer: ids.writer, count, bigBytes }, 120_000);
  await reader.waitEvent((e) => e.event === 'ready', 10_000, 'reader ready');
  await writer.request('fenceWrite', { regionId: ids.regionId, members, count, bigBytes }, 120_000);
  return (await done) as unknown as FenceResult;
}
