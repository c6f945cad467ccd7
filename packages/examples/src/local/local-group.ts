/**
 * Runs a program as a local multi-process group: one child process per member on loopback, all
 * stepping together. The parent gives each child its task (configuration included) in the
 * environment; each child joins, runs step 0, prints one `STEP <json>` line, waits for `go` on
 * stdin, runs step 1, and so on; after the last step it waits for `exit`, so nobody leaves while
 * others still need it. Every child is killed on timeout or error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freeLoopbackPorts, onLines } from '@derecho-ts/runtime/internals';

export interface LocalGroupOptions<Task> {
  /** The member program: command and arguments (see childScriptArgs). */
  readonly script: { readonly command: string; readonly args: readonly string[] };
  readonly numNodes: number;
  /** The task of member `id`, given its configuration. */
  task(id: number, config: MemberConfig): Task;
  readonly steps: number;
  readonly timeoutMs?: number;
  readonly logLevel?: string;
  /** Extra node options (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
}

export interface MemberConfig {
  readonly cluster: { readonly secret: string; readonly contact: string };
  readonly node: { readonly id: number; readonly host: string; readonly port: number };
  readonly failure: { readonly heartbeatMs: number; readonly failureTimeoutMs: number };
  readonly logging: { readonly level: string };
  readonly multicast?: object;
}

/** Results per step, per member (index = member id). */
export async function runLocalGroup<Task, StepResult>(options: LocalGroupOptions<Task>): Promise<StepResult[][]> {
  const n = options.numNodes;
  const ports = await freeLoopbackPorts(n);
  const secret = randomBytes(16).toString('hex');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const children: ChildProcess[] = [];
  const results: StepResult[][] = Array.from({ length: options.steps }, () => []);
  const counts = new Array<number>(options.steps).fill(0);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`local group timed out after ${timeoutMs} ms (steps done: ${counts.join(', ')} of ${n})`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      for (let id = 0; id < n; id++) {
        const config: MemberConfig = {
          cluster: { secret, contact: `127.0.0.1:${ports[0]}` },
          node: { id, host: '127.0.0.1', port: ports[id] },
          failure: { heartbeatMs: 100, failureTimeoutMs: 5000 },
          logging: { level: options.logLevel ?? 'warn' },
        };
        const child = spawn(options.script.command, [...(options.nodeArgs ?? []), ...options.script.args], {
          env: { ...process.env, DERECHO_MEMBER_TASK: JSON.stringify(options.task(id, config), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        children.push(child);
        let step = 0;
        onLines(child.stdout!, (line) => {
          if (!line.startsWith('STEP ')) return;
          results[step][id] = JSON.parse(line.slice(5)) as StepResult;
          if (++counts[step] === n) {
            if (step + 1 === options.steps) {
              clearTimeout(timer);
              resolve();
            } else for (const c of children) c.stdin!.write('go\n');
          }
          step++;
        });
        child.on('exit', (code, signal) => {
          if (step < options.steps) fail(new Error(`member ${id} exited (${signal ?? `code ${code}`}) after ${step} of ${options.steps} steps`));
        });
      }
    });
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.stdin!.end('exit\n');
          }),
      ),
    );
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  return results;
}
