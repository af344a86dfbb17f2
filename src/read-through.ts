import DataLoader from "dataloader";
import { readDependencies } from "./dependencies.ts";
import type { ErrorReporter } from "./error-reporter.ts";
import { CacheError } from "./errors.ts";
import { canonical, entryKey, entryKeyOf, stampKey } from "./key.ts";
import type { Metrics } from "./metrics.ts";
import type { ModelGraph } from "./model-graph.ts";
import type { ResolvedPolicy } from "./options.ts";
import { copy, decode, encode } from "./serializer.ts";
import type { StoreGuard } from "./store-guard.ts";
import { tokenSource, type FillRequest, type LookupRequest, type LookupResult } from "./stores/store.ts";

/** One cacheable read, keyed and with its dependencies resolved; also its own lookup request (without lease). */
export interface ReadPlan extends LookupRequest {
  model: string;
  operation: string;
  policy: ResolvedPolicy;
}

/** The method of a `Loader`, under a symbol so it cannot clash with anything else the loader object has. */
export const LOAD = Symbol("load");

/** Runs a read's query against the database (an object, not a closure, so a hit allocates nothing for it). */
export interface Loader {
  [LOAD](): Promise<unknown>;
}

interface Flight {
  result: unknown;
  /** The result's encoding, which joiners decode into their own copy; undefined if it could not be encoded. */
  encoded: string | undefined;
}

export interface ReadThroughOptions {
  prefix: string;
  maxEntryBytes: number;
  /** Lease time for a key being loaded (shared stores), ms; 0: no cross-process leases. */
  leaseMs: number;
  /** Longest wait for another process's load before loading too, ms. */
  leaseWaitMs: number;
  /** XFetch β for entries without swr; 0: no early refresh. */
  earlyRefresh: number;
  /** Whether reads must skip the cache (a failed invalidation is still being retried). */
  degraded: () => boolean;
}

/** Most lookups one store round trip carries. */
const MAX_BATCH = 256;
/** Plans, dependency lists and decoded values kept per key; computing them costs more than looking them up. */
const MAX_MEMO = 10_000;
/** Longest encoding whose decoded value is kept for copying, and the most characters of encodings kept in all. */
const MAX_DECODED_CHARS = 64 * 1024;
const MAX_DECODED_TOTAL = 8 * 1024 * 1024;

/**
 * The read path: look the entry up (in-process stores synchronously, others batched per tick into one round
 * trip), serve it when its stamps are current, and otherwise run the database read once per key and fence
 * (concurrent identical misses share it) and fill the entry under the fence taken before that read.
 *
 * Stampedes: in one process, concurrent misses of a key share one load. Across processes sharing a store, the
 * lookup that misses takes the key's lease; the others poll for the entry until it appears, or the lease is given
 * up without one, or `leaseWaitMs` passed, and then load it themselves (never an error). Stale entries within `swr` are served while one refresh runs; fresh entries
 * without swr are refreshed early with XFetch's probability (Vattani et al., VLDB 2015): a read refreshes
 * when `-loadMs · β · ln(U) ≥ time left`, U uniform in (0, 1], which rises as expiry nears and for slow queries.
 */
export class ReadThrough {
  private readonly loader: DataLoader<LookupRequest, LookupResult | undefined>;
  private readonly filler: DataLoader<FillRequest, boolean>;
  private readonly flights = new Map<string, Promise<Flight>>();
  private readonly stampMemo = new Map<string, readonly string[]>();
  private readonly plans = new Map<string, Map<string, Map<string, ReadPlan>>>();
  private readonly decoded = new Map<string, { encoded: string; value: unknown }>();
  private decodedChars = 0;
  private readonly nextToken = tokenSource();
  private readonly hits = new Map<string, number>();

