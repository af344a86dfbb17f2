/**
 * A miss-ratio curve from a sample of the key stream: SHARDS (Waldspurger, Park, Garthwaite, Ahmad, FAST 2015),
 * fixed-size variant with the SHARDS_adj correction.
 *
 * Keys are sampled spatially: a key is tracked when its hash falls below a threshold T, so a sampled key is seen
 * on every access (its reuses are exact) and a fraction R = T / 2³² of all keys is tracked. For each access to a
 * sampled key the stack (reuse) distance is the number of distinct sampled keys accessed since its last access;
 * divided by R it estimates the distance in the full stream. An LRU cache of C entries hits exactly the accesses
 * whose stack depth (distance + 1) is at most C, so the histogram of scaled depths gives the hit ratio at every
 * size at once. Second-chance (CLOCK) eviction, which the memory store uses, tracks LRU closely.
 *
 * Memory is bounded by `maxSampledKeys`: when more keys are sampled, the one with the largest hash leaves and T
 * drops to its hash (R falls), and the histogram is rescaled to the new rate. Distances are counted with a
 * Fenwick tree over access times, O(log maxSampledKeys) per sampled access; unsampled accesses cost one hash.
 */

import { hash32 } from "./hash.ts";
import { IndexedHeap } from "./indexed-heap.ts";

export interface MissRatioCurveOptions {
  /** Fraction of keys sampled at first, in (0, 1]; it falls as needed to stay within `maxSampledKeys`. @default 1 */
  initialRate?: number;
  /** Most keys tracked at once (memory: about 100 bytes plus the key each). @default 4096 */
  maxSampledKeys?: number;
}

/** One point of the curve. */
export interface CurvePoint {
  /** Cache size: entries, or bytes for the byte curve. */
  size: number;
  /** Predicted hit ratio of an LRU cache of that size over the recorded stream, 0 to 1. */
  hitRatio: number;
}

/** What `sizing()` returns: the curve and, for a target, the smallest size predicted to reach it. */
export interface SizingReport {
  /** Accesses recorded. */
  references: number;
  /** Fraction of keys currently sampled. */
  samplingRate: number;
  sampledKeys: number;
  /** Estimated distinct keys seen. */
  distinctKeys: number;
  /** Hit ratio with unbounded size: only first accesses miss. */
  maxHitRatio: number;
  /** Hit ratio at 1k, 2k, 5k, ... 1M entries. */
  entries: CurvePoint[];
  /** Hit ratio at 1 MiB ... 1 GiB, when value sizes were recorded. */
  bytes: CurvePoint[];
  /** Mean bytes per sampled entry (0 when no sizes were given). */
  meanEntryBytes: number;
  recommendation?: {
    targetHitRatio: number;
    /** Smallest entry count predicted to reach the target; undefined when unreachable at any size. */
    entries?: number;
    /** Smallest byte budget predicted to reach it (needs recorded sizes). */
    bytes?: number;
  };
}

/** The 1-2-5 ladder from 1k to 1M entries. */
export const ENTRY_SIZES: readonly number[] = ladder(1_000, 1_000_000);
/** The 1-2-5 ladder from 1 MiB to 1 GiB (in bytes, powers of 1024 times 1, 2, 5). */
export const BYTE_SIZES: readonly number[] = ladder(1, 1024).map((mib) => mib * 1024 * 1024);

/** Depths up to LINEAR get one bin per integer (exact for small caches); beyond, bins grow by 1% each. */
const LINEAR = 1024;
const BIN_BASE = 1.01;
const LOG_BASE = Math.log(BIN_BASE);
/** Bins cover depths up to 1024 · 1.01^2800 ≈ 10^15. */
const BINS = LINEAR + 2800;
/** Bin i holds depths in (BIN_LOW[i], BIN_HIGH[i]]. */
const BIN_LOW = new Float64Array(BINS);
const BIN_HIGH = new Float64Array(BINS);
for (let i = 0; i < BINS; i++) {
  BIN_LOW[i] = i < LINEAR ? i : LINEAR * BIN_BASE ** (i - LINEAR);
  BIN_HIGH[i] = i < LINEAR ? i + 1 : LINEAR * BIN_BASE ** (i - LINEAR + 1);
}
const TWO_32 = 2 ** 32;

interface Sampled {
  key: string;
  hash: number;
  last: number;
  bytes: number;
  /** Position in the max-heap by hash. */
  at: number;
}

