/** `derecho init <dir>`: writes a new application project (the template in templates/app). */
import { InitError, initProject } from './init.js';
import { EXIT_FAILURE, parseCommand, printUsage, type Command } from './command.js';

const USAGE = `usage: derecho init <dir> [--name <package-name>] [--force]
  Writes a new derecho-ts application into <dir>: a @Replicated class, its codegen and build
  scripts, and a program that starts three local members and calls it. Then:
  cd <dir> && npm install && npm run build && npm start
  --name   the package name (default: the directory's name)
  --force  write into a directory that already has files (template files are overwritten)
`;

function run(args: string[]): number {
  const parsed = parseCommand(args, { name: { type: 'string' }, force: { type: 'boolean' } }, { min: 1, max: 1, names: '<dir>' });
  if (parsed === undefined) return printUsage({ usage: USAGE });
  try {
    const result = initProject(parsed.positionals[0], { name: parsed.values.name, force: parsed.values.force });
    process.stdout.write(`wrote ${result.files.length} files into ${result.dir}\nnext:\n${result.nextSteps.map((s) => `  ${s}`).join('\n')}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof InitError)) throw err;
    process.stderr.write(`derecho init: ${err.message}\n`);
    return EXIT_FAILURE;
  }
}

export const initCommand: Command = { name: 'derecho init', usage: USAGE, run };
