import DataLoader from "dataloader";
import { readDependencies } from "./dependencies.ts";
import type { ErrorReporter } from "./error-reporter.ts";
import { CacheError } from "./errors.ts";
import { entryKey, stampKey } from "./key.ts";
import type { Metrics } from "./metrics.ts";
import type { ModelGraph } from "./model-graph.ts";
import type { ResolvedPolicy } from "./options.ts";
import { decode, encode } from "./serializer.ts";
import type { StoreGuard } from "./store-guard.ts";
import type { LookupRequest, LookupResult } from "./stores/store.ts";

/** One cacheable read, keyed and with its dependencies resolved. */
export interface ReadPlan {
  model: string;
  operation: string;
  key: string;
  stamps: readonly string[];
  policy: ResolvedPolicy;
}

interface Flight {
  result: unknown;
  /** The result's encoding, which joiners decode into their own copy; undefined if it could not be encoded. */
  encoded: string | undefined;
}

export interface ReadThroughOptions {
  prefix: string;
  maxEntryBytes: number;
  /** Whether reads must skip the cache (a failed invalidation is still being retried). */
  degraded: () => boolean;
}

/** Most lookups one store round trip carries. */
const MAX_BATCH = 256;
/** Dependency lists kept per key; computing them walks the args, looking them up does not. */
const MAX_MEMO = 10_000;

/**
 * The read path: look the entry up (in-process stores synchronously, others batched per tick into one round
 * trip), serve it when its stamps are current, and otherwise run the database read once per key and fence
 * (concurrent identical misses share it) and fill the entry under the fence taken before that read.
 */
export class ReadThrough {
  private readonly loader: DataLoader<LookupRequest, LookupResult | undefined>;
  private readonly flights = new Map<string, Promise<Flight>>();
  private readonly stampMemo = new Map<string, readonly string[]>();

  constructor(
    private readonly guard: StoreGuard,
    private readonly graph: ModelGraph,
    private readonly metrics: Metrics,
    private readonly report: ErrorReporter,
    private readonly options: ReadThroughOptions,
  ) {
    this.loader = new DataLoader(async (requests) => (await this.guard.lookup(requests)) ?? requests.map(() => undefined), {
      cache: false,
      maxBatchSize: MAX_BATCH,
    });
  }

  /** Keys the read and resolves what it depends on. */
  plan(model: string, operation: string, args: unknown, policy: ResolvedPolicy): ReadPlan {
    const key = entryKey(this.options.prefix, model, operation, args);
    const memoKey = policy.tags.length === 0 ? key : `${key}\n${policy.tags.join("\n")}`;
    let stamps = this.stampMemo.get(memoKey);
    if (stamps === undefined) {
      stamps = readDependencies(this.graph, model, operation, args, policy.tags).map((stamp) => stampKey(this.options.prefix, stamp));
      if (this.stampMemo.size >= MAX_MEMO) this.stampMemo.clear();
      this.stampMemo.set(memoKey, stamps);
    }
    return { model, operation, key, stamps, policy };
  }

  /** The read's result, from the cache when possible. `load` runs the query against the database. */
  read(plan: ReadPlan, load: () => Promise<unknown>): Promise<unknown> {
    if (this.options.degraded()) {
      this.metrics.count("bypasses");
      return load();
    }
    const request: LookupRequest = { key: plan.key, stamps: plan.stamps, lifeMs: plan.policy.ttlMs + plan.policy.swrMs };
    if (this.guard.store.lookupNow !== undefined) {
      return this.answer(plan, this.guard.lookupNow(request, plan.model), load);
    }
    return this.loader.load(request).then((found) => this.answer(plan, found, load));
  }

  private answer(plan: ReadPlan, found: LookupResult | undefined, load: () => Promise<unknown>): Promise<unknown> {
    if (found === undefined) return load(); // the store failed (already reported): the database answers
    if (found.value !== undefined) {
      const stale = found.freshForMs !== undefined && found.freshForMs <= 0;
      let value: unknown;
      try {
        value = decode(found.value);
      } catch (error) {
        this.report(error, { operation: "decode", model: plan.model, key: plan.key });
        return this.miss(plan, found.fence, load);
      }
      this.metrics.hit(plan.model, stale);
      if (stale) this.refresh(plan, found.fence, load);
      return Promise.resolve(value);
    }
    return this.miss(plan, found.fence, load);
  }

  private miss(plan: ReadPlan, fence: string, load: () => Promise<unknown>): Promise<unknown> {
    this.metrics.miss(plan.model);
    const id = `${plan.key}\n${fence}`;
    const joined = this.flights.get(id);
    if (joined !== undefined) {
      // Same key and same fence: no write has been applied since that load began, so its result is as fresh.
      return joined.then((flight) => (flight.encoded === undefined ? load() : decode(flight.encoded)));
    }
    return this.fly(id, plan, fence, load).then((flight) => flight.result);
  }

  /** Stale within swr: serve it, and refresh it once in the background (joining a refresh already running). */
  private refresh(plan: ReadPlan, fence: string, load: () => Promise<unknown>): void {
    const id = `${plan.key}\n${fence}`;
    if (this.flights.has(id)) return;
    this.fly(id, plan, fence, load).catch((error) => this.report(error, { operation: "refresh", model: plan.model, key: plan.key }));
  }

  private fly(id: string, plan: ReadPlan, fence: string, load: () => Promise<unknown>): Promise<Flight> {
    const flight = this.loadAndFill(plan, fence, load);
    this.flights.set(id, flight);
    const land = () => this.flights.delete(id);
    flight.then(land, land);
    return flight;
  }

  private async loadAndFill(plan: ReadPlan, fence: string, load: () => Promise<unknown>): Promise<Flight> {
    const started = performance.now();
    const result = await load();
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
    const stored = await this.guard.fill({ key: plan.key, stamps: plan.stamps, fence, value: encoded, ttlMs, swrMs, loadMs }, plan.model);
    this.metrics.count(stored ? "fills" : "fillsRefused");
    return { result, encoded };
  }
}

function exceeds(text: string, maxBytes: number): boolean {
  // UTF-8 takes 1 to 3 bytes per UTF-16 unit: measure only when the length alone cannot decide.
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  return Buffer.byteLength(text) > maxBytes;
}
