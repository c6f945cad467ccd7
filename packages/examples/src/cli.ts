#!/usr/bin/env node
/**
 * `derecho-examples <demo>`: runs one example on a local multi-process group (the same demos as
 * `derecho demo <name>`).
 */
import { demos } from './demos.js';

const [name] = process.argv.slice(2);
const demo = name === undefined ? undefined : demos[name];
if (demo === undefined) {
  process.stderr.write(`usage: derecho-examples <${Object.keys(demos).join('|')}>\n`);
  process.exitCode = 2;
} else {
  demo().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`derecho-examples: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
