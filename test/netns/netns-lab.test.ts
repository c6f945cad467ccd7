/** The lab's own faults work: a cut link stops traffic, restoring it brings traffic back, and a
 * 100% nftables loss rule drops everything arriving at a host. */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { NetnsLab, ensureNft } from './netns-lab.js';

/** Tries a TCP connection from host `from` to ip:port inside the lab; true if it connected. */
function canConnect(lab: NetnsLab, from: number, ipAddr: string, port: number): boolean {
  const code = `const s=require('net').connect(${port},'${ipAddr}',()=>{process.exit(0)});s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),700)`;
  const r = spawnSync('ip', ['netns', 'exec', lab.hosts[from].netns, process.execPath, '-e', code], { timeout: 5000 });
  return r.status === 0;
}

describe('network-namespace lab', function () {
  this.timeout(30_000);
  let lab: NetnsLab | undefined;
  let server: ChildProcess | undefined;

  before(async function () {
    const why = NetnsLab.unavailableReason();
    if (why !== undefined) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    lab = NetnsLab.create(2, `${process.pid}lab`);
    const code = `require('net').createServer((c)=>c.end()).listen(7777,'${lab.hosts[1].ip}',()=>console.log('up'))`;
    server = spawn('ip', ['netns', 'exec', lab.hosts[1].netns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => server!.stdout!.once('data', () => resolve()));
  });

  after(() => {
    server?.kill('SIGKILL');
    lab?.destroy();
  });

  it('connects between hosts, and a cut link partitions them until restored', () => {
    const target = lab!.hosts[1].ip;
    expect(canConnect(lab!, 0, target, 7777)).to.equal(true);
    lab!.setLink(0, false);
    expect(canConnect(lab!, 0, target, 7777)).to.equal(false);
    lab!.setLink(0, true);
    expect(canConnect(lab!, 0, target, 7777)).to.equal(true);
  });

  it('drops packets with an nftables loss rule', function () {
    this.timeout(300_000);
    const why = ensureNft();
    if (why !== undefined) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    lab!.setLoss(1, 100);
    expect(canConnect(lab!, 0, lab!.hosts[1].ip, 7777)).to.equal(false);
    lab!.setLoss(1, 0);
    expect(canConnect(lab!, 0, lab!.hosts[1].ip, 7777)).to.equal(true);
  });
});
