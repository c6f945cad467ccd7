/**
 * The operator endpoints between real processes: three members of a persistent DurableKV shard
 * with their HTTP servers on. Traffic (ordered and p2p calls) and a view change (a member killed
 * with SIGKILL) must move the numbers of /metrics; /status and `derecho status --json` must show
 * the known group: its view, its shard and every member's frontiers.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freeLoopbackPorts } from '@derecho-ts/runtime/internals';
import { spawnMember as spawnFixture, type MemberProcess as Member } from './member-process.js';

const MEMBER = fileURLToPath(new URL('./fixtures/ops-member.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../../runtime/src/cli/main.ts', import.meta.url));
const PUTS = 200;
const GETS = 20;

const spawnMember = (task: object): Member => spawnFixture(MEMBER, task);

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs` naming `what`. */
async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms${last === undefined ? '' : ` (last error: ${String(last)})`}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).to.equal(200);
  return response.text();
}

/** The value of the series `name{...labels}` in Prometheus text (every label given must match). */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const series = line.slice(0, line.lastIndexOf(' '));
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('operator endpoints between real processes: /metrics, /status, derecho status', function () {
  this.timeout(120_000);
  let members: Member[] = [];
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'derecho-ops-'));
  });
  afterEach(async () => {
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    await Promise.all(members.map((m) => m.exited));
    members = [];
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('traffic and a view change move the metrics; status shows the known group', async () => {
    const ports = await freeLoopbackPorts(6);
    const dataPorts = ports.slice(0, 3);
    const httpPorts = ports.slice(3);
    members = [0, 1, 2].map((id) => spawnMember({ id, ports: dataPorts, httpPort: httpPorts[id], dir: path.join(root, `node-${id}`), caller: id === 0, puts: PUTS, gets: GETS }));
    await until(() => (members[0].lines.includes('calls done') ? true : undefined), 60_000, '"calls done" from the caller');

    const atCaller = await scrape(httpPorts[0]);
    const shard = { subgroup: 'DurableKV/0', shard: '0' };
    expect(metric(atCaller, 'derecho_view_id', { node: '0' })).to.equal(0);
    expect(metric(atCaller, 'derecho_view_members')).to.equal(3);
    expect(metric(atCaller, 'derecho_delivered_messages_total', shard)).to.be.at.least(PUTS);
    expect(metric(atCaller, 'derecho_delivered_bytes_total', shard)).to.be.greaterThan(PUTS * 10);
    expect(metric(atCaller, 'derecho_rpc_calls_total', { kind: 'ordered', outcome: 'ok' })).to.equal(PUTS);
    expect(metric(atCaller, 'derecho_rpc_calls_total', { kind: 'p2p', outcome: 'ok' })).to.equal(GETS);
    expect(metric(atCaller, 'derecho_rpc_call_duration_seconds_count', { kind: 'ordered' })).to.equal(PUTS);
    expect(metric(atCaller, 'derecho_rpc_call_duration_seconds_sum', { kind: 'p2p' })).to.be.greaterThan(0);
    expect(metric(atCaller, 'derecho_log_sync_duration_seconds_count', { subgroup: 'DurableKV/0' })).to.be.greaterThan(0);
    expect(metric(atCaller, 'derecho_delivered_seq', shard)).to.be.at.least(PUTS - 1);
    expect(metric(atCaller, 'derecho_send_queue_messages', shard)).to.equal(0);
    expect(metric(atCaller, 'derecho_wedged')).to.equal(0);
    expect(metric(atCaller, 'derecho_view_changes_total')).to.equal(0);
    expect(metric(atCaller, 'nodejs_eventloop_lag_seconds')).to.be.a('number');
    // Every member persisted what it delivered (the caller waited for every reply, not for persistence: poll).
    await until(async () => ((metric(await scrape(httpPorts[1]), 'derecho_global_persisted_seq', shard) ?? -1) >= PUTS - 1 ? true : undefined), 20_000, 'the global persistence frontier at node 1');
    const atReplica = await scrape(httpPorts[1]);
    expect(metric(atReplica, 'derecho_delivered_messages_total', shard)).to.equal(metric(atCaller, 'derecho_delivered_messages_total', shard));
    expect(metric(atReplica, 'derecho_rpc_calls_total', { kind: 'ordered' }), 'node 1 made no calls').to.equal(undefined);

    // Status, over HTTP and through the command, of the known group.
    const status = (await (await fetch(`http://127.0.0.1:${httpPorts[1]}/status`)).json()) as {
      node: number;
      state: string;
      wedged: boolean;
      view: { vid: number; members: { id: number; address: string }[] };
      shards: { type: string; shard: number; mode: string; members: number[]; frontiers?: { members: { node: number; deliveredSeq: number; persisted: string | null; deliveryLag: number }[] } }[];
    };
    expect(status).to.include({ node: 1, state: 'running', wedged: false });
    expect(status.view.vid).to.equal(0);
    // Members in rank order (join order), which the test does not fix.
    expect(status.view.members.map((m) => `${m.id}@${m.address}`).sort()).to.deep.equal(dataPorts.map((p, id) => `${id}@127.0.0.1:${p}`));
    expect(status.shards.map((s) => `${s.type}/${s.shard} ${s.mode} ${[...s.members].sort().join(',')}`)).to.deep.equal(['DurableKV/0 persistent 0,1,2']);
    const progress = status.shards[0].frontiers!.members;
    expect(progress.map((m) => m.node).sort()).to.deep.equal([0, 1, 2]);
    for (const m of progress) {
      expect(m.deliveredSeq, `node ${m.node} delivered`).to.be.at.least(PUTS - 1);
      expect(m.persisted, `node ${m.node} persisted`).to.match(/^0\.\d+$/);
    }
    const cli = spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', CLI, 'status', '--json', '--contact', `127.0.0.1:${httpPorts[1]}`], { encoding: 'utf8', timeout: 30_000 });
    expect(cli.status, cli.stderr).to.equal(0);
    const shown = JSON.parse(cli.stdout) as typeof status;
    expect(shown.view).to.deep.equal(status.view);
    expect(shown.shards.map((s) => s.members)).to.deep.equal(status.shards.map((s) => s.members));
    const text = spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', CLI, 'status', '--contact', `127.0.0.1:${httpPorts[0]}`], { encoding: 'utf8', timeout: 30_000 });
    expect(text.status, text.stderr).to.equal(0);
    const viewLine = status.view.members.map((m) => `${m.id}@${m.address}`).join(' ');
    expect(text.stdout).to.include(`view 0: ${viewLine}`).and.include('not wedged').and.include(`DurableKV[0] shard 0 (persistent): members ${status.shards[0].members.join(', ')}`);
    for (const id of [0, 1, 2]) expect(text.stdout).to.match(new RegExp(`node ${id}: delivered seq \\d+, persisted 0\\.\\d+, lag \\d+`));

    // A view change: node 2 dies.
    members[2].child.kill('SIGKILL');
    const after = await until(async () => {
      const t = await scrape(httpPorts[0]);
      return metric(t, 'derecho_view_id') === 1 ? t : undefined;
    }, 30_000, 'view 1 in the metrics of node 0');
    expect(metric(after, 'derecho_view_members')).to.equal(2);
    expect(metric(after, 'derecho_view_changes_total')).to.equal(1);
    expect(metric(after, 'derecho_view_change_duration_seconds_count')).to.equal(1);
    expect(metric(after, 'derecho_view_change_duration_seconds_sum')).to.be.greaterThan(0);
    expect(metric(after, 'derecho_suspicions_total')).to.be.at.least(1);
    // The delivery counters start from the new view's shard, and never go back.
    expect(metric(after, 'derecho_delivered_messages_total', shard)).to.be.at.least(PUTS);

    const down = spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', CLI, 'status', '--contact', `127.0.0.1:${httpPorts[2]}`], { encoding: 'utf8', timeout: 30_000 });
    expect(down.status, 'a member that does not answer: exit 1').to.equal(1);
    expect(down.stderr).to.include(`no answer from http://127.0.0.1:${httpPorts[2]}/status`);
  });
});
