/**
 * Puts results that finish out of order (several workers) back into sequence order, per source.
 * `push(seq, item)` returns the items that became ready, in order.
 */
export class ReorderBuffer<T> {
  private readonly waiting = new Map<number, T>();
  private nextSeq = 0;

  /** Sequence numbers start at 0 and must each be pushed exactly once. */
  push(seq: number, item: T): T[] {
    if (seq < this.nextSeq || this.waiting.has(seq)) throw new RangeError(`sequence number ${seq} was already pushed`);
    this.waiting.set(seq, item);
    const ready: T[] = [];
    while (this.waiting.has(this.nextSeq)) {
      ready.push(this.waiting.get(this.nextSeq) as T);
      this.waiting.delete(this.nextSeq);
      this.nextSeq += 1;
    }
    return ready;
  }

  /** Items pushed but still waiting for an earlier one. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Removes and returns every waiting item (for cleanup on termination). */
  drain(): T[] {
    const items = [...this.waiting.values()];
    this.waiting.clear();
    return items;
  }
}