  constructor(
    private readonly guard: StoreGuard,
    private readonly graph: ModelGraph,
    private readonly metrics: Metrics,
    private readonly report: ErrorReporter,
    private readonly options: ReadThroughOptions,
  ) {
    this.loader = new DataLoader(async (requests) => (await this.guard.lookup(requests, modelsOf(requests))) ?? requests.map(() => undefined), {
      cache: false,
      maxBatchSize: MAX_BATCH,
    });
    // The fills of one tick (a burst of misses) go to the store together too.
    this.filler = new DataLoader((requests) => this.guard.fillMany(requests, modelsOf(requests)), { cache: false, maxBatchSize: MAX_BATCH });
  }

  /** Keys a model read and resolves what it depends on. */
  plan(model: string, operation: string, args: unknown, policy: ResolvedPolicy): ReadPlan {
    // Plans are immutable and found by the args' canonical text: the same args under the same policy object (a
    // model's own, or a strategy's) reuse one, without building the key again.
    const text = canonical(args);
    let byText = this.plans.get(model)?.get(operation);
    if (byText === undefined) {
      byText = new Map();
      const byOperation = this.plans.get(model) ?? new Map<string, Map<string, ReadPlan>>();
      byOperation.set(operation, byText);
      this.plans.set(model, byOperation);
    }
    const cached = byText.get(text);
    if (cached !== undefined && cached.policy === policy) return cached;
    const key = entryKeyOf(this.options.prefix, model, operation, text);
    const memoKey = policy.tags.length === 0 ? key : `${key}\n${policy.tags.join("\n")}`;
    let stamps = cached !== undefined && cached.policy.tags === policy.tags ? cached.stamps : this.stampMemo.get(memoKey);
    if (stamps === undefined) {
      stamps = this.stampKeys(readDependencies(this.graph, model, operation, args, policy.tags));
      if (this.stampMemo.size >= MAX_MEMO) this.stampMemo.clear();
      this.stampMemo.set(memoKey, stamps);
    }
    const plan = { model, operation, key, stamps, lifeMs: policy.ttlMs + policy.swrMs, policy };
    if (byText.size >= MAX_MEMO) byText.clear();
    byText.set(text, plan);
    return plan;
  }

  /** Keys a read whose dependencies the caller computed (raw queries). */
  customPlan(model: string, operation: string, args: unknown, dependencies: readonly string[], policy: ResolvedPolicy): ReadPlan {
    const key = entryKey(this.options.prefix, model, operation, args);
    return { model, operation, key, stamps: this.stampKeys(dependencies), lifeMs: policy.ttlMs + policy.swrMs, policy };
  }

  private stampKeys(dependencies: readonly string[]): string[] {
    return dependencies.map((stamp) => stampKey(this.options.prefix, stamp));
  }

  /** The read's result, from the cache when possible; `source` runs the query against the database. */
  read(plan: ReadPlan, source: Loader): Promise<unknown> {
    if (this.options.degraded()) {
      this.metrics.count("bypasses");
      return source[LOAD]();
    }
    // In-process tiers answer synchronously when they can: a hit then costs no promise and no batching delay.
    const local = this.guard.lookupNow(plan, plan.model);
    if (local !== undefined) return this.answer(plan, plan, local, source, true);
    const request = this.lookupRequest(plan);
    return this.lookup(plan, request).then((found) => this.answer(plan, request, found, source, false));
  }

  /** Hits of each entry (key and fence) in this process, for refresh-ahead. */
  private heat(plan: ReadPlan, found: LookupResult): number {
    const id = `${plan.key}\n${found.fence}`;
    const hits = (this.hits.get(id) ?? 0) + 1;
    if (this.hits.size >= MAX_MEMO) this.hits.clear();
    this.hits.set(id, hits);
    return hits;
  }

  /** The plan as a store lookup, asking for the key's lease where the store shares it with other processes. */
  private lookupRequest(plan: ReadPlan): LookupRequest {
    if (this.options.leaseMs === 0 || this.guard.store.release === undefined) return plan;
    return { key: plan.key, stamps: plan.stamps, lifeMs: plan.lifeMs, lease: { token: this.nextToken(), ms: this.options.leaseMs } };
  }

