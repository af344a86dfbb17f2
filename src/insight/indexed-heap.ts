/**
 * A binary heap whose items know their own position (`at`), so an item whose priority changed can be moved in
 * O(log n) without searching for it. Shared by the hot-key sketch (a min-heap by count) and the miss-ratio curve's
 * sample (a max-heap by hash).
 */

/** An item of an `IndexedHeap`: the heap keeps `at` equal to the item's index. */
export interface HeapItem {
  at: number;
}

export class IndexedHeap<T extends HeapItem> {
  /** The items in heap order: `items[0]` is the top. Read-only for callers. */
  readonly items: T[] = [];

  /** `before(a, b)`: whether `a` belongs nearer the top than `b`. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get length(): number {
    return this.items.length;
  }

  /** The top item (undefined when empty). */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    item.at = this.items.length;
    this.items.push(item);
    this.rise(item.at);
  }

  /** Removes and returns the top item. */
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    last.at = 0;
    this.sink(0);
    return top;
  }

  /** Restores the order after the item at `at` moved away from the top (e.g. a min-heap item's count grew). */
  sink(at: number): void {
    const items = this.items;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let best = at;
      if (left < items.length && this.before(items[left]!, items[best]!)) best = left;
      if (right < items.length && this.before(items[right]!, items[best]!)) best = right;
      if (best === at) return;
      this.swap(at, best);
      at = best;
    }
  }

  /** Restores the order after the item at `at` moved toward the top. */
  rise(at: number): void {
    const items = this.items;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.before(items[at]!, items[parent]!)) return;
      this.swap(at, parent);
      at = parent;
    }
  }

  clear(): void {
    this.items.length = 0;
  }

  private swap(a: number, b: number): void {
    const items = this.items;
    const first = items[a]!;
    const second = items[b]!;
    items[a] = second;
    items[b] = first;
    second.at = a;
    first.at = b;
  }
}
