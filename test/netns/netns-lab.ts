/**
 * A lab of test hosts on one machine: network namespaces joined by a bridge, each host with its own
 * address, as if on separate machines. The bridge lives in a "switch" namespace of its own, so the
 * lab never touches the root namespace's interfaces or routes, and deleting the namespaces removes
 * everything. Faults: cutting a host's link (partition), and random loss with nftables.
 *
 * Needs root and `ip` (iproute2); `nft` only for loss. `NetnsLab.unavailableReason()` says why a
 * lab cannot be made here, so tests can skip with that reason and nothing else.
 */
import { execFileSync, spawnSync } from 'node:child_process';

const SUBNET = '10.213.77';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface LabHost {
  readonly netns: string;
  readonly ip: string;
  /** The host's end of its link, inside the switch namespace (cut it to partition the host). */
  readonly switchPort: string;
}

export class NetnsLab {
  readonly hosts: LabHost[] = [];
  private readonly switchNs: string;
  private destroyed = false;

  private constructor(
    readonly tag: string,
    count: number,
  ) {
    this.switchNs = `dts-${tag}-sw`;
    try {
      ip('netns', 'add', this.switchNs);
      ip('-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', this.switchNs, 'link', 'set', 'br0', 'up');
      for (let i = 0; i < count; i++) {
        const netns = `dts-${tag}-h${i}`;
        const switchPort = `p${i}`;
        ip('netns', 'add', netns);
        // Create the pair inside the switch namespace, then move the host end into the host.
        ip('-n', this.switchNs, 'link', 'add', switchPort, 'type', 'veth', 'peer', 'name', 'eth0');
        ip('-n', this.switchNs, 'link', 'set', 'eth0', 'netns', netns);
        ip('-n', this.switchNs, 'link', 'set', switchPort, 'master', 'br0');
        ip('-n', this.switchNs, 'link', 'set', switchPort, 'up');
        const addr = `${SUBNET}.${10 + i}`;
        ip('-n', netns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
        ip('-n', netns, 'link', 'set', 'eth0', 'up');
        ip('-n', netns, 'link', 'set', 'lo', 'up');
        this.hosts.push({ netns, ip: addr, switchPort });
      }
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  /** Why no lab can be made here (not root, no `ip`, namespaces refused), or undefined. */
  static unavailableReason(): string | undefined {
    if (process.getuid?.() !== 0) return 'network namespaces need root';
    const probe = `dts-probe-${process.pid}`;
    const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
    if (r.error) return `cannot run ip (iproute2): ${r.error.message}`;
    if (r.status !== 0) return `cannot create a network namespace: ${r.stderr.trim()}`;
    spawnSync('ip', ['netns', 'del', probe]);
    return undefined;
  }

  /** Makes `count` hosts; `tag` keeps concurrent labs apart (default: this process's pid). */
  static create(count: number, tag = String(process.pid)): NetnsLab {
    return new NetnsLab(tag, count);
  }

  /** Cuts (or restores) host i's link: it can reach nobody and nobody can reach it. */
  setLink(i: number, up: boolean): void {
    ip('-n', this.switchNs, 'link', 'set', this.hosts[i].switchPort, up ? 'up' : 'down');
  }

  /** Drops `percent`% of packets arriving at host i at random (nftables); 0 removes the rule. */
  setLoss(i: number, percent: number): void {
    const { netns } = this.hosts[i];
    spawnSync('ip', ['netns', 'exec', netns, 'nft', 'delete', 'table', 'inet', 'dtsloss'], { stdio: 'ignore' });
    if (percent <= 0) return;
    // nft refuses a comparison that is always true, so total loss is a plain drop.
    const rule = percent >= 100 ? 'drop' : `numgen random mod 100 < ${Math.round(percent)} drop`;
    const script = `table inet dtsloss {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    ${rule}\n  }\n}\n`;
    execFileSync('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
  }

  /** Removes every namespace of the lab (and with them every link). Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const h of this.hosts) spawnSync('ip', ['netns', 'del', h.netns]);
    spawnSync('ip', ['netns', 'del', this.switchNs]);
  }
}

/** Whether `nft` can be run (loss tests need it). */
export function hasNft(): boolean {
  return spawnSync('nft', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes `nft` available for the loss tests: as root, installs Debian's nftables package when it
 * is missing (a fresh CI machine has iproute2 but not nftables). Returns why it could not, or
 * undefined when nft is there.
 */
export function ensureNft(): string | undefined {
  if (hasNft()) return undefined;
  if (process.getuid?.() !== 0) return 'nft (nftables) is not installed, and installing it needs root';
  const apt = (...args: string[]) => spawnSync('apt-get', args, { stdio: 'ignore', timeout: 180_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (apt('install', '-y', '-qq', 'nftables').status !== 0) {
    apt('update', '-qq');
    apt('install', '-y', '-qq', 'nftables');
  }
  return hasNft() ? undefined : 'nft (nftables) is not installed and apt-get could not install it';
}