  /** Looks up through the batch loader; on failure, frees the lease the lookup may still take. */
  private async lookup(plan: ReadPlan, request: LookupRequest): Promise<LookupResult | undefined> {
    const found = plan.policy.batch ? await this.loader.load(request) : (await this.guard.lookup([request], plan.model))?.[0];
    if (found === undefined && request.lease) void this.guard.release(plan.key, request.lease.token);
    return found;
  }

  private answer(plan: ReadPlan, request: LookupRequest, found: LookupResult | undefined, source: Loader, local: boolean): Promise<unknown> {
    if (found === undefined) return source[LOAD](); // the store failed (already reported): the database answers
    const lease = found.leased ? request.lease?.token : undefined;
    if (found.value === undefined) return this.miss(plan, found, lease, source);
    let value: unknown;
    try {
      value = this.decodeHit(plan.key, found.value);
    } catch (error) {
      this.report(error, { operation: "decode", model: plan.model, key: plan.key });
      return this.miss(plan, found, lease, source);
    }
    const freshForMs = found.freshForMs ?? Infinity;
    const stale = freshForMs <= 0;
    this.metrics.hit(plan.model, stale, local);
    if (stale ? !found.leaseBusy : this.refreshesEarly(plan, found, freshForMs)) this.refresh(plan, found, lease, source);
    else if (lease !== undefined) void this.guard.release(plan.key, lease);
    return Promise.resolve(value);
  }

  /**
   * A fresh copy of a hit's value. The last decoded value of each key is kept, and while the store keeps returning
   * the same encoding, hits copy it instead of decoding again (a copy is several times cheaper than JSON.parse).
   */
  private decodeHit(key: string, encoded: string): unknown {
    const known = this.decoded.get(key);
    if (known !== undefined && known.encoded === encoded) return copy(known.value);
    const value = decode(encoded);
    if (encoded.length <= MAX_DECODED_CHARS) {
      if (this.decoded.size >= MAX_MEMO || this.decodedChars > MAX_DECODED_TOTAL) {
        this.decoded.clear();
        this.decodedChars = 0;
      }
      this.decoded.set(key, { encoded, value: copy(value) });
      this.decodedChars += encoded.length;
    }
    return value;
  }

  /** Refresh-ahead of hot entries, else XFetch's probabilistic early refresh (entries without swr). */
  private refreshesEarly(plan: ReadPlan, found: LookupResult, freshForMs: number): boolean {
    const { refreshAhead, hotThreshold, ttlMs, swrMs } = plan.policy;
    if (refreshAhead > 0 && this.heat(plan, found) >= hotThreshold && freshForMs <= refreshAhead * ttlMs) return true;
    const beta = this.options.earlyRefresh;
    if (beta === 0 || swrMs > 0 || !found.loadMs) return false;
    return -found.loadMs * beta * Math.log(1 - Math.random()) >= freshForMs;
  }

  private miss(plan: ReadPlan, found: LookupResult, lease: string | undefined, source: Loader): Promise<unknown> {
    this.metrics.miss(plan.model);
    const joined = this.flights.get(`${plan.key}\n${found.fence}`);
    if (joined !== undefined) {
      // This lookup took the lease, but a load in this process already runs: let other processes' waiters go.
      if (lease !== undefined) void this.guard.release(plan.key, lease);
      // Same key and same fence: no write has been applied since that load began, so its result is as fresh.
      return joined.then((flight) => (flight.encoded === undefined ? source[LOAD]() : decode(flight.encoded)));
    }
    return this.fly(plan, found, lease, source).then((flight) => flight.result);
  }

  /** Refreshes an entry in the background, once per key and fence in this process. */
  private refresh(plan: ReadPlan, found: LookupResult, lease: string | undefined, source: Loader): void {
    if (this.flights.has(`${plan.key}\n${found.fence}`)) {
      if (lease !== undefined) void this.guard.release(plan.key, lease);
      return;
    }
    this.fly(plan, found, lease, source).catch((error) =>
      this.report(new CacheError("REFRESH_FAILED", `background refresh of ${plan.model}.${plan.operation} failed: ${(error as Error)?.message}`, { cause: error }), {
        operation: "refresh",
        model: plan.model,
        key: plan.key,
      }),
    );
  }

