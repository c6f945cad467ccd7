/**
 * The one convention every command of `derecho` (and `derecho-examples`) follows: options parsed
 * by node:util's parseArgs (strict: unknown options are errors), `--help`/`-h` prints the
 * command's usage to stdout and exits 0, a usage error prints one line to stderr and exits 2
 * (no stack trace), a failure exits 1.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The exit codes of every command, as documented in `derecho --help` and the README. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const EXIT_CODES_HELP = `exit codes: 0 success, 1 failure (a benchmark's run reported problems, a seed failed, an error),
            2 usage error (one line on stderr; see --help)`;

/** Bad arguments: the command prints `<command>: <message>` and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command: its name as typed (`derecho bench log`), its help text and what it does. */
export interface Command {
  readonly name: string;
  readonly usage: string;
  run(args: string[]): Promise<number> | number;
}

/** One option, as node:util's parseArgs takes it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface ParsedCommand<O extends OptionSpecs> {
  readonly values: { readonly [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  readonly positionals: string[];
}

/**
 * Parses `args` against `options` (plus --help). Returns undefined when --help was given (the
 * caller prints its usage and exits 0); throws UsageError for anything parseArgs refuses or for a
 * positional count outside [minPositionals, maxPositionals].
 */
export function parseCommand<const O extends OptionSpecs>(
  args: readonly string[],
  options: O,
  positionals: { readonly min?: number; readonly max?: number; readonly names?: string } = {},
): ParsedCommand<O> | undefined {
  const { min = 0, max = 0, names } = positionals;
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: max > 0, strict: true });
  } catch (err) {
    if (isParseArgsError(err)) throw new UsageError(firstLine(err.message).replace(/\. To specify a positional argument.*$/, ''));
    throw err;
  }
  if (parsed.values.help === true) return undefined;
  const n = parsed.positionals.length;
  if (n < min || n > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new UsageError(`expected ${expected} positional argument${max === 1 ? '' : 's'}${names ? ` (${names})` : ''}, got ${n}${n > 0 ? `: ${parsed.positionals.join(' ')}` : ''}`);
  }
  const { help: _help, ...values } = parsed.values;
  return { values: values as ParsedCommand<O>['values'], positionals: parsed.positionals };
}

function isParseArgsError(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

const firstLine = (text: string): string => text.split('\n', 1)[0];

/** An integer option or positional within [min, max]; `fallback` when absent. */
export function intValue(text: string | undefined, name: string, min: number, max: number, fallback?: number): number {
  if (text === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`missing ${name}`);
  }
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

/** A number option (not necessarily an integer) at least `min`; `fallback` when absent. */
export function numberValue(text: string | undefined, name: string, min: number, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min) throw new UsageError(`${name} must be a number >= ${min}, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * Runs a command and turns what it throws into the convention: UsageError -> one line and 2;
 * anything else -> the error (with its stack when DERECHO_DEBUG is set) and 1. `--help` is the
 * command's own business (parseCommand returns undefined; `helpRequested` prints it).
 */
export async function runCommand(command: Command, args: string[]): Promise<number> {
  try {
    return await command.run(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${command.name}: ${err.message} (see ${command.name} --help)\n`);
      return EXIT_USAGE;
    }
    const detail = err instanceof Error ? (process.env.DERECHO_DEBUG ? (err.stack ?? err.message) : err.message) : String(err);
    process.stderr.write(`${command.name}: ${detail}\n`);
    return EXIT_FAILURE;
  }
}

/** Prints a command's usage (for --help) and returns 0. */
export function printUsage(command: Pick<Command, 'usage'>): number {
  process.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
  return EXIT_OK;
}

/** One entry of a subcommand table: a one-line summary for the table's help, and the command. */
export interface Subcommand {
  readonly summary: string;
  load(): Promise<Command>;
}

/**
 * A command made of subcommands (`derecho bench <name> ...`): `--help` lists them, an unknown or
 * missing name is a usage error naming the choices. `elsewhere` maps names that live in another
 * command to the error that says where.
 */
export function subcommands(name: string, intro: string, table: Readonly<Record<string, Subcommand>>, elsewhere: Readonly<Record<string, string>> = {}): Command {
  const width = Math.max(...Object.keys(table).map((k) => k.length));
  const usage =
    `usage: ${name} <name> [args]   (${name} <name> --help for its arguments)\n${intro}\n\n` +
    Object.entries(table)
      .map(([k, s]) => `  ${k.padEnd(width)}  ${s.summary}`)
      .join('\n') +
    `\n\n${EXIT_CODES_HELP}\n`;
  return {
    name,
    usage,
    async run(args: string[]): Promise<number> {
      const [sub, ...rest] = args;
      if (sub === '--help' || sub === '-h' || sub === 'help') return printUsage({ usage });
      if (sub === undefined) throw new UsageError(`missing <name>; one of: ${Object.keys(table).join(', ')}`);
      const entry = Object.hasOwn(table, sub) ? table[sub] : undefined;
      if (entry !== undefined) return runCommand(await entry.load(), rest);
      if (Object.hasOwn(elsewhere, sub)) throw new UsageError(elsewhere[sub]);
      throw new UsageError(`unknown ${JSON.stringify(sub)}; one of: ${Object.keys(table).join(', ')}`);
    },
  };
}

/**
 * A program's top level (`derecho`, `derecho-examples`): `--version` prints the package's version
 * (read from the package.json above `moduleUrl`), `--help` lists the commands.
 */
export function program(name: string, moduleUrl: string, commands: Readonly<Record<string, Subcommand>>, notes = ''): Command {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  const usage =
    `usage: ${name} <command> [args]      ${name} <command> --help for a command's arguments\n       ${name} --version\n\ncommands:\n` +
    Object.entries(commands)
      .map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`)
      .join('\n') +
    `\n${notes ? `\n${notes}\n` : ''}\n${EXIT_CODES_HELP}\n`;
  return {
    name,
    usage,
    async run(args: string[]): Promise<number> {
      const [first, ...rest] = args;
      if (first === '--version' || first === '-v') {
        process.stdout.write(`${packageVersion(moduleUrl)}\n`);
        return EXIT_OK;
      }
      if (first === '--help' || first === '-h' || first === 'help') return printUsage({ usage });
      const names = Object.keys(commands).join(', ');
      if (first === undefined) throw new UsageError(`missing <command>; one of: ${names}`);
      const entry = Object.hasOwn(commands, first) ? commands[first] : undefined;
      if (entry === undefined) throw new UsageError(`unknown command ${JSON.stringify(first)}; one of: ${names}`);
      return runCommand(await entry.load(), rest);
    },
  };
}

/** Runs a program with this process's arguments and sets the exit code. */
export function main(command: Command): void {
  void runCommand(command, process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

/** The version of the package that holds `moduleUrl` (read from its package.json, src or dist). */
export function packageVersion(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name !== undefined && pkg.version !== undefined) return `${pkg.name} ${pkg.version}`;
    } catch {
      // no package.json here (or not ours): keep walking up
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown version';
    dir = up;
  }
}
