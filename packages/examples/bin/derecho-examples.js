#!/usr/bin/env node
// The `derecho-examples` command. A checked-in file, not the compiled CLI itself: npm links a bin only if its
// target exists at install time, which dist/ does not in a fresh clone. The CLI runs on import.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('derecho-examples: @derecho-ts/examples is not built (dist/src/cli.js is missing); in the derecho-ts repository run `npm run build`\n');
  process.exit(1);
}
await import(cli.href);
