/**
 * The simulated disk's own promises: what survives a crash (synced data and names, a prefix of the
 * unsynced changes, the last maybe torn), POSIX error codes, latency on the virtual clock, and a
 * dead process's mount refusing to touch the restarted machine's disk.
 */
import { expect } from 'chai';
import { Prng } from '../../src/sim/prng.js';
import { SimDisk } from '../../src/sim/sim-disk.js';

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('sim: SimDisk', () => {
  it('keeps synced data and names across a crash and loses the rest when nothing unsynced survives', () => {
    const machine = new SimDisk(new Prng(1), { keepUnsyncedChance: 0 });
    const disk = machine.mount();
    disk.makeDirectory('/d');
    const fd = disk.open('/d/f', 'create-truncate');
    disk.write(fd, bytes(1, 2, 3), 0, 3, 0);
    disk.syncData(fd);
    disk.syncDirectory('/d');
    disk.write(fd, bytes(4, 5), 0, 2, 3);
    disk.truncate(fd, 1);
    const lost = disk.open('/d/g', 'create-truncate');
    disk.write(lost, bytes(9), 0, 1, 0);
    disk.syncData(lost); // data synced, but its name never was
    machine.crash();
    const after = machine.mount();
    expect(after.fileBytes('/d/f')).to.equal(3);
    expect(Array.from(machine.contentOf('/d/f'))).to.deep.equal([1, 2, 3]);
    expect(after.fileBytes('/d/g')).to.equal(undefined);
    expect(machine.stats.writesLost).to.equal(1);
  });

  it('keeps an in-order prefix of unsynced writes, the last torn to a prefix of its bytes', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const machine = new SimDisk(new Prng(seed), { keepUnsyncedChance: 1, tearChance: 1 });
      const disk = machine.mount();
      disk.makeDirectory('/d');
      const fd = disk.open('/d/f', 'create-truncate');
      disk.syncDirectory('/d');
      disk.write(fd, bytes(1, 1, 1, 1), 0, 4, 0);
      disk.write(fd, bytes(2, 2, 2, 2), 0, 4, 4);
      disk.write(fd, bytes(3, 3, 3, 3), 0, 4, 8);
      machine.crash();
      const content = Array.from(machine.contentOf('/d/f'));
      const whole = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3];
      expect(content, `seed ${seed}`).to.deep.equal(whole.slice(0, content.length));
      expect(content.length, `seed ${seed}: the last kept write is torn`).to.be.below(whole.length);
    }
  });

  it('makes a rename durable only with a sync of its directory', () => {
    const machine = new SimDisk(new Prng(2), { keepUnsyncedChance: 0 });
    const disk = machine.mount();
    disk.makeDirectory('/d');
    const fd = disk.open('/d/a.new', 'create-truncate');
    disk.write(fd, bytes(7), 0, 1, 0);
    disk.syncData(fd);
    disk.close(fd);
    disk.syncDirectory('/d');
    disk.rename('/d/a.new', '/d/a');
    machine.crash();
    expect(machine.mount().fileBytes('/d/a')).to.equal(undefined);
    const again = machine.mount();
    again.rename('/d/a.new', '/d/a');
    again.syncDirectory('/d');
    machine.crash();
    expect(Array.from(machine.contentOf('/d/a'))).to.deep.equal([7]);
  });

  it('fails as POSIX does: ENOENT, EEXIST, EBADF', () => {
    const disk = new SimDisk(new Prng(3)).mount();
    expect(codeOf(() => disk.open('/nowhere/f', 'create-truncate'))).to.equal('ENOENT');
    disk.makeDirectory('/d');
    expect(codeOf(() => disk.open('/d/f', 'read-write'))).to.equal('ENOENT');
    disk.close(disk.open('/d/f', 'create-exclusive'));
    expect(codeOf(() => disk.open('/d/f', 'create-exclusive'))).to.equal('EEXIST');
    expect(codeOf(() => disk.link('/d/f', '/d/f'))).to.equal('EEXIST');
    const ro = disk.open('/d/f', 'read-only');
    expect(codeOf(() => disk.write(ro, bytes(1), 0, 1, 0))).to.equal('EBADF');
    disk.close(ro);
    expect(codeOf(() => disk.close(ro))).to.equal('EBADF');
    expect(codeOf(() => disk.remove('/d/absent'))).to.equal(undefined);
  });

  it('completes asynchronous operations after their latency on the virtual clock; a sync covers what was written before it', async () => {
    const machine = new SimDisk(new Prng(4), { syncUs: { minUs: 1000, maxUs: 1000 }, writeUs: { minUs: 10, maxUs: 10 }, keepUnsyncedChance: 0 });
    const disk = machine.mount();
    disk.makeDirectory('/d');
    const fd = disk.open('/d/f', 'create-truncate');
    disk.syncDirectory('/d');
    disk.write(fd, bytes(1), 0, 1, 0);
    const started = machine.nowUs;
    let syncedAtUs = -1;
    const synced = disk.syncDataAsync(fd).then(() => (syncedAtUs = machine.nowUs));
    disk.write(fd, bytes(2), 0, 1, 1); // after the sync started: not covered
    await machine.settle();
    await synced;
    expect(syncedAtUs - started).to.equal(1000);
    machine.crash();
    expect(Array.from(machine.contentOf('/d/f'))).to.deep.equal([1]);
  });

  it("refuses a crashed process's mount with EIO, and never completes its operations in flight", async () => {
    const machine = new SimDisk(new Prng(5));
    const old = machine.mount();
    old.makeDirectory('/d');
    const fd = old.open('/d/f', 'create-truncate');
    let completed = false;
    void old.syncDataAsync(fd).then(() => (completed = true));
    machine.crash();
    await machine.settle();
    expect(completed).to.equal(false);
    expect(codeOf(() => old.open('/d/f', 'create-truncate'))).to.equal('EIO');
    const fresh = machine.mount();
    expect(codeOf(() => fresh.makeDirectory('/d'))).to.equal(undefined);
  });
});
