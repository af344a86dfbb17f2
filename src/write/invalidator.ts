import { DEFAULTS } from "../defaults.ts";
import { CacheError, CacheTransactionError, type ErrorReporter, messageOf } from "../errors.ts";
import type { Metrics } from "../metrics.ts";
import type { InvalidatedGroups } from "../options.ts";
import { channels, type InvalidateEvent } from "../observe/channels.ts";
import { invalidateEvent } from "../observe/invalidate-event.ts";
import { stampKey } from "../stamps/names.ts";
import type { GuardedStore } from "../stores/guarded-store.ts";
import type { Transaction } from "../transaction-scope.ts";

const { retryFirstMs, retryMaxMs, transactionMarginMs } = DEFAULTS.limits;

/** The re-invalidation of a transaction whose end is not observable: its stamps, advanced again when `timer` fires. */
interface Unobserved {
  stamps: Set<string>;
  timer: NodeJS.Timeout;
}

/**
 * Applies invalidations after writes commit, and only then lets the write's promise resolve.
 *
 * - Outside transactions, and in batch `$transaction([...])` (whose queries resolve only once the batch has
 *   committed), the stamps are advanced before the write returns.
 * - In an interactive transaction they are collected under its id and advanced when it ends, before
 *   `$transaction` returns; uncommitted data never reaches the cache because reads in transactions bypass it.
 * - If advancing fails (store down or too slow), the stamps are retried in the background and, until they are
 *   applied, every read bypasses the cache: a read could otherwise return the entry the write should have removed.
 * - A write in an interactive transaction that was not opened through our `$transaction` (so its end is not
 *   observable) is invalidated now, which covers a rollback, and again once the transaction must have ended (its
 *   `timeout` plus a margin), which covers the commit: a read that refilled the old row in between is dropped then.
 *   Until that second advance every read of this process bypasses the cache, and the write is reported.
 */
export class Invalidator {
  private readonly open = new Map<string | number, Set<string>>();
  /** Stamp keys whose advance failed, with the failure's sequence number. */
  private readonly failed = new Map<string, number>();
  private failures = 0;
  private retryDelayMs: number = retryFirstMs;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Re-invalidations pending for unobserved transactions, by transaction id (a symbol per write without one). */
  private readonly unobserved = new Map<string | number | symbol, Unobserved>();
  /** `degraded` as last published on the degraded channel. */
  private published = false;

  constructor(
    private readonly store: GuardedStore,
    private readonly prefix: string,
    private readonly metrics: Metrics,
    private readonly report: ErrorReporter,
    /** The longest an interactive transaction stays open: the client's `timeout`, in milliseconds. */
    private readonly transactionTimeoutMs: number,
    /** The `onInvalidate` option: told the models and tags of each invalidation once it was attempted. */
    private readonly onInvalidate?: (event: InvalidatedGroups) => unknown,
  ) {
    // The store answers again (its circuit closed): apply what is pending now rather than at the next backoff.
    store.onRecovered(() => {
      if (this.failed.size === 0) return;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.retryDelayMs = retryFirstMs;
      void this.retry();
    });
  }

  /** True while some invalidation has not reached the store. */
  get degraded(): boolean {
    return this.failed.size > 0 || this.unobserved.size > 0;
  }

  /** Advances `stamps` now, or when the interactive transaction the write ran in ends. */
  async afterWrite(stamps: ReadonlySet<string>, transaction: Transaction | undefined): Promise<void> {
    if (transaction?.kind === "itx" && transaction.id !== undefined) {
      const pending = this.open.get(transaction.id);
      if (pending) {
        for (const stamp of stamps) pending.add(stamp);
        return;
      }
      this.afterCommitOf(transaction.id, stamps);
    } else if (transaction?.kind === "itx") {
      this.afterCommitOf(undefined, stamps);
    }
    await this.apply(stamps);
  }

