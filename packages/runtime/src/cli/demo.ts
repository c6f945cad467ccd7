/**
 * `derecho demo [fabric]`: the data plane alone on a local group on loopback: SST rows and one
 * RDMC multicast among 3 processes. The replicated-object demos (foo-bar, kv, iot) need the
 * examples' classes and run from their own command, `derecho-examples demo <name>`: the runtime
 * never loads @derecho-ts/examples.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childScriptArgs } from '@derecho-ts/rdma-native';
import { parseCommand, printUsage, UsageError, type Command } from './command.js';

/** The demos of @derecho-ts/examples, named here only to say where they are. */
const EXAMPLES_DEMOS = ['foo-bar', 'kv', 'iot'];

const USAGE = `usage: derecho demo [fabric]
  fabric (default)  the data plane only: 3 processes on 127.0.0.1 exchange SST rows and one RDMC multicast
The replicated-object demos are in the examples package: derecho-examples demo [${EXAMPLES_DEMOS.join('|')}]
(npm start in this repository runs derecho-examples demo foo-bar).
`;

function run(args: string[]): Promise<number> | number {
  const parsed = parseCommand(args, {}, { min: 0, max: 1, names: 'demo' });
  if (parsed === undefined) return printUsage({ usage: USAGE });
  const [name = 'fabric'] = parsed.positionals;
  if (name === 'fabric') return runFabricDemo();
  if (EXAMPLES_DEMOS.includes(name)) throw new UsageError(`${name} is a demo of the examples package: run derecho-examples demo ${name} (from @derecho-ts/examples)`);
  throw new UsageError(`unknown demo ${JSON.stringify(name)}; one of: fabric (here), ${EXAMPLES_DEMOS.join(', ')} (derecho-examples demo)`);
}

export const demoCommand: Command = { name: 'derecho demo', usage: USAGE, run };

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
