/**
 * Log levels as an operator reads them: a join whose contact comes up late, and a member leaving
 * gracefully, are routine (a few info lines, retries at debug); no sentinel node ids in messages.
 * The lines come through the caller's own pino logger (`Group.join({ logger })`).
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { Group } from '../../src/replicated/group.js';
import { shards } from '../../src/layout/constructors.js';
import { freeLoopbackPorts } from '../../src/bench/local-ports.js';

interface Line {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const WARN = 40;
const INFO = 30;

function capture(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = pino({ level: 'debug' }, { write: (text: string) => void lines.push(JSON.parse(text) as Line) });
  return { logger, lines };
}

function config(id: number, ports: number[]) {
  return {
    cluster: { secret: 'a-logging-test-secret', contact: `127.0.0.1:${ports[0]}` },
    node: { id, host: '127.0.0.1', port: ports[id] },
    failure: { heartbeatMs: 50, failureTimeoutMs: 3000 },
  };
}

const show = (lines: readonly Line[]) => lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify({ ...l, level: undefined, msg: undefined, time: undefined, pid: undefined, hostname: undefined })}`).join('\n');

describe('log levels', function () {
  this.timeout(60_000);
  const groups: Group[] = [];
  afterEach(async () => {
    await Promise.all(groups.splice(0).map((g) => g.close()));
  });

  it('a join against a contact that comes up 2 s late logs a few info lines and no warnings', async () => {
    const ports = await freeLoopbackPorts(2);
    const subgroups = [{ name: 's', layout: shards({ minNodes: 2 }) }];
    const joinerLog = capture();
    const joining = Group.join({ argv: [], config: config(1, ports), subgroups, logger: joinerLog.logger, joinTimeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const leaderLog = capture();
    const leading = Group.join({ argv: [], config: config(0, ports), subgroups, logger: leaderLog.logger });
    groups.push(...(await Promise.all([joining, leading])));
    const all = [...joinerLog.lines, ...leaderLog.lines];
    const retries = joinerLog.lines.filter((l) => l.level < INFO);
    expect(retries.length, 'the retries are logged at debug').to.be.greaterThan(5);
    expect(all.filter((l) => l.level >= WARN), show(all)).to.deep.equal([]);
    expect(joinerLog.lines.filter((l) => l.level >= INFO).length, show(joinerLog.lines)).to.be.at.most(5);
    expect(joinerLog.lines.some((l) => l.level === INFO && /reached the contact .* after \d+ attempts/.test(l.msg)), show(joinerLog.lines)).to.equal(true);
    expect(show(all)).to.not.match(/4294967295/);
  });

  it('a member leaving gracefully is info at the others, not a warning', async () => {
    const ports = await freeLoopbackPorts(3);
    const subgroups = [{ name: 's', layout: shards({ minNodes: 1 }) }];
    const logs = [capture(), capture(), capture()];
    const [a, b, c] = await Promise.all([0, 1, 2].map((id) => Group.join({ argv: [], config: config(id, ports), subgroups, logger: logs[id].logger, minMembers: 3 })));
    groups.push(a, b);
    const before = logs.map((l) => l.lines.length);
    const installed = Promise.all([a, b].map((g) => new Promise<void>((resolve) => g.on('view', (v) => v.departed.includes(2) && resolve()))));
    await c.leave();
    await installed;
    for (const id of [0, 1]) {
      const after = logs[id].lines.slice(before[id]);
      expect(after.filter((l) => l.level >= WARN), show(after)).to.deep.equal([]);
      expect(after.some((l) => l.level === INFO && /node 2 left the group/.test(l.msg)), show(after)).to.equal(true);
    }
    const leaver = logs[2].lines.slice(before[2]);
    expect(leaver.filter((l) => l.level >= WARN), show(leaver)).to.deep.equal([]);
  });
});