  /** Schedules the second advance of a write whose transaction's end is not observable, and reports it. */
  private afterCommitOf(id: string | number | undefined, stamps: ReadonlySet<string>): void {
    const key = id ?? Symbol("unidentified transaction");
    const pending = this.unobserved.get(key);
    if (pending) {
      // The transaction ends before its first write's deadline: that timer covers this write too.
      for (const stamp of stamps) pending.stamps.add(stamp);
      return;
    }
    const afterMs = this.transactionTimeoutMs + transactionMarginMs;
    const entry: Unobserved = {
      stamps: new Set(stamps),
      timer: setTimeout(() => {
        // Applied before the bypass ends; a failed advance keeps reads bypassing through `failed`.
        void this.apply(entry.stamps).finally(() => {
          this.unobserved.delete(key);
          this.noteDegraded();
        });
      }, afterMs),
    };
    entry.timer.unref();
    this.unobserved.set(key, entry);
    this.noteDegraded();
    this.report(new CacheTransactionError(id, afterMs), { operation: "transaction" });
  }

  /** Starts collecting the invalidations of an interactive transaction. */
  beginTransaction(id: string | number): void {
    if (!this.open.has(id)) this.open.set(id, new Set());
  }

  /** Applies what the transaction collected. Called after commit, and after rollback too (harmless). */
  async endTransaction(id: string | number | undefined): Promise<void> {
    if (id === undefined) return;
    const pending = this.open.get(id);
    this.open.delete(id);
    if (pending && pending.size > 0) await this.apply(pending);
  }

  /** Advances stamps (unprefixed names, see stamps/names.ts) in the store; counted once the store applied them. */
  async apply(stamps: Iterable<string>): Promise<void> {
    const names = [...stamps];
    if (names.length === 0) return;
    const keys = names.map((stamp) => stampKey(this.prefix, stamp));
    if (!channels.invalidate.hasSubscribers) await this.applyKeys(keys);
    else {
      const event = invalidateEvent(this.prefix, names);
      await channels.invalidate.tracePromise(() => this.applyKeys(keys, event), event);
    }
    if (this.onInvalidate) this.tell(names);
  }

  /**
   * Calls the `onInvalidate` hook, whether or not the store applied the stamps (the data changed either way; a
   * failed store invalidation is retried, and reads bypass the cache meanwhile). Not awaited: a CDN purge must not
   * hold the write back; a throw or rejection goes to `onError` (`HOOK_FAILED`).
   */
  private tell(names: readonly string[]): void {
    const { models, tags, all } = invalidateEvent(this.prefix, names);
    const failed = (error: unknown) => this.report(new CacheError("HOOK_FAILED", `onInvalidate threw: ${messageOf(error)}`, { cause: error }), { operation: "invalidate" });
    try {
      const returned = this.onInvalidate!({ models, tags, all });
      if (returned instanceof Promise) returned.catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  /** Advances store keys as given: stamp keys, or entry keys, which the store drops (`$cache.invalidate` of one read). */
  async applyKeys(keys: readonly string[], event?: InvalidateEvent): Promise<void> {
    if (keys.length === 0) return;
    const applied = await this.store.bump(keys);
    if (event) event.applied = applied;
    if (applied) {
      this.metrics.count("invalidations");
      return;
    }
    const failure = ++this.failures;
    for (const key of keys) this.failed.set(key, failure);
    this.noteDegraded();
    this.scheduleRetry();
  }

  /** Tells the degraded channel when reads start or stop bypassing the cache. */
  private noteDegraded(): void {
    const degraded = this.degraded;
    if (degraded === this.published) return;
    this.published = degraded;
    if (channels.degraded.hasSubscribers) {
      let pending = this.failed.size;
      for (const entry of this.unobserved.values()) pending += entry.stamps.size;
      channels.degraded.publish({ prefix: this.prefix, degraded, pending });
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => void this.retry(), this.retryDelayMs);
    this.retryTimer.unref();
  }

  private async retry(): Promise<void> {
    this.retryTimer = undefined;
    const attempt = [...this.failed];
    if (await this.store.bump(attempt.map(([key]) => key))) {
      // A key that failed again meanwhile (a later write) was not covered by this attempt: keep it.
      const applied = new Set<number>();
      for (const [key, failure] of attempt) {
        if (this.failed.get(key) !== failure) continue;
        this.failed.delete(key);
        applied.add(failure);
      }
      // Each failed invalidation counts once, when its retry reached the store.
      this.metrics.count("invalidations", applied.size);
      this.retryDelayMs = retryFirstMs;
      this.noteDegraded();
    } else {
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, retryMaxMs);
    }
    if (this.failed.size > 0) this.scheduleRetry();
  }
}
