import { fileURLToPath } from 'node:url';

/**
 * How to start a sibling script of the calling module as a child process, from source (.ts run
 * through tsx with the source condition) or from the compiled .js in dist.
 * `moduleUrl` is the caller's import.meta.url; `name` is the sibling's base name without extension.
 */
export function childScriptArgs(moduleUrl: string, relativePath: string): { command: string; args: string[] } {
  const fromSource = moduleUrl.endsWith('.ts');
  const url = new URL(`${relativePath}${fromSource ? '.ts' : '.js'}`, moduleUrl);
  const path = fileURLToPath(url);
  return {
    command: process.execPath,
    args: fromSource ? ['--conditions=@derecho-ts/source', '--import', 'tsx', path] : [path],
  };
}
