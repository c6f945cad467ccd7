/** `derecho init <dir> [--name N] [--force]`: a new application from the package's template (init.ts writes it). */
import { parseCommand, printUsage, UsageError, type Command } from './command.js';
import { InitError, initProject } from './init.js';

const USAGE = `usage: derecho init <dir> [--name NAME] [--force]
  Writes a new derecho-ts application into <dir>: a @Replicated class, a member program, a local
  launcher, and the codegen and build scripts. Then: cd <dir>, npm install, npm run build, npm start.
  --name NAME  the project's package name (default: the directory's name)
  --force      write into a directory that already has files (template files are overwritten)
`;

function run(args: string[]): number {
  const parsed = parseCommand(args, { name: { type: 'string' }, force: { type: 'boolean' } }, { min: 1, max: 1, names: 'dir' });
  if (parsed === undefined) return printUsage({ usage: USAGE });
  let result;
  try {
    result = initProject(parsed.positionals[0], { name: parsed.values.name, force: parsed.values.force === true });
  } catch (err) {
    // A directory that cannot be used is the caller's to fix: a one-line usage error.
    if (err instanceof InitError) throw new UsageError(err.message);
    throw err;
  }
  process.stdout.write(`wrote ${result.files.length} files into ${result.dir}\nnext:\n${result.nextSteps.map((s) => `  ${s}`).join('\n')}\n`);
  return 0;
}

export const initCommand: Command = { name: 'derecho init', usage: USAGE, run };