export class MissRatioCurve {
  private readonly maxKeys: number;
  private threshold: number;
  private readonly keys = new Map<string, Sampled>();
  /** Max-heap by hash: the root leaves first when the sample is full. */
  private readonly byHash = new IndexedHeap<Sampled>((a, b) => a.hash > b.hash);
  private readonly entryBins = new Float64Array(BINS);
  private readonly byteBins = new Float64Array(BINS);
  /** Sampled accesses (rescaled to the current rate), and how many of them were first accesses. */
  private sampledRefs = 0;
  private coldRefs = 0;
  private refs = 0;
  private time = 0;
  private readonly capacity: number;
  private counts: Float64Array;
  private sizes: Float64Array;
  private sizedKeys = 0;
  private totalSampledBytes = 0;

  constructor(options: MissRatioCurveOptions = {}) {
    const rate = options.initialRate ?? 1;
    if (!(rate > 0 && rate <= 1)) throw new RangeError(`MissRatioCurve initialRate must be in (0, 1], received: ${rate}`);
    this.maxKeys = options.maxSampledKeys ?? 4096;
    if (!Number.isInteger(this.maxKeys) || this.maxKeys < 16) throw new RangeError(`MissRatioCurve maxSampledKeys must be an integer ≥ 16, received: ${this.maxKeys}`);
    this.threshold = rate * TWO_32;
    this.capacity = this.maxKeys * 4;
    this.counts = new Float64Array(this.capacity + 1);
    this.sizes = new Float64Array(this.capacity + 1);
  }

  /** Fraction of keys sampled now. */
  get samplingRate(): number {
    return this.threshold / TWO_32;
  }

  /** Accesses recorded. */
  get references(): number {
    return this.refs;
  }

  /** Records one access to `key`; `bytes` (its value's size) feeds the byte curve; undefined keeps the size last recorded. */
  record(key: string, size?: number): void {
    this.refs++;
    const hash = hash32(key);
    if (hash >= this.threshold) return;
    const rate = this.samplingRate;
    let entry = this.keys.get(key);
    const bytes = size ?? entry?.bytes ?? 0;
    if (entry === undefined) {
      this.sampledRefs++;
      this.coldRefs++;
      entry = { key, hash, last: 0, bytes, at: 0 };
      this.keys.set(key, entry);
      this.byHash.push(entry);
      if (bytes > 0) this.sizedKeys++;
      this.totalSampledBytes += bytes;
      this.touch(entry);
      if (this.keys.size > this.maxKeys) this.shrink();
      return;
    }
    this.sampledRefs++;
    const others = this.sumAfter(this.counts, entry.last);
    const othersBytes = this.sumAfter(this.sizes, entry.last);
    this.entryBins[bin(others / rate + 1)]! += 1;
    if (bytes !== entry.bytes) {
      if (entry.bytes === 0 && bytes > 0) this.sizedKeys++;
      this.totalSampledBytes += bytes - entry.bytes;
    }
    this.byteBins[bin(othersBytes / rate + bytes)]! += 1;
    this.add(this.counts, entry.last, -1);
    this.add(this.sizes, entry.last, -entry.bytes);
    entry.last = 0;
    entry.bytes = bytes;
    this.touch(entry);
  }

  /** Predicted hit ratio of an LRU cache holding `entries` entries. */
  hitRatioAt(entries: number): number {
    return this.ratio(this.entryBins, entries);
  }

  /** Predicted hit ratio of an LRU cache holding `bytes` bytes of values (needs sizes in `record`). */
  hitRatioAtBytes(bytes: number): number {
    return this.ratio(this.byteBins, bytes);
  }

  /** The curve at the given sizes (entries by default). */
  curve(sizes: readonly number[] = ENTRY_SIZES): CurvePoint[] {
    return sizes.map((size) => ({ size, hitRatio: this.hitRatioAt(size) }));
  }

  /** Hit ratio with unbounded size: every access but the first of each key hits. */
  maxHitRatio(): number {
    return this.ratio(this.entryBins, Number.POSITIVE_INFINITY);
  }

  /** Smallest size (entries) predicted to reach `target`, searched on a fine geometric grid; undefined if unreachable. */
  recommendEntries(target: number, largest = 1e9): number | undefined {
    return smallestReaching((size) => this.hitRatioAt(size), target, largest);
  }

  /** Smallest byte budget predicted to reach `target`; undefined if unreachable or no sizes were recorded. */
  recommendBytes(target: number, largest = 2 ** 40): number | undefined {
    if (this.sizedKeys === 0) return undefined;
    return smallestReaching((size) => this.hitRatioAtBytes(size), target, largest);
  }

