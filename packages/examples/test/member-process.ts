/**
 * A member process of a multi-process test: a fixture script run under tsx with its task as JSON,
 * its stdout collected line by line (the fixture's protocol with the test), and a way to wait for
 * a line.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface MemberProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<void>;
}

export function spawnMember(script: string, task: object): MemberProcess {
  const child = spawn(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', script, JSON.stringify(task)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    child.emit('line');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, lines, exited };
}

/** The first line `match` accepts; rejects when the process exits first or after `timeoutMs`. */
export function waitLine(m: MemberProcess, match: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const found = m.lines.find(match);
      if (found === undefined) return false;
      clearTimeout(timer);
      m.child.off('line', check);
      m.child.off('exit', onExit);
      resolve(found);
      return true;
    };
    const onExit = () => {
      if (!check()) {
        clearTimeout(timer);
        reject(new Error(`member exited before ${what} (lines: ${m.lines.join(' | ')})`));
      }
    };
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms (lines: ${m.lines.join(' | ')})`)), timeoutMs);
    if (check()) return;
    m.child.on('line', check);
    m.child.once('exit', onExit);
  });
}

/** Kills (SIGKILL) every process still running and waits for all to exit. */
export async function killAll(members: readonly MemberProcess[]): Promise<void> {
  for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
  await Promise.all(members.map((m) => m.exited));
}
