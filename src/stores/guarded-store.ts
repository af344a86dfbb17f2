import { CacheError, CacheStoreError, messageOf, type CacheOperation, type ErrorReporter } from "../errors.ts";
import { DEFAULTS } from "../defaults.ts";
import { channels } from "../observe/channels.ts";
import { CircuitBreaker } from "./circuit-breaker.ts";
import type { Abandonment, CacheStore, FillRequest, LookupRequest, LookupResult, WriteThroughRequest } from "./store.ts";

/**
 * A store whose calls never throw and never take longer than `timeoutMs`: a failure or a late answer is reported
 * and turned into "no answer", and the caller falls back to the database.
 */
export class GuardedStore {
  constructor(
    readonly store: CacheStore,
    private readonly timeoutMs: number,
    private readonly report: ErrorReporter,
    /** `false`: no breaker. @default DEFAULTS.circuitBreaker */
    breaker: { threshold: number; probeMs: number } | false = DEFAULTS.circuitBreaker,
  ) {
    store.reportTo?.((error, context) => report(error, context));
    const ping = store.ping?.bind(store);
    if (ping && breaker !== false) {
      this.breaker = new CircuitBreaker({
        threshold: breaker.threshold,
        probeMs: breaker.probeMs,
        probe: ping,
        probeTimeoutMs: timeoutMs,
        opened: (failures) => {
          if (channels.breaker.hasSubscribers) channels.breaker.publish({ store: store.name, state: "open" });
          report(new CacheStoreError("STORE_UNAVAILABLE", "circuit", `${store.name} store failed ${failures} times in a row; skipping it until it answers again`), {
            operation: "circuit",
          });
        },
      });
      this.breaker.onClosed(() => {
        if (channels.breaker.hasSubscribers) channels.breaker.publish({ store: store.name, state: "closed" });
      });
    }
  }

  /** Calls that went to the store (round trips; in-process `lookupNow` answers are not counted), and their time in ms. */
  roundTrips = 0;
  roundTripMs = 0;

  /** Opens after consecutive failures so that calls skip a dead store at once (stores with `ping` only). */
  private readonly breaker: CircuitBreaker | undefined;

  /** True while the breaker skips the store. */
  get circuitOpen(): boolean {
    return this.breaker?.isOpen ?? false;
  }

  /** Calls `listener` each time the store answers again after the breaker opened. */
  onRecovered(listener: () => void): void {
    this.breaker?.onClosed(listener);
  }

  /** Synchronous lookup of an in-process tier; `undefined` when it cannot answer now (or failed): ask `lookup`. */
  lookupNow(request: LookupRequest, model: string): LookupResult | undefined {
    if (this.store.lookupNow === undefined) return undefined;
    try {
      return this.store.lookupNow(request);
    } catch (error) {
      this.report(asStoreError(error, "lookup"), { operation: "lookup", model, key: request.key });
      return undefined;
    }
  }

  /** Many lookups at once; an answer is `undefined` where the store failed or timed out before giving it. */
  async lookup(requests: readonly LookupRequest[], model: string): Promise<(LookupResult | undefined)[]> {
    return Promise.all(this.lookupEach(requests, model));
  }

  /**
   * Many lookups at once, each answer settling as soon as the store knows it: a hit of the first round trip does
   * not wait for the round trips other requests' misses take (LookupProgress). Each round trip gets `timeoutMs`; an
   * answer still missing when one fails or is late is `undefined`, never a rejection.
   */
  lookupEach(requests: readonly LookupRequest[], model: string): Promise<LookupResult | undefined>[] {
    if (this.breaker?.isOpen) return requests.map(() => Promise.resolve(undefined));
    const settle: ((result: LookupResult | undefined) => void)[] = [];
    const answers = requests.map(() => new Promise<LookupResult | undefined>((resolve) => settle.push(resolve)));
    let cancel = () => {};
    let late: (error: Error) => void = () => {};
    const progress = {
      aborted: false,
      answered: (index: number, result: LookupResult) => settle[index]?.(result),
      nextStep: () => {
        this.roundTrips++;
        cancel();
        cancel = deadline(this.timeoutMs, () => {
          progress.aborted = true;
          late(new CacheStoreError("STORE_TIMEOUT", "lookup", `${this.store.name} store did not answer lookup within ${this.timeoutMs} ms (one round trip)`));
        });
      },
    };
    const timedOut = new Promise<never>((_, reject) => (late = reject));
    const started = performance.now();
    progress.nextStep();
    // A store that throws synchronously fails like one that rejects.
    const looking = new Promise<LookupResult[]>((resolve) => resolve(this.store.lookup(requests, progress)));
    Promise.race([looking, timedOut])
      .then(
        (results) => {
          this.breaker?.succeeded();
          results.forEach((result, i) => settle[i]!(result));
        },
        (error) => {
          progress.aborted = true;
          this.breaker?.failed();
          this.report(asStoreError(error, "lookup"), { operation: "lookup", model, ...(requests.length === 1 && { key: requests[0]!.key }) });
        },
      )
      .finally(() => {
        cancel();
        this.roundTripMs += performance.now() - started;
        // Answers given along the way stay; the rest fall back to the database.
        for (const resolve of settle) resolve(undefined);
      });
    return answers;
  }

