/**
 * A child process whose stdout is a stream of protocol lines (members of local test groups and
 * benchmarks report that way): every line is kept, and callers wait for the first line that
 * matches, with a deadline and an error that shows the last lines seen.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface LineProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line (already seen or still to come) that `test` accepts. */
  waitLine(test: (line: string) => boolean, timeoutMs: number, what: string): Promise<string>;
}

export function spawnLineProcess(label: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv, stdin: 'pipe' | 'ignore' = 'pipe', stderr: 'inherit' | 'ignore' = 'inherit'): LineProcess {
  const child = spawn(command, [...args], { env, stdio: [stdin, 'pipe', stderr] });
  const lines: string[] = [];
  let waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  onLines(child.stdout!, (line) => {
    lines.push(line);
    waiters = waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true));
  });
  const waitLine = (test: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> => {
    const seen = lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label}: no ${what} within ${timeoutMs} ms; last lines: ${lines.slice(-5).join(' | ')}`)), timeoutMs);
      waiters.push({ test, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  };
  return { child, lines, waitLine };
}

/** Calls `onLine` with every complete line (without its newline) the stream emits, as text. */
export function onLines(stream: Readable, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      onLine(line);
    }
  });
}