  /** The whole report: curves, and a recommendation for `targetHitRatio` when given. */
  sizing(targetHitRatio?: number): SizingReport {
    const rate = this.samplingRate;
    const report: SizingReport = {
      references: this.refs,
      samplingRate: rate,
      sampledKeys: this.keys.size,
      distinctKeys: Math.round(this.coldRefs / rate),
      maxHitRatio: this.maxHitRatio(),
      entries: this.curve(ENTRY_SIZES),
      bytes: this.sizedKeys === 0 ? [] : BYTE_SIZES.map((size) => ({ size, hitRatio: this.hitRatioAtBytes(size) })),
      meanEntryBytes: this.keys.size === 0 ? 0 : this.totalSampledBytes / this.keys.size,
    };
    if (targetHitRatio !== undefined) {
      report.recommendation = { targetHitRatio, entries: this.recommendEntries(targetHitRatio), bytes: this.recommendBytes(targetHitRatio) };
    }
    return report;
  }

  private ratio(bins: Float64Array, size: number): number {
    if (this.sampledRefs === 0) return 0;
    // SHARDS_adj: the sample holds R·N accesses in expectation; the difference (sampling noise, mostly from hot
    // keys falling in or out of the sample) is credited to the smallest distance, where it does the least harm.
    const expected = this.refs * this.samplingRate;
    const adjustment = expected - this.sampledRefs;
    const total = expected;
    let hits = adjustment;
    for (let i = 0; i < BINS; i++) {
      const low = BIN_LOW[i]!;
      if (low >= size) break;
      const high = BIN_HIGH[i]!;
      // Depths in a bin are spread over (low, high]: count the part at or below `size`.
      hits += high <= size ? bins[i]! : bins[i]! * ((size - low) / (high - low));
    }
    return Math.min(1, Math.max(0, hits / total));
  }

  /** Marks `entry` as accessed now. */
  private touch(entry: Sampled): void {
    if (this.time >= this.capacity) this.compact();
    entry.last = ++this.time;
    this.add(this.counts, entry.last, 1);
    this.add(this.sizes, entry.last, entry.bytes);
  }

  /** The sample is full: drop the key with the largest hash and lower the threshold to it. */
  private shrink(): void {
    const oldRate = this.samplingRate;
    while (this.keys.size > this.maxKeys) {
      const top = this.byHash.pop()!;
      this.keys.delete(top.key);
      this.add(this.counts, top.last, -1);
      this.add(this.sizes, top.last, -top.bytes);
      this.totalSampledBytes -= top.bytes;
      if (top.bytes > 0) this.sizedKeys--;
      this.threshold = top.hash;
    }
    // Counts so far were gathered at the old rate: scale them to what the new rate would have sampled.
    const scale = this.samplingRate / oldRate;
    for (let i = 0; i < BINS; i++) {
      this.entryBins[i]! *= scale;
      this.byteBins[i]! *= scale;
    }
    this.sampledRefs *= scale;
    this.coldRefs *= scale;
  }

  /** Renumbers access times 1..n in order, when the clock reaches the tree's end. */
  private compact(): void {
    // The entry being touched has left the tree already (last 0): it gets its new time after this.
    const live = [...this.keys.values()].filter((entry) => entry.last > 0).sort((a, b) => a.last - b.last);
    this.counts = new Float64Array(this.capacity + 1);
    this.sizes = new Float64Array(this.capacity + 1);
    this.time = 0;
    for (const entry of live) {
      entry.last = ++this.time;
      this.add(this.counts, entry.last, 1);
      this.add(this.sizes, entry.last, entry.bytes);
    }
  }

  private add(tree: Float64Array, at: number, delta: number): void {
    if (at <= 0) return;
    for (let i = at; i <= this.capacity; i += i & -i) tree[i]! += delta;
  }

  private prefix(tree: Float64Array, at: number): number {
    let sum = 0;
    for (let i = at; i > 0; i -= i & -i) sum += tree[i]!;
    return sum;
  }

  private sumAfter(tree: Float64Array, at: number): number {
    return this.prefix(tree, this.time) - this.prefix(tree, at);
  }
}

function bin(depth: number): number {
  if (depth <= LINEAR) return Math.max(0, Math.ceil(depth) - 1);
  return Math.min(BINS - 1, LINEAR + Math.floor(Math.log(depth / LINEAR) / LOG_BASE));
}

function ladder(from: number, to: number): number[] {
  const sizes: number[] = [];
  for (let decade = from; decade <= to; decade *= 10) {
    for (const step of [1, 2, 5]) if (decade * step <= to) sizes.push(decade * step);
  }
  return sizes;
}

function smallestReaching(hitRatioAt: (size: number) => number, target: number, largest: number): number | undefined {
  if (!(target > 0 && target <= 1)) throw new RangeError(`target hit ratio must be in (0, 1], received: ${target}`);
  if (hitRatioAt(largest) < target) return undefined;
  // The curve never falls as size grows: bisect on integers.
  let low = 1;
  let high = largest;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (hitRatioAt(mid) >= target) high = mid;
    else low = mid + 1;
  }
  return low;
}
