/** The child side of runLocalGroup: read the task, run the steps in lockstep with the parent. */

export type StepFn<Task, Context> = (task: Task, context: Context, step: number) => Promise<unknown>;

async function* stdinLines(): AsyncGenerator<string> {
  process.stdin.setEncoding('utf8');
  let buffered = '';
  for await (const chunk of process.stdin) {
    buffered += String(chunk);
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
}

/** bigints travel as strings in step results (JSON has no bigint). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * Runs a member: `setup` joins the group, each step's result goes to the parent, `teardown`
 * leaves once the parent says everyone is done.
 */
export function runMember<Task, Context>(setup: (task: Task) => Promise<Context>, steps: readonly StepFn<Task, Context>[], teardown: (context: Context) => void): void {
  const main = async (): Promise<void> => {
    const task = JSON.parse(process.env.DERECHO_MEMBER_TASK ?? 'null') as Task | null;
    if (task === null) throw new Error('DERECHO_MEMBER_TASK is not set');
    const context = await setup(task);
    const lines = stdinLines();
    for (let i = 0; i < steps.length; i++) {
      if (i > 0) {
        const next = await lines.next();
        if (next.done) throw new Error('the parent went away');
      }
      const result = await steps[i](task, context, i);
      process.stdout.write(`STEP ${toJson(result)}\n`);
    }
    for (;;) {
      const next = await lines.next();
      if (next.done || next.value.includes('exit')) break;
    }
    teardown(context);
  };
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`member failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
