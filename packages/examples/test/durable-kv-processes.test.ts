/**
 * The durability promise between real processes: once `globalPersistence()` resolved for a call,
 * every member's log holds its version, even if every member is killed with SIGKILL right then
 * (the writer kills itself in the same tick). The logs are reopened as `PersistentMap`s.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Persistent } from '@derecho-ts/runtime';
import { freeLoopbackPorts } from '@derecho-ts/runtime/internals';
import { openDataLog } from './helpers.js';
import { killAll, spawnMember as spawnFixture, waitLine, type MemberProcess as Member } from './member-process.js';

const MEMBER = fileURLToPath(new URL('./fixtures/durable-kv-member.ts', import.meta.url));
const spawnMember = (task: object): Member => spawnFixture(MEMBER, task);
const PUTS = 300;

describe('durability of globally persisted versions (processes killed with SIGKILL)', function () {
  this.timeout(60_000);
  let members: Member[] = [];
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'derecho-durable-kill-'));
  });
  afterEach(async () => {
    await killAll(members);
    members = [];
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('every member\'s log holds the version whose globalPersistence() resolved, after all were killed at once', async () => {
    const ports = await freeLoopbackPorts(3);
    const dirs = [0, 1, 2].map((id) => path.join(root, `node-${id}`));
    members = [0, 1, 2].map((id) => spawnMember({ id, ports, dir: dirs[id], writer: id === 1, puts: PUTS }));
    const persisted = await waitLine(members[1], (l) => l.startsWith('persisted '), 45_000, 'the writer\'s persisted line');
    // The writer killed itself right after printing; kill the others now.
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    await Promise.all(members.map((m) => m.exited));
    expect(members[1].child.signalCode).to.equal('SIGKILL');
    const version = BigInt(persisted.split(' ')[1]);

    for (const dir of dirs) {
      const log = openDataLog(path.join(dir, 'sg0-sh0-data.log'));
      try {
        expect(log.latestVersion >= version, `${dir}: latest ${log.latestVersion} < ${version}`).to.equal(true);
        expect(log.count).to.be.at.least(PUTS);
        const state = log.get(version);
        expect(state.size).to.equal(PUTS);
        expect(new TextDecoder().decode(state.get(`key-${PUTS - 1}`))).to.equal(`value-${PUTS - 1}`);
      } finally {
        log.close();
      }
    }
  });
});
