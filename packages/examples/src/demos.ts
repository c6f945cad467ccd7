/** `derecho-examples demo [name]`: one example on a local multi-process group on loopback. */
import { parseCommand, printUsage, UsageError, type Command } from '@derecho-ts/runtime/internals';

const demos: Readonly<Record<string, { readonly summary: string; run(): Promise<number> }>> = {
  'foo-bar': { summary: "Derecho's simple replicated objects: Foo on 3 replicas, Bar on a 4th member", run: async () => (await import('./foo-bar/demo.js')).fooBarDemo() },
  kv: { summary: 'a key-value store in 2 shards of 2 replicas, and a client outside it', run: async () => (await import('./kv/demo.js')).kvDemo() },
  iot: { summary: 'the IoT smart-memory service on 3 replicas, and a dashboard', run: async () => (await import('./iot/demo.js')).iotDemo() },
  analytics: { summary: 'a sensor store in 2 shards read whole (snapshots, MapReduce) while it ingests', run: async () => (await import('./analytics/demo.js')).analyticsDemo() },
};

const width = Math.max(...Object.keys(demos).map((k) => k.length));
const USAGE = `usage: derecho-examples demo [name]
${Object.entries(demos)
  .map(([k, d]) => `  ${k.padEnd(width)}  ${d.summary}${k === 'foo-bar' ? ' (default)' : ''}`)
  .join('\n')}
(the data plane alone: derecho demo fabric)
`;

function run(args: string[]): Promise<number> | number {
  const parsed = parseCommand(args, {}, { min: 0, max: 1, names: 'demo' });
  if (parsed === undefined) return printUsage({ usage: USAGE });
  const [name = 'foo-bar'] = parsed.positionals;
  const demo = Object.hasOwn(demos, name) ? demos[name] : undefined;
  if (demo === undefined) throw new UsageError(`unknown demo ${JSON.stringify(name)}; one of: ${Object.keys(demos).join(', ')}`);
  return demo.run();
}

export const demoCommand: Command = { name: 'derecho-examples demo', usage: USAGE, run };
