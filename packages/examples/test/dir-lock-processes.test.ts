/**
 * One log directory, one process, between real processes: a second member pointed at a running
 * member's persistence.dir is refused by Group.join with DirectoryLockedError naming the directory
 * and the holder's pid; once the holder is killed with SIGKILL its stale lock is taken over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freeLoopbackPorts, onLines } from '@derecho-ts/runtime/internals';

const MEMBER = fileURLToPath(new URL('./fixtures/dir-lock-member.ts', import.meta.url));

interface Member {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly stderr: string[];
  readonly exited: Promise<void>;
}

function spawnMember(port: number, dir: string): Member {
  const child = spawn(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', MEMBER, JSON.stringify({ port, dir })], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const stderr: string[] = [];
  onLines(child.stdout!, (l) => {
    lines.push(l);
    child.emit('line');
  });
  onLines(child.stderr!, (l) => stderr.push(l));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, lines, stderr, exited };
}

function firstLine(m: Member, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line within ${timeoutMs} ms (stderr: ${m.stderr.join(' | ')})`)), timeoutMs);
    const check = () => {
      if (m.lines.length === 0) return;
      clearTimeout(timer);
      m.child.off('line', check);
      resolve(m.lines[0]);
    };
    m.child.on('line', check);
    m.child.once('exit', () => setTimeout(() => (m.lines.length > 0 ? check() : reject(new Error(`member exited without a line (stderr: ${m.stderr.join(' | ')})`))), 100));
    check();
  });
}

describe('log directory lock (two real processes)', function () {
  this.timeout(90_000);
  let members: Member[] = [];
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'derecho-dir-lock-'));
  });
  afterEach(async () => {
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    await Promise.all(members.map((m) => m.exited));
    members = [];
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('refuses a second member on the same directory, naming it and the holder; takes over after the holder is killed', async () => {
    const dir = path.join(root, 'log');
    const ports = await freeLoopbackPorts(3);
    const first = spawnMember(ports[0], dir);
    members.push(first);
    const joined = await firstLine(first, 40_000);
    expect(joined).to.equal(`joined ${first.child.pid}`);

    const second = spawnMember(ports[1], dir);
    members.push(second);
    const refused = await firstLine(second, 40_000);
    expect(refused.startsWith(`refused DirectoryLockedError ${first.child.pid} ${dir} `), refused).to.equal(true);
    expect(refused).to.include(`locked by process ${first.child.pid}`);
    await second.exited;
    expect(second.child.exitCode).to.equal(0);
    // The refused member touched nothing: the holder's lock and log are as they were.
    expect(fs.readFileSync(path.join(dir, 'derecho.lock'), 'utf8').trim()).to.equal(String(first.child.pid));

    first.child.kill('SIGKILL');
    await first.exited;
    // The lock stays behind a SIGKILL, naming a pid that no longer runs.
    expect(fs.readFileSync(path.join(dir, 'derecho.lock'), 'utf8').trim()).to.equal(String(first.child.pid));
    // A fresh directory of logs from an earlier run is refused for another reason (restart is not
    // built yet); the lock check comes first, so use the directory without its logs.
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.log')) fs.rmSync(path.join(dir, f));
    const third = spawnMember(ports[2], dir);
    members.push(third);
    expect(await firstLine(third, 40_000)).to.equal(`joined ${third.child.pid}`);
    expect(third.stderr.join('\n')).to.include(`took over the lock of the log directory ${dir} from process ${first.child.pid}`);
    expect(fs.readFileSync(path.join(dir, 'derecho.lock'), 'utf8').trim()).to.equal(String(third.child.pid));
  });
});
