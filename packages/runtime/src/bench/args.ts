/** Argument parsing shared by the benchmarks: positional arguments plus `--name value` flags. */

export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

export interface ParsedBenchArgs {
  readonly positional: readonly string[];
  readonly flags: ReadonlyMap<string, string | true>;
}

export function parseBenchArgs(args: readonly string[], valueFlags: readonly string[], booleanFlags: readonly string[]): ParsedBenchArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (booleanFlags.includes(name)) flags.set(name, true);
    else if (valueFlags.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new BenchUsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else throw new BenchUsageError(`unknown option --${name}`);
  }
  return { positional, flags };
}

/** An integer argument within [min, max], with an error naming it. */
export function intArg(text: string | true | undefined, name: string, min: number, max: number, fallback?: number): number {
  if (text === true) throw new BenchUsageError(`${name} needs a value`);
  if (text === undefined) {
    if (fallback !== undefined) return fallback;
    throw new BenchUsageError(`missing ${name}`);
  }
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new BenchUsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}
