/**
 * The machine's own limits on loopback, measured in the same run as a benchmark so its figures can
 * be read as ratios: one TCP stream between two processes (raw C, no framing), and a raw C TCP
 * ping-pong between two processes.
 */
import { spawn } from 'node:child_process';
import { childScriptArgs, loadAddon } from '@derecho-ts/rdma-native';

async function withPeer<T>(args: string[], use: (port: number) => T): Promise<T> {
  const script = childScriptArgs(import.meta.url, './loopback-limit-peer');
  const child = spawn(script.command, [...script.args, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (c: string) => {
        out += c;
        const m = /PORT (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`loopback limit peer exited with code ${code} before listening`)));
    });
    return use(port);
  } finally {
    child.kill('SIGKILL');
  }
}

/** GB/s of one raw TCP stream of `totalBytes` between two processes. */
export async function rawStreamGBps(totalBytes = 1 << 30): Promise<number> {
  const addon = loadAddon();
  const seconds = await withPeer(['sink'], (port) => addon.rawStream('127.0.0.1', port, totalBytes));
  return totalBytes / seconds / 1e9;
}

/** Round-trip times in microseconds of a raw TCP ping-pong of `msgBytes` between two processes. */
export async function rawPingPongUs(msgBytes: number, iterations = 5000): Promise<number[]> {
  const addon = loadAddon();
  const rtts = await withPeer(['echo', String(msgBytes)], (port) => addon.rawPingPong('127.0.0.1', port, msgBytes, iterations));
  return [...rtts];
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
