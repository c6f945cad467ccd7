/**
 * The `derecho-examples` command: `derecho-examples demo` runs Foo/Bar on local processes, the RPC
 * benchmarks print their figures (tiny runs: this checks the wiring, not the numbers), and every
 * command follows the `derecho` conventions (--help exits 0, bad usage exits 2 with one line).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

function examples(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`derecho-examples ${args.join(' ')} timed out; stdout so far:\n${stdout}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the derecho-examples command', function () {
  this.timeout(90_000);

  it('--help of every command exits 0 and prints usage; --version; bad usage is one line and exit 2', async () => {
    for (const args of [['--help'], ['demo', '--help'], ['bench', '--help'], ['bench', 'typed', '--help'], ['bench', 'p2p-latency', '--help'], ['bench', 'durable-kv', '--help']]) {
      const r = await examples(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
      expect(r.stdout).to.match(/^usage: derecho-examples/);
    }
    const version = await examples(['--version']);
    expect(version.code).to.equal(0);
    expect(version.stdout).to.match(/^@derecho-ts\/examples \d+\.\d+\.\d+\n$/);
    const bad = await examples(['bench', 'typed', '3']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.equal('derecho-examples bench typed: expected 3 positional arguments (num_nodes count sender_selector), got 1: 3 (see derecho-examples bench typed --help)\n');
  });

  it('derecho-examples demo runs Foo/Bar on 4 processes and prints what each member saw', async () => {
    const r = await examples(['demo']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/Foo rank 0: changeState\(1\) -> \{ node \d: true, node \d: true, node \d: true \}/);
    expect(r.stdout).to.match(/Bar \(not a Foo member\): p2p readState\(\) at each Foo replica -> \{ node \d: (\d), node \d: \1, node \d: \1 \}/);
    expect(r.stdout).to.match(/every replica ended with state [13]\n/);
  });

  it('an unknown demo is named with the choices', async () => {
    const bad = await examples(['demo', 'nope']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/unknown demo "nope"; one of: foo-bar, kv, iot/);
  });

  it('bench typed and p2p-latency report figures', async () => {
    const typed = await examples(['bench', 'typed', '3', '300', '0', '--payload-bytes', '100', '--json']);
    expect(typed.code, typed.stderr).to.equal(0);
    const t = JSON.parse(typed.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(t).to.include({ benchmark: 'typed', numNodes: 3, numSenders: 3, count: 300, payloadBytes: 100 });
    expect(t.callsPerSecondPerMember).to.be.a('number').above(0);
    expect(t.marshalNsPerCall).to.be.a('number').above(0);
    expect(t.cpuUsPerCall).to.be.a('number').above(0);
    expect(t.rpcLayerNsPerCallPerMember).to.be.a('number').above(0);
    // With replies every member answers every call; the senders time until their last is answered.
    const acked = await examples(['bench', 'typed', '3', '200', '0', '--replies', '--window', '256', '--json']);
    expect(acked.code, acked.stderr).to.equal(0);
    const a = JSON.parse(acked.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(a).to.include({ replies: true, windowSize: 256, count: 200 });
    expect(a.answeredCallsPerSecondPerSender).to.be.a('number').above(0);
    const p2p = await examples(['bench', 'p2p-latency', '--count', '200', '--json']);
    expect(p2p.code, p2p.stderr).to.equal(0);
    const p = JSON.parse(p2p.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(p).to.include({ benchmark: 'p2p-latency', samples: 200 });
    expect(p.p50Us).to.be.a('number').above(0);
    expect(p.rawPingPongP50Us).to.be.a('number').above(0);
  });

  it('bench durable-kv reports every configuration, and names a bad option', async () => {
    const run = await examples(['bench', 'durable-kv', '--count', '200', '--samples', '10', '--json']);
    expect(run.code, run.stderr).to.equal(0);
    const d = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { benchmark: string; figures: { setup: string; putsPerSecond: number; putToGlobalPersistenceP50Us: number }[] };
    expect(d.benchmark).to.equal('durable-kv');
    expect(d.figures.map((f) => f.setup)).to.deep.equal(['persistent, fsync', 'persistent, no fsync', 'persistent, persistence off', 'ordered (volatile)']);
    for (const f of d.figures) {
      expect(f.putsPerSecond).to.be.above(0);
      expect(f.putToGlobalPersistenceP50Us).to.be.above(0);
    }
    const bad = await examples(['bench', 'durable-kv', '--count', 'many']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/--count/);
  });
});
