/**
 * The simulator's virtual clock: a priority queue of events by time; events at the same time run
 * in the order they were scheduled, so a run depends only on its seed.
 */
interface Scheduled<E> {
  readonly atUs: number;
  readonly seq: number;
  readonly event: E;
}

export class EventQueue<E> {
  private heap: Scheduled<E>[] = [];
  private seq = 0;
  private now = 0;

  get nowUs(): number {
    return this.now;
  }

  get size(): number {
    return this.heap.length;
  }

  schedule(atUs: number, event: E): void {
    if (!(atUs >= this.now)) throw new Error(`cannot schedule in the past: ${atUs} < now ${this.now}`);
    this.heap.push({ atUs, seq: this.seq++, event });
    this.up(this.heap.length - 1);
  }

  /** Removes the earliest event and advances the clock to its time. */
  pop(): { atUs: number; event: E } | undefined {
    const top = this.heap[0];
    if (!top) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    this.now = top.atUs;
    return { atUs: top.atUs, event: top.event };
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i];
    const b = this.heap[j];
    return a.atUs < b.atUs || (a.atUs === b.atUs && a.seq < b.seq);
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [this.heap[i], this.heap[p]] = [this.heap[p], this.heap[i]];
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      [this.heap[i], this.heap[m]] = [this.heap[m], this.heap[i]];
      i = m;
    }
  }
}
