/**
 * `derecho status --contact host:port [--json] [--watch]`: what a running group is doing, as one
 * member (whose ops HTTP server is at host:port, config ops.httpPort) sees it.
 */
import { parseHostPort } from '../config/leaf-checks.js';
import type { NodeStatus } from '../ops/node-status.js';
import { formatNodeStatus } from './status-format.js';
import { numberValue, parseCommand, printUsage, UsageError, type Command } from './command.js';

const USAGE = `usage: derecho status --contact <host:port> [--json] [--watch] [--interval <seconds>]
  Shows a running group as one member sees it: the view, every shard with its members, the
  delivered and persisted frontiers and the lag of each member of that member's shards, and
  whether the group is wedged and why. <host:port> is the member's HTTP address (its config
  ops.httpPort, or --http-port / DERECHO_HTTP_PORT), not its data-plane port.
  --contact   the member's HTTP address, e.g. 10.0.0.1:9464 (or DERECHO_STATUS_CONTACT)
  --json      print the member's /status JSON as it is
  --watch     redraw every --interval seconds (default 2) until interrupted
exit codes: 0 shown, 1 the member did not answer (or answered with an error), 2 usage error
`;

/** How long one request may take before the member counts as not answering. */
const REQUEST_TIMEOUT_MS = 5000;

async function fetchStatus(contact: string): Promise<NodeStatus> {
  let response: Response;
  try {
    response = await fetch(`http://${contact}/status`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    throw new Error(`no answer from http://${contact}/status (${cause}): is a member running there with ops.httpPort set to that port?`);
  }
  if (!response.ok) throw new Error(`http://${contact}/status answered ${response.status}: ${(await response.text()).trim()}`);
  return (await response.json()) as NodeStatus;
}

async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, { contact: { type: 'string' }, json: { type: 'boolean' }, watch: { type: 'boolean' }, interval: { type: 'string' } });
  if (parsed === undefined) return printUsage({ usage: USAGE });
  const contact = parsed.values.contact ?? process.env.DERECHO_STATUS_CONTACT;
  if (contact === undefined || contact === '') throw new UsageError('--contact <host:port> is required: the HTTP address of any member');
  if (parseHostPort(contact) === undefined) throw new UsageError(`--contact: expected host:port, got ${JSON.stringify(contact)}`);
  const intervalMs = numberValue(parsed.values.interval, '--interval', 0.1, 2) * 1000;
  const show = (status: NodeStatus): string => (parsed.values.json ? `${JSON.stringify(status, null, 2)}\n` : formatNodeStatus(status));
  if (!parsed.values.watch) {
    process.stdout.write(show(await fetchStatus(contact)));
    return 0;
  }
  for (;;) {
    let text: string;
    try {
      text = show(await fetchStatus(contact));
    } catch (err) {
      text = `${err instanceof Error ? err.message : String(err)}\n`;
    }
    // Clear the screen and home the cursor: one screen, redrawn.
    process.stdout.write(`${process.stdout.isTTY ? '\x1b[2J\x1b[H' : ''}${text}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const statusCommand: Command = { name: 'derecho status', usage: USAGE, run };