  /** Whether each entry was stored (all false on failure); one round trip where the store can batch fills. */
  async fillMany(requests: readonly FillRequest[], model: string): Promise<boolean[]> {
    const store = this.store;
    if (store.fillMany === undefined) return Promise.all(requests.map((request) => this.fill(request, model)));
    return (await this.attempt("fill", () => store.fillMany!(requests), undefined, model)) ?? requests.map(() => false);
  }

  /** Whether the entry was stored; false on failure. */
  async fill(request: FillRequest, model: string): Promise<boolean> {
    return (await this.attempt("fill", () => this.store.fill(request), false, model, request.key)) ?? false;
  }

  /** Releases a lease; failures only delay other processes until the lease expires. */
  async release(key: string, lease: string): Promise<void> {
    const store = this.store;
    if (store.release !== undefined) await this.attempt("release", () => store.release!(key, lease), undefined, undefined, key);
  }

  /** Write-through (see the store interface): whether the entries were stored; undefined on failure. */
  async writeThrough(request: WriteThroughRequest, model: string): Promise<boolean | undefined> {
    const store = this.store;
    if (store.writeThrough === undefined) return undefined;
    return this.attempt("invalidate", () => store.writeThrough!(request), undefined, model, undefined, store.confirmWaitMs);
  }

  /** Whether the stamps were advanced; false on failure or timeout (the caller then retries). */
  async bump(stamps: readonly string[]): Promise<boolean> {
    return (await this.attempt("invalidate", () => this.store.bump(stamps).then(() => true), false, undefined, undefined, this.store.confirmWaitMs)) ?? false;
  }

  /** `extraMs`: time the operation may take by design on top of the store's answer (a tiered store's confirmations). */
  private async attempt<T, F>(operation: CacheOperation, call: (signal: Abandonment) => Promise<T>, fallback: F, model?: string, key?: string, extraMs = 0): Promise<T | F> {
    let cancel = () => {};
    // Set when the caller stops waiting, so a store can skip steps nobody will see (and whose effects, a lease say,
    // the caller has already undone). A plain object: an AbortController costs more than a Redis hit's own work.
    const abandoned = { aborted: false };
    if (this.breaker?.isOpen) return fallback;
    const started = performance.now();
    this.roundTrips++;
    try {
      const timeout = new Promise<never>((_, reject) => {
        cancel = deadline(this.timeoutMs + extraMs, () => {
          abandoned.aborted = true;
          reject(new CacheStoreError("STORE_TIMEOUT", operation, `${this.store.name} store did not answer ${operation} within ${this.timeoutMs + extraMs} ms`));
        });
      });
      const result = await Promise.race([call(abandoned), timeout]);
      this.breaker?.succeeded();
      return result;
    } catch (error) {
      this.breaker?.failed();
      this.report(asStoreError(error, operation), { operation, ...(model && { model }), ...(key && { key }) });
      return fallback;
    } finally {
      cancel();
      this.roundTripMs += performance.now() - started;
    }
  }
}

/**
 * Calls `fire` once `ms` have passed, but only after the event loop has read the I/O waiting by then: after a busy
 * stretch Node runs expired timers before it reads sockets, and an answer that arrived in time must not lose to its
 * own deadline because the process was late to read it. Returns a function that cancels it.
 */
function deadline(ms: number, fire: () => void): () => void {
  let cancelled = false;
  const timer = setTimeout(
    () =>
      setImmediate(() => {
        if (!cancelled) fire();
      }),
    ms,
  );
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}

/** What a store threw, as the plugin reports it: its own errors as they are, anything else as `STORE_ERROR`. */
function asStoreError(error: unknown, operation: CacheOperation): CacheError {
  return error instanceof CacheError ? error : new CacheStoreError("STORE_ERROR", operation, messageOf(error), { cause: error });
}
