#!/usr/bin/env node
// The `derecho-codegen` command. A checked-in file, not the compiled CLI itself: npm links a bin only if its
// target exists at install time, which dist/ does not in a fresh clone.
// It always runs the CLI, whatever path started it (a node_modules/.bin symlink, npx, a direct path).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('derecho-codegen: @derecho-ts/codegen is not built (dist/src/cli.js is missing); in the derecho-ts repository run `npm run build`\n');
  process.exit(1);
}
const { runCli } = await import(cli.href);
process.exitCode = runCli(process.argv.slice(2), { out: (line) => console.log(line), err: (line) => console.error(line), cwd: process.cwd() });
