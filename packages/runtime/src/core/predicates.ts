/**
 * The predicate engine (Derecho's sst_detect thread, reference §2.1): predicates over the SST are
 * evaluated in one batch after each input, and their triggers run inline. Derecho loops forever;
 * a sans-I/O core instead evaluates until a full pass fires nothing (quiescence), which is the
 * same fixed point the busy loop would reach before the next remote write arrives.
 *
 * - recurrent: the trigger runs every time the predicate holds.
 * - oneTime:   removed after its trigger ran once.
 * - transition: runs when the predicate goes from false to true (state kept across batches).
 */
import { invariant } from './invariant.js';

export type PredicateKind = 'recurrent' | 'oneTime' | 'transition';

export interface PredicateHandle {
  readonly id: number;
  readonly name: string;
}

interface Entry {
  readonly handle: PredicateHandle;
  readonly kind: PredicateKind;
  readonly predicate: () => boolean;
  readonly trigger: () => void;
  lastValue: boolean;
  removed: boolean;
}

/** More passes than this in one batch means triggers keep re-enabling each other: a livelock. */
const MAX_PASSES = 100_000;

export class PredicateEngine {
  private entries: Entry[] = [];
  private nextId = 0;

  insert(name: string, kind: PredicateKind, predicate: () => boolean, trigger: () => void): PredicateHandle {
    const handle = { id: this.nextId++, name };
    this.entries.push({ handle, kind, predicate, trigger, lastValue: false, removed: false });
    return handle;
  }

  remove(handle: PredicateHandle): void {
    const e = this.entries.find((x) => x.handle.id === handle.id);
    if (e) e.removed = true;
    this.entries = this.entries.filter((x) => !x.removed);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Evaluates all predicates until a pass fires none. Returns how many triggers ran. */
  evaluate(): number {
    let fired = 0;
    for (let pass = 0; ; pass++) {
      invariant(pass < MAX_PASSES, 'predicate evaluation reaches quiescence', () => `still firing after ${MAX_PASSES} passes: ${this.entries.map((e) => e.handle.name).join(', ')}`);
      let firedThisPass = 0;
      // Iterate over a snapshot: triggers may insert predicates, which join the next pass.
      for (const e of [...this.entries]) {
        if (e.removed) continue;
        const value = e.predicate();
        const run = e.kind === 'transition' ? value && !e.lastValue : value;
        e.lastValue = value;
        if (!run) continue;
        if (e.kind === 'oneTime') e.removed = true;
        e.trigger();
        firedThisPass++;
      }
      if (this.entries.some((e) => e.removed)) this.entries = this.entries.filter((e) => !e.removed);
      fired += firedThisPass;
      if (firedThisPass === 0) return fired;
    }
  }
}
