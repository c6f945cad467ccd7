/**
 * `derecho demo [name]`: runs a demo on a local multi-process group on loopback.
 *   (default) foo-bar  Derecho's simple replicated objects (from @derecho-ts/examples)
 *   kv                 the sharded key-value store with a non-member client
 *   iot                the IoT smart-memory service
 *   fabric             the data plane only: SST rows and one RDMC multicast among 3 processes
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childScriptArgs } from '@derecho-ts/rdma-native';

interface ExamplesModule {
  readonly demos: Readonly<Record<string, () => Promise<number>>>;
}

// The examples package depends on the runtime, not the other way round: it is loaded by name at
// run time (a workspace sibling, from src under tsx or from dist once built).
const EXAMPLES = '@derecho-ts/examples';

export async function runDemo(args: string[]): Promise<number> {
  const [name = 'foo-bar'] = args;
  if (name === 'fabric') return runFabricDemo();
  const { demos } = (await import(EXAMPLES)) as ExamplesModule;
  const demo = demos[name];
  if (demo === undefined) {
    process.stderr.write(`derecho demo: unknown demo ${JSON.stringify(name)}; one of: ${[...Object.keys(demos), 'fabric'].join(', ')}\n`);
    return 2;
  }
  return demo();
}

async function runFabricDemo(): Promise<number> {
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
