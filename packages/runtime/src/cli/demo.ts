/**
 * `derecho demo`: starts a 3-process group on loopback (the fabric data plane only, for now): the
 * members exchange SST rows and one RDMC multicast and each prints what it saw.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childScriptArgs } from '@derecho-ts/rdma-native';

export async function runDemo(_args: string[]): Promise<number> {
  const { command, args } = childScriptArgs(import.meta.url, './demo-member');
  const ids = [1, 2, 3];
  const children: ChildProcess[] = [];
  process.stdout.write('derecho demo: 3 processes on 127.0.0.1 exchanging SST rows and one RDMC multicast\n');
  try {
    const ports = await Promise.all(
      ids.map(
        (id) =>
          new Promise<number>((resolve, reject) => {
            const child = spawn(command, [...args, String(id)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
            children.push(child);
            child.once('message', (m) => resolve((m as { port: number }).port));
            child.once('exit', (code) => reject(new Error(`member ${id} exited early (code ${code})`)));
          }),
      ),
    );
    const exits = children.map((child) => new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1))));
    children.forEach((child, i) => child.send({ peers: ids.filter((_, j) => j !== i).map((id, _k) => ({ nodeId: id, port: ports[id - 1] })) }));
    const timeout = new Promise<number[]>((resolve) => setTimeout(() => resolve([-1]), 60_000).unref());
    const codes = await Promise.race([Promise.all(exits), timeout]);
    const ok = codes.every((c) => c === 0);
    process.stdout.write(ok ? 'derecho demo: all members finished cleanly\n' : `derecho demo: failed (exit codes ${codes.join(', ')})\n`);
    return ok ? 0 : 1;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
