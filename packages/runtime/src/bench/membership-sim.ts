/**
 * `derecho bench membership`: what the view manager costs on top of the multicast core when
 * nothing is changing (the membership predicates run after every input), and the speed of the
 * membership swarm.
 */
import { intValue, parseCommand, printUsage, type Command } from '../cli/command.js';
import type { GroupView } from '../core/membership/group-view.js';
import { viewLayoutFor } from '../core/membership/group-view.js';
import { ViewManager } from '../core/membership/view-manager.js';
import { SstLayout } from '../core/sst-layout.js';
import { initializeSstTable } from '../core/sst-table.js';
import { runMembershipSeed } from '../sim/membership-swarm.js';

const USAGE = `usage: derecho bench membership [--steps N] [--seeds N]
  The view manager's cost per step when nothing changes, and the membership swarm's speed.
  --steps N  steps timed per group size (default 100000)
  --seeds N  membership swarm seeds to run (default 200)
`;

function run(args: string[]): number {
  const parsed = parseCommand(args, { steps: { type: 'string' }, seeds: { type: 'string' } });
  if (parsed === undefined) return printUsage({ usage: USAGE });
  const steps = intValue(parsed.values.steps, '--steps', 1, 100_000_000, 100_000);
  const seeds = intValue(parsed.values.seeds, '--seeds', 1, 1_000_000, 200);
  const params = { windowSize: 16, maxPayloadBytes: 1024, maxSmcPayloadBytes: 1024, blockBytes: 65536 };

  for (const n of [3, 8, 16]) {
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const view: GroupView = { vid: 0, members: ids.map((id) => ({ id, host: '127.0.0.1', port: 7000 + id })), subgroups: [{ type: 'T', index: 0, shards: [{ members: ids, senders: ids.map(() => true), mode: 'ordered' }], params }] };
    const layout = SstLayout.forView(viewLayoutFor(view, 1));
    const make = (): ViewManager => {
      const table = new ArrayBuffer(layout.tableBytes);
      initializeSstTable(layout, table, 0);
      return new ViewManager({ view, myId: 1, table, allocate: () => view.subgroups });
    };
    const vm = make();
    const bare = make().core;
    const time = (f: () => void): number => {
      for (let i = 0; i < 1000; i++) f();
      const t = performance.now();
      for (let i = 0; i < steps; i++) f();
      return ((performance.now() - t) * 1000) / steps;
    };
    const withVm = time(() => vm.onRowsChanged());
    const coreOnly = time(() => bare.onRowsChanged());
    console.log(`${n} members: rowsChanged ${withVm.toFixed(2)} us through the view manager, ${coreOnly.toFixed(2)} us on the core alone`);
  }

  const t = performance.now();
  let installs = 0;
  for (let seed = 1; seed <= seeds; seed++) installs += runMembershipSeed(seed).installs;
  const seconds = (performance.now() - t) / 1000;
  console.log(`membership swarm: ${seeds} seeds in ${seconds.toFixed(1)} s (${((seconds * 1000) / seeds).toFixed(1)} ms per seed), ${installs} view installs`);
  return 0;
}

export const membership: Command = { name: 'derecho bench membership', usage: USAGE, run };
