/**
 * Transcript tests of the view manager, in the style of etcd raft's datadriven tests: each file in
 * ./testdata is a scenario (citing the section of the reference it exercises) of commands and the
 * output each must print, run over a synchronous in-memory group (vm-harness.ts LocalGroup).
 * A failing block shows the command, what was expected and what came out.
 * `DERECHO_REWRITE=1` rewrites the expected outputs from what the code prints (review the diff).
 *
 * Commands (ids are node ids):
 *   group <id>... [min=N]     a group of these members in view 0, one shard of all (inadequate below N)
 *   send <id> <text>          <id> multicasts <text>
 *   crash <id>                <id> stops; nothing it sends or is sent arrives any more
 *   detect <id>               every live member's failure detector reports <id>
 *   report <by> <id>          <by>'s application reports <id> as failed
 *   leave <id>                <id> leaves gracefully
 *   join <contact> <id>       <id> asks <contact> to join (following a redirect), and starts in the view it is sent
 *   hold-trims / ack-trims    logTrim outputs wait / are acknowledged now
 *   views                     per member: its view, members and phase (or why it stopped)
 *   delivered <id>            what <id> delivered: view, sender, text
 *   stall <id>                what <id>'s view manager waits for (its stallReason)
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MembershipOutput } from '../../src/core/membership/membership-io.js';
import { addr, groupView, LocalGroup, wholeGroup } from './vm-harness.js';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const REWRITE = process.env.DERECHO_REWRITE === '1';

interface Block {
  readonly comments: string[];
  readonly command: string;
  readonly expected: string;
}

/** Blocks of `# comments`, a command line, `----`, and the expected output up to a blank line. */
function parse(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  let comments: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      comments.push(line);
      continue;
    }
    if (lines[i + 1] !== '----') throw new Error(`line ${i + 2}: expected '----' after the command '${line}'`);
    const out: string[] = [];
    for (i += 2; i < lines.length && lines[i] !== ''; i++) out.push(lines[i]);
    blocks.push({ comments, command: line, expected: out.join('\n') });
    comments = [];
  }
  return blocks;
}

function format(blocks: readonly Block[]): string {
  return blocks.map((b) => [...b.comments, b.command, '----', ...(b.expected === '' ? [] : [b.expected])].join('\n')).join('\n\n') + '\n';
}

class Scenario {
  private g: LocalGroup | undefined;

  run(command: string): string {
    const [verb, ...args] = command.split(/\s+/);
    const id = (i: number): number => {
      const n = Number(args[i]);
      if (!Number.isInteger(n)) throw new Error(`${verb}: argument ${i + 1} must be a node id, got '${args[i]}'`);
      return n;
    };
    switch (verb) {
      case 'group': {
        const min = args.find((a) => a.startsWith('min='));
        const ids = args.filter((a) => !a.startsWith('min=')).map(Number);
        const allocate = wholeGroup(min === undefined ? 1 : Number(min.slice(4)));
        this.g = new LocalGroup(groupView(ids, 0, allocate), allocate);
        return this.views();
      }
      case 'send':
        this.group.send(id(0), args.slice(1).join(' '));
        return '';
      case 'crash':
        this.group.crash(id(0));
        return '';
      case 'detect':
        this.group.detect(id(0));
        return this.views();
      case 'report':
        return this.kinds(this.group.step(id(0), (vm) => vm.step({ kind: 'reportFailure', node: id(1) })));
      case 'leave':
        return this.kinds(this.group.step(id(0), (vm) => vm.step({ kind: 'leave' })));
      case 'join':
        return this.join(id(0), id(1));
      case 'hold-trims':
        this.group.autoLogTrim = false;
        return '';
      case 'ack-trims':
        this.group.autoLogTrim = true;
        this.group.ackTrims();
        return this.views();
      case 'views':
        return this.views();
      case 'delivered':
        return this.group
          .get(id(0))
          .delivered.map((d) => `v${d.vid} n${d.sender} ${d.payload}`)
          .join('\n');
      case 'stall':
        return this.group.get(id(0)).vm.stallReason() ?? '(running)';
      default:
        throw new Error(`unknown command '${verb}'`);
    }
  }

  private get group(): LocalGroup {
    if (this.g === undefined) throw new Error('no group yet: start with `group <id>...`');
    return this.g;
  }

  private join(contact: number, joiner: number): string {
    const g = this.group;
    const lines: string[] = [];
    let to = contact;
    for (let hop = 0; hop < 3; hop++) {
      const outs = g.step(to, (vm) => vm.step({ kind: 'joinRequest', joiner: addr(joiner) }));
      lines.push(`n${to}: ${this.kinds(outs)}`);
      const redirect = outs.find((o) => o.kind === 'joinRedirect');
      if (redirect === undefined || redirect.kind !== 'joinRedirect') break;
      to = redirect.leader.id;
    }
    const sendView = [...g.members.values()].flatMap((m) => m.outputs).find((o): o is Extract<MembershipOutput, { kind: 'sendView' }> => o.kind === 'sendView' && o.to.id === joiner);
    if (sendView !== undefined) {
      g.add(joiner, sendView.view);
      lines.push(`n${joiner} starts in view ${sendView.view.vid}`);
    } else lines.push(`n${joiner} was sent no view`);
    return [...lines, this.views()].join('\n');
  }

  private kinds(outs: readonly MembershipOutput[]): string {
    return outs.map((o) => o.kind).join(' ') || '(no outputs)';
  }

  private views(): string {
    return [...this.group.members.values()]
      .sort((a, b) => a.id - b.id)
      .map((m) => {
        if (this.group.crashed.has(m.id)) return `n${m.id}: crashed`;
        const vm = m.vm;
        if (vm.shutdownReason !== undefined) return `n${m.id}: stopped (${vm.shutdownReason})`;
        return `n${m.id}: v${vm.vid} [${vm.view.members.map((x) => x.id).join(',')}] ${vm.phase}`;
      })
      .join('\n');
  }
}

describe('membership transcripts (testdata/*.txt, datadriven)', () => {
  for (const file of readdirSync(TESTDATA).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, () => {
      const path = join(TESTDATA, file);
      const blocks = parse(readFileSync(path, 'utf8'));
      const scenario = new Scenario();
      const actual = blocks.map((b) => ({ ...b, expected: scenario.run(b.command) }));
      if (REWRITE) {
        writeFileSync(path, format(actual));
        return;
      }
      for (const [i, b] of blocks.entries()) {
        expect(actual[i].expected, `${file}, block ${i + 1}: ${b.command}`).to.equal(b.expected);
      }
    });
  }
});
