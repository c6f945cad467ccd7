/**
 * Runs a command to completion for the install tests: output collected, a deadline after which the
 * command and everything it started (its own process group) is killed, and an error that shows the
 * command's last output when it fails.
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly code: number;
  readonly output: string;
  readonly ms: number;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** Resolve with a non-zero exit code instead of rejecting. */
  readonly allowFailure?: boolean;
}

export function runCommand(command: string, args: readonly string[], options: RunOptions): Promise<CommandResult> {
  const started = Date.now();
  const shown = `${command} ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`${shown} (in ${options.cwd}) did not finish within ${options.timeoutMs} ms; last output:\n${output.slice(-4000)}`));
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Whatever the command left running in its group (a member that did not exit) goes too.
      killGroup();
      const result = { code: code ?? 1, output, ms: Date.now() - started };
      if (result.code !== 0 && !options.allowFailure) {
        reject(new Error(`${shown} (in ${options.cwd}) failed (${signal ?? `exit code ${code}`}); last output:\n${output.slice(-4000)}`));
      } else resolve(result);
    });
  });
}
