/**
 * The restart log in a running group: 3 in-process members of a persistent shard, one closes, the
 * other two install a view without it after a ragged trim. Each member's `restart.log` holds the
 * views it installed and the trim it logged before echoing it, the same at every survivor.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { customShards, Group, RestartLogError, type ViewChange } from '@derecho-ts/runtime';
import { freeLoopbackPorts, RESTART_LOG_FILE_NAME, RestartLog, type RestartLogContent } from '@derecho-ts/runtime/internals';
import { wireSchema } from '../src/derecho.generated.js';
import { DurableKV } from '../src/durable-kv/durable-kv.js';
import { memberConfig } from './helpers.js';

const PUTS_PER_MEMBER = 20;
const bytes = (s: string) => new TextEncoder().encode(s);

describe('restart log of a running group (views and ragged trims on disk, in-process)', function () {
  this.timeout(60_000);
  let root: string;
  const groups: Group[] = [];

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'derecho-restart-log-'));
  });
  afterEach(async () => {
    await Promise.all(groups.splice(0).map((g) => g.close()));
    fs.rmSync(root, { recursive: true, force: true });
  });

  const logDir = (id: number) => path.join(root, `node-${id}`, 'log');

  function readRestartLog(id: number): RestartLogContent {
    const log = RestartLog.open(logDir(id));
    try {
      expect(log.recovery.created, `node ${id} wrote ${RESTART_LOG_FILE_NAME}`).to.equal(false);
      expect(log.recovery.droppedBytes).to.equal(0);
      return log.read();
    } finally {
      void log.close();
    }
  }

  async function join(ids: number[], ports: readonly number[], enabled: boolean): Promise<Group[]> {
    const layout = customShards([{ minNodes: 2, maxNodes: 3, mode: 'persistent' }]);
    return Promise.all(
      ids.map((id) =>
        Group.join({
          argv: [],
          schema: wireSchema,
          minMembers: ids.length,
          joinTimeoutMs: 20_000,
          subgroups: [{ type: DurableKV, layout }],
          config: { ...memberConfig(id, ports), persistence: { enabled, dir: logDir(id) } },
        }),
      ),
    );
  }

  /** Puts from every member, all globally persisted; then member 2 closes and the others install a view without it. */
  async function putThenRemoveOne(members: Group[]): Promise<ViewChange[]> {
    const calls = members.flatMap((g) => Array.from({ length: PUTS_PER_MEMBER }, (_, i) => g.subgroup(DurableKV).ordered.put(`k-${g.nodeId}-${i}`, bytes(`v${i}`))));
    await Promise.all(calls.map((c) => c.globalPersistence()));
    const survivors = members.slice(0, 2);
    const nextViews = survivors.map((g) => new Promise<ViewChange>((resolve) => g.on('view', (v) => v.vid === 1 && resolve(v))));
    await members[2].close();
    return Promise.all(nextViews);
  }

  it('every member logs each view it installed and, at each survivor, the ragged trim that ended the view, identical everywhere', async () => {
    const ports = await freeLoopbackPorts(3);
    const members = await join([0, 1, 2], ports, true);
    groups.push(...members);
    const firstView = members[0].view;
    expect(firstView.vid).to.equal(0);
    const next = await putThenRemoveOne(members);
    expect(next.map((v) => v.members.map((m) => m.id))).to.deep.equal([
      [0, 1],
      [0, 1],
    ]);
    const secondView = members[0].view;
    await Promise.all(groups.splice(0).map((g) => g.close()));

    const logs = [0, 1].map((id) => readRestartLog(id));
    for (const [id, content] of logs.entries()) {
      expect(content.view, `node ${id}: the last view`).to.deep.equal(secondView);
      expect(content.previousView, `node ${id}: the view before it`).to.deep.equal(firstView);
      expect(content.trims, `node ${id}: one trim, of the only shard, ending view 0`).to.have.length(1);
      const [trim] = content.trims;
      expect(trim).to.include({ vid: 0, subgroup: 0, shard: 0 });
      expect(firstView.members.map((m) => m.id)).to.include(trim.shardLeader);
      expect(trim.throughIndex).to.have.length(3);
      // Every put of every sender was delivered (globally persisted) before the view ended.
      for (const index of trim.throughIndex) expect(index).to.be.at.least(PUTS_PER_MEMBER - 1);
    }
    expect(logs[1], 'the same views and trim at both survivors').to.deep.equal(logs[0]);
    // The member that closed logged the view it installed; it took no part in the trim.
    expect(readRestartLog(2)).to.deep.equal({ view: firstView, previousView: undefined, trims: [] });
  });

  it('a member whose restart log cannot make a trim durable fails itself, naming the file and the error; no trim is logged', async () => {
    const ports = await freeLoopbackPorts(3);
    const members = await join([0, 1, 2], ports, true);
    groups.push(...members);
    const stopped = new Promise<{ reason: string; message: string }>((resolve) => members[1].once('shutdown', resolve));
    // Node 1's disk fails under its restart log only: its trims reject as a failed fdatasync does.
    const original = RestartLog.prototype.appendTrim;
    RestartLog.prototype.appendTrim = function (this: RestartLog, trim) {
      if (this.file.startsWith(logDir(1))) return Promise.reject(new RestartLogError('cannot make the restart log durable: EIO: i/o error, fdatasync', this.file));
      return original.call(this, trim);
    };
    try {
      await members[2].close();
      const e = await stopped;
      expect(e.reason).to.equal('failed');
      expect(e.message).to.include('cannot log the ragged trim of subgroup 0 in view 0').and.include(path.join(logDir(1), RESTART_LOG_FILE_NAME)).and.include('EIO');
    } finally {
      RestartLog.prototype.appendTrim = original;
    }
    // It logged no trim, so it cannot have echoed one.
    expect(readRestartLog(1).trims).to.deep.equal([]);
  });

  it('with persistence off no restart log is written and view changes go on as before', async () => {
    const ports = await freeLoopbackPorts(3);
    const members = await join([0, 1, 2], ports, false);
    groups.push(...members);
    await putThenRemoveOne(members);
    expect(members[0].view.members.map((m) => m.id)).to.deep.equal([0, 1]);
    for (const id of [0, 1, 2]) expect(fs.existsSync(path.join(logDir(id), RESTART_LOG_FILE_NAME)), `node ${id}`).to.equal(false);
  });
});
