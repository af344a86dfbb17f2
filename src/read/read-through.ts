import DataLoader from "dataloader";
import { DEFAULTS } from "../defaults.ts";
import { inSelectionOrder } from "./selection-order.ts";
import { CacheError, messageOf, type ErrorReporter } from "../errors.ts";
import type { Metrics } from "../metrics.ts";
import { channels, type FillEvent, type ReadEvent } from "../observe/channels.ts";
import { noteBypass, noteHit, noteMiss, REASONS } from "../observe/read-record.ts";
import type { GuardedStore } from "../stores/guarded-store.ts";
import type { FillRequest, LookupRequest, LookupResult } from "../stores/store.ts";
import { EarlyRefresh } from "./early-refresh.ts";
import type { EntryTtl } from "./entry-ttl.ts";
import { type Flight, Flights, flightId } from "./flights.ts";
import { HitCopies } from "./hit-copies.ts";
import { modelOfKey } from "./keys.ts";
import { Leases } from "./leases.ts";
import type { ReadPlan } from "./plans.ts";
import type { ReadObserver } from "./read-observer.ts";
import type { Serializer } from "./serializer.ts";

/** The method of a `Loader`, under a symbol so it cannot clash with anything else the loader object has. */
export const LOAD = Symbol("load");

/** Runs a read's query against the database (an object, not a closure, so a hit allocates nothing for it). */
export interface Loader {
  [LOAD](): Promise<unknown>;
  /** The read's arguments, when they have a selection whose order the stored entry must follow. */
  readonly [ARGS]?: unknown;
  /** Whether Prisma may have merged the last load with another call of its tick (unique-loads.ts). */
  readonly [MERGED]?: boolean;
  /** The read's event, when someone observes it (observe/): the read path writes down how it went. */
  readonly [EVENT]?: ReadEvent | undefined;
}

/** The event of a `Loader`, under a symbol for the same reason as `LOAD`. */
export const EVENT = Symbol("event");

/** The arguments of a `Loader`, under a symbol for the same reason as `LOAD`. */
export const ARGS = Symbol("args");

/** Whether a `Loader`'s last load may have been merged, under a symbol for the same reason as `LOAD`. */
export const MERGED = Symbol("merged");

export interface ReadThroughOptions {
  maxEntryBytes: number;
  /** Lease time for a key being loaded (shared stores), ms; 0: no cross-process leases. */
  leaseMs: number;
  /** Longest wait for another process's load before loading too, ms. */
  leaseWaitMs: number;
  /** XFetch β for entries without swr; 0: no early refresh. */
  earlyRefresh: number;
  /** Whether reads must skip the cache (a failed invalidation is still being retried). */
  degraded: () => boolean;
  /** Chooses each fill's TTL (ttl functions, adaptive TTL); without it, the policy's. */
  ttl?: EntryTtl;
  /** Told of every hit, miss and load (reports, hot reads); none by default. */
  observer?: ReadObserver;
}

/**
 * The read path (docs/read-path.md): look the entry up (in-process stores synchronously, others batched per tick
 * into one round trip), serve it when its stamps are current, and otherwise run the database read once per key and
 * fence (flights.ts; across processes, leases.ts) and fill the entry under the fence taken before that read. Stale
 * entries within `swr` are served while one refresh runs; fresh ones may be refreshed early (early-refresh.ts).
 */
