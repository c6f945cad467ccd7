/**
 * Accounts spread over shards, and transfers between shards that a consistent cut sees whole.
 *
 * A transfer between accounts on two shards is two ordered calls (a debit on one shard, a credit
 * on the other), delivered at different moments: a read of the two shards at one instant between
 * them would see money missing. The application makes the transfer one logical step by giving
 * both legs the same effective time (`effectiveUs`, a moment just ahead of now, so both legs are
 * delivered before it), and balances count entries effective at or before the instant read. With
 * `group.snapshot(t)`, both shards are read as of the same instant `t` by replicas that can no
 * longer receive anything that early: a snapshot sees both legs of every transfer or neither, and
 * the total over all shards is constant. (Sensor time vs server time: `effectiveUs` is the
 * application's clock; the snapshot's instant is the group's HLC; a leg counts once the read's
 * instant has passed both.)
 */
import { Ordered, P2P, PersistentLog, Replicated } from '@derecho-ts/runtime';

/** One change of one account's balance. */
export interface Entry {
  readonly account: string;
  readonly amountCents: number;
  /** When the change takes effect, in the application's wall-clock microseconds. */
  readonly effectiveUs: number;
}

@Replicated()
export class Accounts {
  /** Every balance change, in delivery order (a version per ordered call). */
  readonly entries = new PersistentLog<Entry>();

  /** Opens `account` with `cents` (effective at once). */
  @Ordered() open(account: string, cents: number, effectiveUs: number): void {
    this.entries.current.append({ account, amountCents: cents, effectiveUs });
  }

  /** One leg of a transfer: adds `amountCents` (negative for a debit) effective at `effectiveUs`. */
  @Ordered() post(account: string, amountCents: number, effectiveUs: number): void {
    if (!Number.isSafeInteger(amountCents)) throw new RangeError(`post: amountCents must be an integer, got ${amountCents}`);
    this.entries.current.append({ account, amountCents, effectiveUs });
  }

  /** The sum of this shard's balances effective at or before `atUs`. */
  @P2P() total(atUs: number): number {
    let cents = 0;
    for (const e of this.entries.current) if (e.effectiveUs <= atUs) cents += e.amountCents;
    return cents;
  }

  /** How many entries this shard holds (whatever their effective time). */
  @P2P() entryCount(): number {
    return this.entries.current.length;
  }
}