  private fly(plan: ReadPlan, found: LookupResult, lease: string | undefined, source: Loader): Promise<Flight> {
    const id = `${plan.key}\n${found.fence}`;
    const flight = this.resolve(plan, found, lease, source);
    this.flights.set(id, flight);
    const land = () => this.flights.delete(id);
    flight.then(land, land);
    return flight;
  }

  /** Loads the entry, or waits for the process holding its lease to do so. */
  /**
   * Loads the entry, or first waits while another process holds its lease: until the entry appears, or the lease
   * is gone without one (its load was refused by a write, or it failed), or `leaseWaitMs` passed. Then it loads
   * itself, without a lease: waiters queueing for the lease one by one would only serialize them.
   */
  private async resolve(plan: ReadPlan, found: LookupResult, lease: string | undefined, source: Loader): Promise<Flight> {
    let current = found;
    if (current.leaseBusy && current.value === undefined) {
      const deadline = performance.now() + this.options.leaseWaitMs;
      const peek: LookupRequest = { key: plan.key, stamps: plan.stamps, lifeMs: plan.lifeMs, lease: { token: "", ms: 0 } };
      for (let pollMs = 2; current.leaseBusy && current.value === undefined && performance.now() < deadline; pollMs = Math.min(pollMs * 2, 25)) {
        await delay(pollMs);
        const next = await this.lookup(plan, peek);
        if (next === undefined) break; // the store failed: load without it
        current = next;
      }
      if (current.value !== undefined) {
        try {
          return { result: decode(current.value), encoded: current.value };
        } catch {
          // fall through to loading it ourselves
        }
      }
    }
    return this.loadAndFill(plan, current.fence, lease, source);
  }

  private async loadAndFill(plan: ReadPlan, fence: string, lease: string | undefined, source: Loader): Promise<Flight> {
    let filling = false;
    try {
      const started = performance.now();
      const result = await source[LOAD]();
      const loadMs = performance.now() - started;
      let encoded: string;
      try {
        // Encoded before the caller sees the result, so a caller mutating it cannot change what is cached.
        encoded = encode(result);
      } catch (error) {
        this.report(new CacheError("SERIALIZE_FAILED", `cannot cache this ${plan.model}.${plan.operation} result: ${(error as Error).message}`, { cause: error }), {
          operation: "encode",
          model: plan.model,
          key: plan.key,
        });
        return { result, encoded: undefined };
      }
      if (exceeds(encoded, this.options.maxEntryBytes)) {
        this.metrics.count("oversize");
        return { result, encoded };
      }
      const { ttlMs, swrMs } = plan.policy;
      filling = true;
      const fill: FillRequest = { key: plan.key, stamps: plan.stamps, fence, value: encoded, ttlMs, swrMs, loadMs, ...(lease && { lease }) };
      const stored = await (plan.policy.batch && this.guard.store.fillMany ? this.filler.load(fill) : this.guard.fill(fill, plan.model));
      this.metrics.count(stored ? "fills" : "fillsRefused");
      // Refresh-ahead counts reads of what is stored now.
      if (stored) this.hits.delete(`${plan.key}\n${fence}`);
      return { result, encoded };
    } finally {
      // The fill releases the lease itself; otherwise let waiting processes go now rather than at its expiry.
      if (lease !== undefined && !filling) void this.guard.release(plan.key, lease);
    }
  }
}

/** The models a batch of lookups is for, for error reports (keys are `{prefix}:e:<Model>:...`). */
function modelsOf(requests: readonly { key: string }[]): string {
  return [...new Set(requests.map((request) => request.key.split(":")[2]))].join(",");
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exceeds(text: string, maxBytes: number): boolean {
  // UTF-8 takes 1 to 3 bytes per UTF-16 unit: measure only when the length alone cannot decide.
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  return Buffer.byteLength(text) > maxBytes;
}
