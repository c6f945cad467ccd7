/**
 * Runs the group on this machine: three member processes on loopback ports, one ordered call, then
 * every member leaves. On real machines, run dist/member.js on each with its own node id and the
 * contact's address instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';

const members = 3;
const timeoutMs = 60_000;

/** Ports the kernel hands out now; free again once the servers close. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

const ports = await freePorts(members);
const env = { ...process.env, DERECHO_APP_PORTS: ports.join(','), DERECHO_APP_SECRET: randomBytes(16).toString('hex') };
const children: ChildProcess[] = [];
const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));

const timer = setTimeout(() => {
  console.error(`run-local: no result within ${timeoutMs} ms`);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
}, timeoutMs);

const result = await new Promise<string>((resolve, reject) => {
  for (let id = 0; id < members; id++) {
    const child = spawn(process.execPath, [new URL('./member.js', import.meta.url).pathname, String(id)], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line !== undefined) resolve(line.slice('RESULT '.length));
    });
    child.once('exit', (code, signal) => reject(new Error(`member ${id} exited early (${signal ?? `code ${code}`})`)));
  }
}).catch((err: Error) => {
  console.error(`run-local: ${err.message}`);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
});

console.log(`ordered add(5), the reply of each replica: ${result}`);
for (const c of children) {
  c.removeAllListeners('exit');
  c.stdin!.end();
}
await Promise.all(children.map(exited));
clearTimeout(timer);
