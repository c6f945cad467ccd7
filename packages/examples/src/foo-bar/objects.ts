/**
 * Derecho's simple_replicated_objects demo objects (sample_objects.hpp), as a TypeScript user
 * writes them: `Foo` holds one number, `Bar` a growing log of words.
 */
import { Ordered, P2P, Replicated } from '@derecho-ts/runtime';

@Replicated()
export class Foo {
  private state = 0;

  /** Both ordered (read in the total order) and p2p (read one replica now). */
  @Ordered() @P2P() readState(): number {
    return this.state;
  }

  /** Returns false when the state already had that value. */
  @Ordered() changeState(next: number): boolean {
    if (!Number.isFinite(next)) throw new RangeError(`changeState needs a finite number, got ${next}`);
    const changed = next !== this.state;
    this.state = next;
    return changed;
  }
}

@Replicated()
export class Bar {
  private log = '';

  @Ordered() append(words: string): void {
    this.log += words;
  }

  @Ordered() clear(): void {
    this.log = '';
  }

  @Ordered() print(): string {
    return this.log;
  }
}
