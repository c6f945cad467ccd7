/**
 * @derecho-ts/rdma-native: the native data plane (SST puts, RDMC, P2P) behind a typed facade.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), import.meta.url.includes('/dist/') ? '../..' : '..');

/** Loads the compiled addon; a clear error when `npm ci` did not build it. */
export function loadAddon(): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  const path = join(packageRoot, 'build', 'Release', 'derecho_native.node');
  try {
    return require(path) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`the native data plane is not built (${path}): run \`npm ci\` or \`npm run build:native\` at the repository root`, { cause: err });
  }
}