export class ReadThrough {
  private readonly loader: DataLoader<LookupRequest, LookupResult | undefined>;
  private readonly filler: DataLoader<FillRequest, boolean>;
  private readonly flights = new Flights();
  private readonly leases: Leases;
  private readonly early: EarlyRefresh;
  private readonly copies: HitCopies;
  /**
   * Fills sent and not yet answered, by entry key. A read returns as soon as its load is encoded; its fill goes on
   * (sent before the read returns, so a later lookup on the same connection finds it). A read of this process for a
   * key being filled waits for that fill first, so it finds the entry (in L1 too) rather than loading again.
   */
  private readonly pendingFills = new Map<string, Promise<void>>();
  /** Every fill not answered yet (two of one key can overlap: a refresh beside a miss), for `settled()`. */
  private readonly fillsInFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: GuardedStore,
    private readonly serializer: Serializer,
    private readonly metrics: Metrics,
    private readonly report: ErrorReporter,
    private readonly options: ReadThroughOptions,
  ) {
    const { maxBatch, maxMemoEntries, maxCopiedChars, maxCopiedTotalChars, leasePollFirstMs, leasePollMaxMs } = DEFAULTS.limits;
    // Each load settles with its own answer: DataLoader resolves a load with its element, adopting a promise, so a
    // hit of the batch's first round trip goes on while the batch's misses take their further steps.
    this.loader = new DataLoader(async (requests) => this.store.lookupEach(requests, () => modelsOf(requests)) as unknown as (LookupResult | undefined)[], {
      cache: false,
      maxBatchSize: maxBatch,
    });
    // The fills of one tick (a burst of misses) go to the store together too.
    this.filler = new DataLoader((requests) => this.store.fillMany(requests, () => modelsOf(requests)), { cache: false, maxBatchSize: maxBatch });
    this.leases = new Leases(store, { leaseMs: options.leaseMs, leaseWaitMs: options.leaseWaitMs, pollFirstMs: leasePollFirstMs, pollMaxMs: leasePollMaxMs });
    this.early = new EarlyRefresh(options.earlyRefresh, maxMemoEntries);
    this.copies = new HitCopies(serializer, { maxEntries: maxMemoEntries, maxChars: maxCopiedChars, maxTotalChars: maxCopiedTotalChars });
  }

  /**
   * The read's result, from the cache when possible; `source` runs the query against the database. With `refresh`
   * (`cacheStrategy: { refresh: true }`) the entry is not served: the database answers and its result is stored.
   */
  read(plan: ReadPlan, source: Loader, refresh = false): Promise<unknown> {
    if (this.options.degraded()) {
      this.metrics.count("bypasses");
      const event = source[EVENT];
      if (event) noteBypass(event, REASONS.degraded);
      return source[LOAD]();
    }
    if (refresh) return this.reload(plan, source);
    // In-process tiers answer synchronously when they can: a hit then costs no promise and no batching delay.
    const local = this.store.lookupNow(plan, plan.model);
    const spelling = plan.spelling;
    if (spelling === undefined) {
      if (local !== undefined) return this.answer(plan, plan, local, source, true);
      const filling = this.pendingFills.get(plan.key);
      if (filling !== undefined) return filling.then(() => this.read(plan, source));
      const request = this.leases.request(plan);
      return this.lookup(plan, request).then((found) => this.answer(plan, request, found, source, false));
    }
    if (local?.value !== undefined) return this.answer(plan, plan, local, source, true);
    const looseLocal = local === undefined ? undefined : this.store.lookupNow(spelling.loose, plan.model);
    if (local !== undefined && looseLocal !== undefined) return this.answerEither(plan, plan, local, looseLocal, source, true);
    const filling = this.pendingFills.get(plan.key) ?? this.pendingFills.get(spelling.loose.key);
    if (filling !== undefined) return filling.then(() => this.read(plan, source));
    const request = this.leases.request(plan);
    return this.lookupBoth(plan, request, spelling.loose).then(([found, loose]) => this.answerEither(plan, request, found, loose, source, false));
  }

  /**
   * A refresh: the lookup only takes the fence (and lease) the fill needs; the load runs whether or not an entry or
   * another load exists, so the result is read after the call began. Counted as a miss.
   */
  private async reload(plan: ReadPlan, source: Loader): Promise<unknown> {
    const request = this.leases.request(plan);
    const [found, loose] = plan.spelling === undefined ? [await this.lookup(plan, request)] : await this.lookupBoth(plan, request, plan.spelling.loose);
    if (found === undefined) return source[LOAD]();
    this.metrics.miss(plan.model);
    return (await this.loadAndFill(plan, found.fence, found.leased ? request.lease?.token : undefined, source, loose?.fence)).result;
  }

  /** Looks up through the batch loader; on failure, frees the lease the lookup may still take. */
  private async lookup(plan: ReadPlan, request: LookupRequest): Promise<LookupResult | undefined> {
    const found = plan.policy.batch ? await this.loader.load(request) : (await this.store.lookup([request], plan.model))[0];
    if (found === undefined) this.leases.release(plan.key, request.lease?.token);
    return found;
  }

  /** Looks up a spelling-sensitive lookup's exact and loose entries in one round trip. */
  private async lookupBoth(plan: ReadPlan, request: LookupRequest, loose: LookupRequest): Promise<(LookupResult | undefined)[]> {
    const found = plan.policy.batch ? await Promise.all([this.loader.load(request), this.loader.load(loose)]) : await this.store.lookup([request, loose], plan.model);
    if (found[0] === undefined) this.leases.release(plan.key, request.lease?.token);
    return found;
  }

  /** Serves whichever of a spelling-sensitive lookup's entries is stored; on a miss, loads with both fences. */
  private answerEither(plan: ReadPlan, request: LookupRequest, found: LookupResult | undefined, loose: LookupResult | undefined, source: Loader, local: boolean): Promise<unknown> {
    if (found === undefined || found.value !== undefined || loose === undefined) return this.answer(plan, request, found, source, local);
    if (loose.value === undefined) return this.answer(plan, request, found, source, local, loose.fence);
    // The loose entry answers: the lease on the exact key is not needed.
    if (found.leased) this.leases.release(plan.key, request.lease?.token);
    return this.answer(plan.spelling!.loose, plan.spelling!.loose, loose, source, local);
  }

  private answer(plan: ReadPlan, request: LookupRequest, found: LookupResult | undefined, source: Loader, local: boolean, looseFence?: string): Promise<unknown> {
    const event = source[EVENT];
    if (found === undefined) {
      // The store failed (already reported): the database answers.
      if (event) noteBypass(event, REASONS.storeFailed);
      return source[LOAD]();
    }
    const lease = found.leased ? request.lease?.token : undefined;
    // An entry past this call's ttl + swr can still be in the store for a moment (Redis expires it by its own
    // clock, freshness is the app's): it is a miss, never a stale answer the call did not allow.
    if (found.value === undefined || (found.freshForMs ?? Infinity) + plan.policy.swrMs <= 0) {
      if (event) noteMiss(event, plan, found.fence, found.value === undefined ? REASONS.noEntry : REASONS.expired);
      return this.miss(plan, found, lease, source, looseFence);
    }
    let value: unknown;
    try {
      value = this.copies.value(plan.key, found.value);
    } catch (error) {
      this.report(new CacheError("DECODE_FAILED", `cannot decode the cached ${plan.model}.${plan.operation} entry: ${messageOf(error)}`, { cause: error }), {
        operation: "decode",
        model: plan.model,
        key: plan.key,
      });
      if (event) noteMiss(event, plan, found.fence, REASONS.undecodable);
      return this.miss(plan, found, lease, source, looseFence);
    }
    const freshForMs = found.freshForMs ?? Infinity;
    const stale = freshForMs <= 0;
    this.metrics.hit(plan.model, stale, local);
    if (event) noteHit(event, plan, found.fence, freshForMs, local);
    this.options.observer?.hit(plan, source, found.value.length, local);
    if (stale && channels.stale.hasSubscribers) channels.stale.publish({ model: plan.model, operation: plan.operation, key: plan.key, staleForMs: -freshForMs });
    if (stale ? !found.leaseBusy : this.early.due(plan, found, freshForMs)) {
      if (channels.refresh.hasSubscribers) channels.refresh.publish({ model: plan.model, operation: plan.operation, key: plan.key, reason: stale ? "stale" : "early" });
      this.refresh(plan, found, lease, source);
    } else if (lease !== undefined) this.leases.release(plan.key, lease);
    return Promise.resolve(value);
  }

  private miss(plan: ReadPlan, found: LookupResult, lease: string | undefined, source: Loader, looseFence?: string): Promise<unknown> {
    this.metrics.miss(plan.model);
    this.options.observer?.miss(plan, source);
    const joined = this.flights.get(flightId(plan.key, found.fence));
    if (joined !== undefined) {
      // This lookup took the lease, but a load in this process already runs: let other processes' waiters go.
      this.leases.release(plan.key, lease);
      return joined.then((flight) => (flight.encoded === undefined ? source[LOAD]() : this.serializer.decode(flight.encoded)));
    }
    return this.fly(plan, found, lease, source, looseFence).then((flight) => flight.result);
  }

  /** Refreshes an entry in the background, once per key and fence in this process. */
  private refresh(plan: ReadPlan, found: LookupResult, lease: string | undefined, source: Loader): void {
    if (this.flights.has(flightId(plan.key, found.fence))) {
      this.leases.release(plan.key, lease);
      return;
    }
    this.options.observer?.refresh(plan);
    this.fly(plan, found, lease, source).catch((error) =>
      this.report(new CacheError("REFRESH_FAILED", `background refresh of ${plan.model}.${plan.operation} failed: ${messageOf(error)}`, { cause: error }), {
        operation: "refresh",
        model: plan.model,
        key: plan.key,
      }),
    );
  }

  private fly(plan: ReadPlan, found: LookupResult, lease: string | undefined, source: Loader, looseFence?: string): Promise<Flight> {
    return this.flights.start(flightId(plan.key, found.fence), () => this.resolve(plan, found, lease, source, looseFence));
  }

  /**
   * Loads the entry, or first waits while another process holds its lease (leases.ts). Then it loads itself, without
   * a lease: waiters queueing for the lease one by one would only serialize them.
   */
  private async resolve(plan: ReadPlan, found: LookupResult, lease: string | undefined, source: Loader, looseFence?: string): Promise<Flight> {
    let current = found;
    if (current.leaseBusy && current.value === undefined) {
      current = await this.leases.waitForOther(plan, current, (peek) => this.lookup(plan, peek));
      if (current.value !== undefined) {
        try {
          return { result: this.serializer.decode(current.value), encoded: current.value };
        } catch {
          // fall through to loading it ourselves
        }
      }
    }
    // An entry still there (a refresh, or one past its swr) is being replaced: its refill teaches adaptive TTL.
    return this.loadAndFill(plan, current.fence, lease, source, looseFence, current.value !== undefined);
  }

  /**
   * Loads and fills under the fence taken before the load. A spelling-sensitive lookup fills its exact entry only
   * when the row found stores the lookup's own spelling (its row stamp is the one writes advance), else its loose
   * entry under the loose fence (without one, e.g. a refresh of a stale exact hit, nothing is filled). Resolves once
   * the result is encoded: the fill is sent by then and goes on in the background (`pendingFills`).
   */
  private loadAndFill(plan: ReadPlan, fence: string, lease: string | undefined, source: Loader, looseFence?: string, replacing = false): Promise<Flight> {
    if (!channels.fill.hasSubscribers) return this.loadAndStartFill(plan, fence, lease, source, looseFence, replacing, undefined);
    const { model, operation, key, stamps, policy } = plan;
    const event: FillEvent = { model, operation, key, stamps, fence, ttlMs: policy.ttlMs, swrMs: policy.swrMs };
    // The fill's trace lasts until the fill is answered, which may be after the read returned.
    let loading!: Promise<Flight>;
    channels.fill
      .tracePromise(() => {
        loading = this.loadAndStartFill(plan, fence, lease, source, looseFence, replacing, event);
        return loading.then((flight) => flight.filled);
      }, event)
      .catch(() => {});
    return loading;
  }

  private async loadAndStartFill(
    plan: ReadPlan,
    fence: string,
    lease: string | undefined,
    source: Loader,
    looseFence: string | undefined,
    replacing: boolean,
    event: FillEvent | undefined,
  ): Promise<Flight> {
    let fill: FillRequest | undefined;
    try {
      const started = performance.now();
      const result = await source[LOAD]();
      const loadMs = performance.now() - started;
      if (event) event.loadMs = loadMs;
      this.options.observer?.loaded(plan, loadMs);
      let encoded: string;
      try {
        // Encoded before the caller sees the result, so a caller mutating it cannot change what is cached.
        encoded = this.serializer.encode(inSelectionOrder(result, source[ARGS]));
      } catch (error) {
        this.report(new CacheError("SERIALIZE_FAILED", `cannot cache this ${plan.model}.${plan.operation} result: ${messageOf(error)}`, { cause: error }), {
          operation: "encode",
          model: plan.model,
          key: plan.key,
        });
        if (event) event.outcome = "unencodable";
        return { result, encoded: undefined };
      }
      if (exceeds(encoded, this.options.maxEntryBytes)) {
        this.metrics.count("oversize");
        if (event) event.outcome = "oversize";
        return { result, encoded };
      }
      // A null Prisma's merge may have made for another spelling's call is not this lookup's answer (unique-loads.ts).
      if (result === null && plan.spelling !== undefined && source[MERGED] === true) return { result, encoded };
      const exact = plan.spelling === undefined || plan.spelling.storesSpelling(result);
      const swrMs = plan.policy.swrMs;
      // Chosen once per fill: a ttl function sees each stored result once, never a hit.
      const ttlMs = exact || looseFence !== undefined ? (this.options.ttl?.of(plan, result, source[ARGS], encoded, replacing) ?? plan.policy.ttlMs) : 0;
      // Nothing to fill: another spelling's answer without its loose fence (a refresh), or a ttl of 0.
      if ((!exact && looseFence === undefined) || ttlMs + swrMs <= 0) {
        if (event) event.outcome = "not-stored";
        return { result, encoded };
      }
      // The lease stays on the exact key when the loose entry is filled: released below, it lets waiting processes
      // load for themselves.
      fill = exact
        ? { key: plan.key, stamps: plan.stamps, fence, value: encoded, ttlMs, swrMs, loadMs, ...(lease && { lease }) }
        : { key: plan.spelling!.loose.key, stamps: plan.spelling!.loose.stamps, fence: looseFence!, value: encoded, ttlMs, swrMs, loadMs };
      return { result, encoded, filled: this.startFill(plan, fill, event) };
    } finally {
      // A fill with the lease releases it itself; otherwise let waiting processes go now rather than at its expiry.
      if (fill?.lease === undefined) this.leases.release(plan.key, lease);
    }
  }

  /** Sends a fill and, when it is answered, counts it; until then, this process's lookups of the key wait for it. */
  private startFill(plan: ReadPlan, fill: FillRequest, event: FillEvent | undefined): Promise<void> {
    const sent = plan.policy.batch && this.store.store.fillMany ? this.filler.load(fill) : this.store.fill(fill, plan.model);
    const filled = sent
      .then((stored) => {
        this.metrics.count(stored ? "fills" : "fillsRefused");
        if (!stored) this.options.ttl?.refused(plan);
        if (event) {
          event.outcome = stored ? "stored" : "refused";
          event.key = fill.key;
          event.stamps = fill.stamps;
          event.fence = fill.fence;
        }
        if (!stored && channels.fillRefused.hasSubscribers) channels.fillRefused.publish({ model: plan.model, operation: plan.operation, key: fill.key });
        // Refresh-ahead counts reads of what is stored now.
        if (stored) this.early.forget(fill.key, fill.fence);
      })
      // The guarded store reports its own failures; this only keeps a failed count from surfacing unhandled.
      .catch((error: unknown) =>
        this.report(new CacheError("INTERNAL", `after filling ${plan.model}.${plan.operation}: ${messageOf(error)}`, { cause: error }), {
          operation: "fill",
          model: plan.model,
          key: fill.key,
        }),
      )
      .finally(() => {
        this.fillsInFlight.delete(filled);
        if (this.pendingFills.get(fill.key) === filled) this.pendingFills.delete(fill.key);
      });
    this.pendingFills.set(fill.key, filled);
    this.fillsInFlight.add(filled);
    return filled;
  }

  /** Resolves once every fill sent so far is answered (fills sent meanwhile are not waited for). */
  async settled(): Promise<void> {
    await Promise.all([...this.fillsInFlight]);
  }
}

/** The models a batch of lookups is for, for error reports. */
function modelsOf(requests: readonly { key: string }[]): string {
  return [...new Set(requests.map((request) => modelOfKey(request.key)))].join(",");
}

function exceeds(text: string, maxBytes: number): boolean {
  // UTF-8 takes 1 to 3 bytes per UTF-16 unit: measure only when the length alone cannot decide.
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  return Buffer.byteLength(text) > maxBytes;
}
