import { CacheError, CacheStoreError, messageOf, type CacheOperation, type ErrorReporter } from "../errors.ts";
import { DEFAULTS } from "../defaults.ts";
import { channels } from "../observe/channels.ts";
import { CircuitBreaker } from "./circuit-breaker.ts";
import type { CacheStore, FillRequest, LookupProgress, LookupRequest, LookupResult, WriteThroughRequest } from "./store.ts";

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
  lookupEach(requests: readonly LookupRequest[], model: string | (() => string)): Promise<LookupResult | undefined>[] {
    if (this.breaker?.isOpen) return requests.map(() => Promise.resolve(undefined));
    const settle: ((result: LookupResult | undefined) => void)[] = [];
    const answers = requests.map(() => new Promise<LookupResult | undefined>((resolve) => settle.push(resolve)));
    const context = { model, key: requests.length === 1 ? requests[0]!.key : undefined };
    this.guarded(
      "lookup",
      (step) => {
        // The guarded call's own step is the store's LookupProgress: answers known early settle at once.
        step.answered = (index, result) => settle[index]?.(result);
        return this.store.lookup(requests, step);
      },
      context,
    ).then((results) => {
      results?.forEach((result, i) => settle[i]!(result));
      // Answers given along the way stay; the rest fall back to the database.
      for (const resolve of settle) resolve(undefined);
    });
    return answers;
  }

  /** Whether each entry was stored (all false on failure); one round trip where the store can batch fills. */
  async fillMany(requests: readonly FillRequest[], model: string | (() => string)): Promise<boolean[]> {
    const store = this.store;
    if (store.fillMany === undefined) return Promise.all(requests.map((request) => this.fill(request, typeof model === "function" ? model() : model)));
    return (await this.guarded("fill", () => store.fillMany!(requests), { model })) ?? requests.map(() => false);
  }

  /** Whether the entry was stored; false on failure. */
  async fill(request: FillRequest, model: string): Promise<boolean> {
    return (await this.guarded("fill", () => this.store.fill(request), { model, key: request.key })) ?? false;
  }

  /** Releases a lease; failures only delay other processes until the lease expires. */
  async release(key: string, lease: string): Promise<void> {
    const store = this.store;
    if (store.release !== undefined) await this.guarded("release", () => store.release!(key, lease), { key });
  }

  /** Write-through (see the store interface): whether the entries were stored; undefined on failure. */
  async writeThrough(request: WriteThroughRequest, model: string): Promise<boolean | undefined> {
    const store = this.store;
    if (store.writeThrough === undefined) return undefined;
    return this.guarded("invalidate", () => store.writeThrough!(request), { model }, store.confirmWaitMs);
  }

  /** Whether the stamps were advanced; false on failure or timeout (the caller then retries). */
  async bump(stamps: readonly string[]): Promise<boolean> {
    return (await this.guarded("invalidate", () => this.store.bump(stamps).then(() => true), {}, this.store.confirmWaitMs)) ?? false;
  }

  /**
   * Runs one store call under the breaker and a deadline of `timeoutMs` (+ `extraMs`, time the operation takes by
   * design, e.g. a tiered store's confirmations) per round trip: the call announces each round trip after its
   * first with `step.nextStep()`. Resolves to `undefined` when the call failed or a round trip was late (reported).
   */
  private async guarded<T>(
    operation: CacheOperation,
    call: (step: Step) => Promise<T>,
    context: { model?: string | (() => string); key?: string | undefined },
    extraMs = 0,
  ): Promise<T | undefined> {
    if (this.breaker?.isOpen) return undefined;
    const ms = this.timeoutMs + extraMs;
    let cancel = () => {};
    let late: (error: Error) => void = () => {};
    const timedOut = new Promise<never>((_, reject) => (late = reject));
    // A plain object rather than an AbortSignal (which costs more than a Redis hit's own work): set when the caller
    // stops waiting, so a store can skip steps nobody will see (and whose effects, a lease say, are undone).
    const step: Step = {
      aborted: false,
      nextStep: () => {
        this.roundTrips++;
        cancel();
        cancel = deadline(ms, () => {
          step.aborted = true;
          late(new CacheStoreError("STORE_TIMEOUT", operation, `${this.store.name} store did not answer ${operation} within ${ms} ms (one round trip)`));
        });
      },
    };
    const started = performance.now();
    step.nextStep();
    try {
      // A store that throws synchronously fails like one that rejects (caught below).
      const result = await Promise.race([call(step), timedOut]);
      this.breaker?.succeeded();
      return result;
    } catch (error) {
      step.aborted = true;
      this.breaker?.failed();
      // The model is worked out only here: a batch's list of models costs more than a hit's own work.
      const model = typeof context.model === "function" ? context.model() : context.model;
      this.report(asStoreError(error, operation), { operation, ...(model && { model }), ...(context.key && { key: context.key }) });
      return undefined;
    } finally {
      cancel();
      this.roundTripMs += performance.now() - started;
    }
  }
}

/** One guarded call's progress: whether the caller stopped waiting, and the start of its next round trip. */
interface Step extends LookupProgress {
  aborted: boolean;
  nextStep(): void;
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
