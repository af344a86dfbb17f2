/**
 * Adaptive TTL per key, driven by whether refreshes find changed data.
 *
 * The TTL only bounds how long a change made outside the plugin (another service, a console, a migration) can be
 * served; changes made through the plugin invalidate at once whatever the TTL. So the TTL that matters is the one
 * matched to how often a key changes out of band, and the only evidence of that is what a refresh finds:
 *
 * - a refill after the entry expired that finds the same data (same digest) lengthens the key's TTL by `grow`,
 *   up to `maxMs`;
 * - one that finds different data shortens it by `shrink`, down to `minMs`;
 * - a refill after an invalidation (a write through the plugin) or the first fill only records the digest.
 *
 * This is multiplicative increase / decrease on observed change; web caches learned the same lesson (Alex, Cate
 * 1992, and Squid's refresh heuristic set a TTL from how long data went unchanged). The alternative, mean inter-access time + 2σ, follows how often a key is
 * *read*: it keeps an entry as long as the next read is likely to come, which saves memory, but it gives the hottest
 * keys the shortest TTLs and says nothing about staleness. Read rate decides whether a TTL pays off; change rate
 * decides what it costs, and only the second can be learned from refreshes.
 *
 * Memory is bounded: at most `maxKeys` keys keep state (least recently filled leave first, and start over at
 * `initialMs`). Per key: the TTL, a 32-bit digest and a timestamp.
 */

import { hash32 } from "./hash.ts";

export interface AdaptiveTtlOptions {
  /** Shortest TTL, in milliseconds. */
  minMs: number;
  /** Longest TTL, in milliseconds. */
  maxMs: number;
  /** TTL of a key with no history, in milliseconds. @default minMs */
  initialMs?: number;
  /** Factor applied when a refresh finds the same data (> 1). @default 1.5 */
  grow?: number;
  /**
   * Factor applied when a refresh finds changed data (in (0, 1)). With `grow`, it sets the change probability per
   * TTL the key settles at: ln(grow) / (ln(grow) − ln(shrink)), 15% with the defaults. @default 0.1
   */
  shrink?: number;
  /** Most keys with state. @default 10000 */
  maxKeys?: number;
}

/** Why an entry is being filled. */
export type FillCause = "expired" | "invalidated" | "first";

interface KeyState {
  ttlMs: number;
  digest: number;
  /** When the entry this state last gave a TTL to expires (for `fillNow`). */
  expiresAt: number;
  /** The entry's expiry before the last fill, restored if the store refused that fill (`refused`). */
  previousExpiresAt: number;
}

export class AdaptiveTtl {
  readonly minMs: number;
  readonly maxMs: number;
  readonly initialMs: number;
  private readonly grow: number;
  private readonly shrink: number;
  private readonly maxKeys: number;
  private readonly states = new Map<string, KeyState>();
  private lengthened = 0;
  private shortened = 0;

  constructor(options: AdaptiveTtlOptions) {
    const { minMs, maxMs } = options;
    if (!(Number.isFinite(minMs) && minMs > 0)) throw new RangeError(`adaptiveTtl.min must be a positive number, received: ${minMs}`);
    if (!(Number.isFinite(maxMs) && maxMs >= minMs)) throw new RangeError(`adaptiveTtl.max must be a number ≥ min (${minMs}), received: ${maxMs}`);
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.initialMs = clamp(options.initialMs ?? minMs, minMs, maxMs);
    this.grow = options.grow ?? 1.5;
    this.shrink = options.shrink ?? 0.1;
    if (!(this.grow > 1)) throw new RangeError(`adaptiveTtl.grow must be > 1, received: ${this.grow}`);
    if (!(this.shrink > 0 && this.shrink < 1)) throw new RangeError(`adaptiveTtl.shrink must be in (0, 1), received: ${this.shrink}`);
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** The TTL a fill of `key` would get now, without recording anything. */
  peek(key: string): number {
    return this.states.get(key)?.ttlMs ?? this.initialMs;
  }

  /**
   * Records a fill of `key` whose encoded value is `value` and returns the TTL to store it with, in milliseconds.
   * `cause`: `"expired"` when the previous entry timed out (the case that teaches), `"invalidated"` after a write
   * through the plugin dropped it, `"first"` when there was none.
   */
  fill(key: string, value: string, cause: FillCause, now = Date.now()): number {
    const digest = hash32(value);
    const state = this.states.get(key);
    if (state === undefined) {
      this.remember(key, { ttlMs: this.initialMs, digest, expiresAt: now + this.initialMs, previousExpiresAt: now });
      return this.initialMs;
    }
    if (cause === "expired") {
      if (digest === state.digest) {
        state.ttlMs = Math.min(this.maxMs, state.ttlMs * this.grow);
        this.lengthened++;
      } else {
        state.ttlMs = Math.max(this.minMs, state.ttlMs * this.shrink);
        this.shortened++;
      }
    }
    state.digest = digest;
    state.previousExpiresAt = state.expiresAt;
    state.expiresAt = now + state.ttlMs;
    // Refresh the key's place in the bounded map.
    this.states.delete(key);
    this.states.set(key, state);
    return state.ttlMs;
  }

  /**
   * Like `fill`, with the cause inferred from the clock, so the read path needs to know nothing: a fill at or after
   * the time the key's previous TTL ran out follows an expiry; an earlier one followed an invalidation (or an
   * eviction), which teaches nothing about out-of-band changes.
   */
  fillNow(key: string, value: string, now = Date.now()): number {
    const state = this.states.get(key);
    const cause: FillCause = state === undefined ? "first" : now >= state.expiresAt ? "expired" : "invalidated";
    return this.fill(key, value, cause, now);
  }

  /**
   * The store refused the last fill of `key` (a write raced it): the entry stored before it, if any, still expires
   * when it did, so a reload after that time is an expiry again, not an invalidation.
   */
  refused(key: string): void {
    const state = this.states.get(key);
    if (state !== undefined) state.expiresAt = state.previousExpiresAt;
  }

  /** Forgets a key (e.g. its row was deleted). */
  forget(key: string): void {
    this.states.delete(key);
  }

  /** Counters for reports: keys with state, and how often TTLs moved each way. */
  stats(): { keys: number; lengthened: number; shortened: number } {
    return { keys: this.states.size, lengthened: this.lengthened, shortened: this.shortened };
  }

  private remember(key: string, state: KeyState): void {
    this.states.set(key, state);
    if (this.states.size > this.maxKeys) this.states.delete(this.states.keys().next().value as string);
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
