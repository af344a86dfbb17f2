/**
 * A bounded hot-key sketch: Space-Saving (Metwally, Agrawal, El Abbadi, ICDT 2005).
 *
 * It keeps at most `capacity` counters. A key already counted is incremented; a new key takes over the counter
 * with the smallest count `m` and starts at `m + 1` with error `m`. So every reported count overestimates the
 * key's true count by at most its `error`, and every key read more than `total / capacity` times is in the
 * table. Memory is O(capacity) whatever the key stream; an update is O(log capacity) (a min-heap of counters).
 */
import { IndexedHeap } from "./indexed-heap.ts";

export interface HotKey {
  key: string;
  /** Estimated reads: the true count lies in [count − error, count]. */
  count: number;
  /** Largest possible overestimate of `count`. */
  error: number;
  /** True when the key is certainly among the top n asked for (its lower bound beats the next key's estimate). */
  guaranteed: boolean;
}

interface Counter {
  key: string;
  count: number;
  error: number;
  /** Position in the heap. */
  at: number;
}

export class HotKeySketch {
  private readonly byKey = new Map<string, Counter>();
  /** Min-heap by count: the root is the counter a new key takes over. */
  private readonly byCount = new IndexedHeap<Counter>((a, b) => a.count < b.count);
  /** The counters in heap order (read-only here). */
  private readonly heap = this.byCount.items;
  private seen = 0;

  constructor(readonly capacity = 1024) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`HotKeySketch capacity must be a positive integer, received: ${capacity}`);
  }

  /** Reads recorded in all. */
  get total(): number {
    return this.seen;
  }

  /** Records `weight` reads of `key`. */
  record(key: string, weight = 1): void {
    this.seen += weight;
    const counter = this.byKey.get(key);
    if (counter !== undefined) {
      counter.count += weight;
      this.byCount.sink(counter.at);
      return;
    }
    if (this.heap.length < this.capacity) {
      const added = { key, count: weight, error: 0, at: 0 };
      this.byCount.push(added);
      this.byKey.set(key, added);
      return;
    }
    // Take over the smallest counter: the new key may have been read up to `min` times while not tracked.
    const smallest = this.heap[0]!;
    this.byKey.delete(smallest.key);
    smallest.key = key;
    smallest.error = smallest.count;
    smallest.count += weight;
    this.byKey.set(key, smallest);
    this.byCount.sink(0);
  }

  /** The `n` keys with the highest estimated counts, highest first. */
  top(n = this.capacity): HotKey[] {
    const sorted = [...this.heap].sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
    const next = sorted[n]?.count ?? (this.heap.length < this.capacity ? 0 : this.heap[0]!.count);
    return sorted.slice(0, n).map(({ key, count, error }) => ({ key, count, error, guaranteed: count - error >= next }));
  }

  /** The estimate for one key: 0 with error up to the smallest count when the key is not tracked. */
  estimate(key: string): { count: number; error: number } {
    const counter = this.byKey.get(key);
    if (counter !== undefined) return { count: counter.count, error: counter.error };
    const floor = this.heap.length < this.capacity ? 0 : this.heap[0]!.count;
    return { count: 0, error: floor };
  }

  /** Halves every count, so the sketch follows a shifting workload (call it on a timer, e.g. every minute). */
  decay(factor = 0.5): void {
    for (const counter of this.heap) {
      counter.count *= factor;
      counter.error *= factor;
    }
    this.seen *= factor;
  }

  clear(): void {
    this.byKey.clear();
    this.byCount.clear();
    this.seen = 0;
  }
}
