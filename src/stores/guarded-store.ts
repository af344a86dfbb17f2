import { CacheError, CacheStoreError, messageOf, type CacheOperation, type ErrorReporter } from "../errors.ts";
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
  ) {
    store.reportTo?.((error, context) => report(error, context));
    const ping = store.ping?.bind(store);
    if (ping) {
      this.breaker = new CircuitBreaker({
        probe: ping,
        probeTimeoutMs: timeoutMs,
        opened: (failures) =>
          report(new CacheStoreError("STORE_UNAVAILABLE", "circuit", `${store.name} store failed ${failures} times in a row; skipping it until it answers again`), {
            operation: "circuit",
          }),
      });
    }
  }

  /** Calls that went to the store (round trips; in-process `lookupNow` answers are not counted), and their time in ms. */
  roundTrips = 0;
  roundTripMs = 0;

  /** Opens after consecutive failures so that calls skip a dead store at once (stores with `ping` only). */
  private readonly breaker: CircuitBreaker | undefined;

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

  /** One round trip for many lookups; `undefined` on failure. */
  async lookup(requests: readonly LookupRequest[], model: string): Promise<LookupResult[] | undefined> {
    return this.attempt("lookup", (signal) => this.store.lookup(requests, signal), undefined, model, requests.length === 1 ? requests[0]!.key : undefined);
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
    let timer: NodeJS.Timeout | undefined;
    // Set when the caller stops waiting, so a store can skip steps nobody will see (and whose effects, a lease say,
    // the caller has already undone). A plain object: an AbortController costs more than a Redis hit's own work.
    const abandoned = { aborted: false };
    if (this.breaker?.isOpen) return fallback;
    const started = performance.now();
    this.roundTrips++;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abandoned.aborted = true;
          reject(new CacheStoreError("STORE_TIMEOUT", operation, `${this.store.name} store did not answer ${operation} within ${this.timeoutMs + extraMs} ms`));
        }, this.timeoutMs + extraMs);
      });
      const result = await Promise.race([call(abandoned), timeout]);
      this.breaker?.succeeded();
      return result;
    } catch (error) {
      this.breaker?.failed();
      this.report(asStoreError(error, operation), { operation, ...(model && { model }), ...(key && { key }) });
      return fallback;
    } finally {
      clearTimeout(timer);
      this.roundTripMs += performance.now() - started;
    }
  }
}

/** What a store threw, as the plugin reports it: its own errors as they are, anything else as `STORE_ERROR`. */
function asStoreError(error: unknown, operation: CacheOperation): CacheError {
  return error instanceof CacheError ? error : new CacheStoreError("STORE_ERROR", operation, messageOf(error), { cause: error });
}
