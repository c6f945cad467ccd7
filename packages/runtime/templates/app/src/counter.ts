/**
 * A replicated object: every member of its shard holds a copy, and ordered calls reach every copy
 * in the same order, so the copies stay identical. `derecho-codegen` reads this class and writes
 * src/derecho.generated.ts (the wire schema) and derecho.schema.lock.json (stable method ids).
 */
import { Ordered, P2P, Replicated } from '@derecho-ts/runtime';

@Replicated()
export class Counter {
  private value = 0;

  /** Applied by every replica in the total order; each replies with the new value. */
  @Ordered() add(n: number): number {
    this.value += n;
    return this.value;
  }

  /** Answered by one replica, now. */
  @P2P() read(): number {
    return this.value;
  }
}
