import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import type { ErrorReporter } from "../../src/errors.ts";
import type { CacheError, CacheErrorContext } from "../../src/errors.ts";
import { entryKey } from "../../src/read/keys.ts";
import { PlanCache } from "../../src/read/plans.ts";
import { stampKey } from "../../src/stamps/names.ts";
import { Metrics } from "../../src/metrics.ts";
import { graphFromSchema } from "../../src/schema/model-graph.ts";
import { resolveOptions, type ResolvedPolicy } from "../../src/options.ts";
import { LOAD, ReadThrough } from "../../src/read/read-through.ts";
import { Serializer } from "../../src/read/serializer.ts";

const encode = (value: unknown): string => new Serializer().encode(value);
import { GuardedStore } from "../../src/stores/guarded-store.ts";
import { MemoryStore } from "../../src/stores/memory-store.ts";
import type { CacheStore, FillRequest, LookupRequest, LookupResult } from "../../src/stores/store.ts";
import { deferred, type Deferred } from "../support/deferred.ts";

const graph = graphFromSchema(cacheSchema);
/** A policy with the plugin's defaults for everything a test does not set. */
const policyOf = (overrides: Partial<ResolvedPolicy>): ResolvedPolicy => ({ ...resolveOptions().defaultPolicy, ...overrides });
const POLICY = policyOf({ ttlMs: 60_000, swrMs: 0, tags: [] });
const BY_ID = { where: { id: 1 } };

/** Lets every pending promise callback run (one macrotask turn; timers stay real in these tests). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A database stand-in: each call returns the next queued answer, or a fresh copy of `value`. */
function database(value: () => unknown = () => ({ id: 1, email: "a@x.io", createdAt: new Date(0) })) {
  const pending: Deferred<unknown>[] = [];
  const db = {
    calls: 0,
    /** When set, each load waits for the test to settle it. */
    manual: false,
    pending,
    load: (): Promise<unknown> => {
      db.calls++;
      if (!db.manual) return Promise.resolve(value());
      const next = deferred<unknown>();
      pending.push(next);
      return next.promise;
    },
    [LOAD]: (): Promise<unknown> => db.load(),
  };
  return db;
}

interface SetupOptions {
  store?: CacheStore;
  maxEntryBytes?: number;
  timeoutMs?: number;
  leaseMs?: number;
  leaseWaitMs?: number;
  earlyRefresh?: number;
}

function setup(options: SetupOptions = {}) {
  const store = options.store ?? new MemoryStore();
  const errors: { error: unknown; context: CacheErrorContext }[] = [];
  const report: ErrorReporter = (error, context) => {
    metrics.count("errors");
    errors.push({ error, context });
  };
  const metrics = new Metrics();
  const state = { degraded: false };
  const guard = new GuardedStore(store, options.timeoutMs ?? 1000, report);
  const plans = new PlanCache(graph, "pc", 10_000);
  const reads = new ReadThrough(guard, new Serializer(), metrics, report, {
    maxEntryBytes: options.maxEntryBytes ?? 1024 * 1024,
    leaseMs: options.leaseMs ?? 0,
    leaseWaitMs: options.leaseWaitMs ?? 200,
    // Off unless a test turns it on: it draws Math.random() on every fresh hit.
    earlyRefresh: options.earlyRefresh ?? 0,
    degraded: () => state.degraded,
  });
  const plan = (args: unknown = BY_ID, policy: ResolvedPolicy = POLICY, model = "User", operation = "findUnique") => plans.plan(model, operation, args, policy);
  return { store, reads, plans, plan, metrics, errors, state, stats: () => metrics.snapshot() };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("ReadThrough.plan", () => {
  it("keys the read and lists its stamps as prefixed store keys", () => {
    const { plan } = setup();
    const read = plan(BY_ID, { ...POLICY, tags: ["hot"] });
    expect(read.key).toBe(entryKey("pc", "User", "findUnique", BY_ID));
    expect([...read.stamps].sort()).toEqual(["*", "r:User:id=#1", "t:hot", "u:User"].map((stamp) => stampKey("pc", stamp)).sort());
  });

  it("keys a custom plan (raw queries) like a model read, with the dependencies given", () => {
    const { plans } = setup();
    const args = { strings: ["SELECT 1"], values: [] };
    const read = plans.customPlan("$queryRaw", "queryRaw", args, ["*", "t:report"], POLICY);
    expect(read.key).toBe(entryKey("pc", "$queryRaw", "queryRaw", args));
    expect(read.stamps).toEqual([stampKey("pc", "*"), stampKey("pc", "t:report")]);
  });

  it("gives the same key different stamps for different tags", () => {
    const { plan } = setup();
    expect(plan(BY_ID, { ...POLICY, tags: ["a"] }).stamps).toContain(stampKey("pc", "t:a"));
    expect(plan(BY_ID, { ...POLICY, tags: ["b"] }).stamps).not.toContain(stampKey("pc", "t:a"));
  });
});

describe("ReadThrough.read", () => {
  it("loads on a miss, then serves the hit without loading", async () => {
    const { reads, plan, stats } = setup();
    const db = database();
    const first = await reads.read(plan(), db);
    const second = await reads.read(plan(), db);
    expect(db.calls).toBe(1);
    expect(second).toStrictEqual(first);
    await reads.settled();
    expect(stats()).toMatchObject({ hits: 1, l1Hits: 1, misses: 1, fills: 1, byModel: { User: { hits: 1, misses: 1 } } });
  });

  it("returns a miss before its fill is answered; a read of the key meanwhile waits for the fill and hits", async () => {
    const memory = new MemoryStore();
    const fills: Deferred<void>[] = [];
    // A store whose fills are answered only when the test says so (as a remote store's, one round trip later).
    const slowFills: CacheStore = {
      name: "slow-fills",
      lookup: (requests) => memory.lookup(requests),
      fill: async (request) => {
        const answer = deferred<void>();
        fills.push(answer);
        await answer.promise;
        return memory.fill(request);
      },
      bump: (stamps) => memory.bump(stamps),
      close: () => memory.close(),
    };
    const { reads, plan, stats } = setup({ store: slowFills });
    const db = database();
    expect(await reads.read(plan(), db)).toMatchObject({ id: 1 });
    await settle();
    expect(fills).toHaveLength(1);
    expect(stats()).toMatchObject({ misses: 1, fills: 0 });

    let secondDone = false;
    const second = reads.read(plan(), db).then((value) => ((secondDone = true), value));
    let allSettled = false;
    const settledAll = reads.settled().then(() => (allSettled = true));
    await settle();
    expect(secondDone, "the second read waits for the fill").toBe(false);
    expect(allSettled).toBe(false);
    fills[0]!.resolve();
    expect(await second).toMatchObject({ id: 1 });
    await settledAll;
    expect(db.calls, "one load for both").toBe(1);
    expect(stats()).toMatchObject({ hits: 1, misses: 1, fills: 1 });
  });

  it("keys reads by their args", async () => {
    const { reads, plan } = setup();
    const db = database();
    await reads.read(plan({ where: { id: 1 } }), db);
    await reads.read(plan({ where: { id: 2 } }), db);
    await reads.read(plan({ where: { id: 1 } }), db);
    expect(db.calls).toBe(2);
  });

  it("serves each hit as a fresh copy that callers may mutate", async () => {
    const { reads, plan } = setup();
    const db = database();
    await reads.read(plan(), db);
    const hit = (await reads.read(plan(), db)) as { email: string; createdAt: Date };
    hit.email = "mutated";
    hit.createdAt.setTime(5);
    expect(await reads.read(plan(), db)).toStrictEqual({ id: 1, email: "a@x.io", createdAt: new Date(0) });
  });

  it("caches what the database returned, even if the first caller mutates its result", async () => {
    const { reads, plan } = setup();
    const db = database();
    const first = (await reads.read(plan(), db)) as { email: string };
    first.email = "mutated";
    expect(await reads.read(plan(), db)).toMatchObject({ email: "a@x.io" });
  });

  it("runs concurrent identical misses once and gives each caller its own copy", async () => {
    const { reads, plan, stats } = setup();
    const db = database();
    db.manual = true;
    const results = Promise.all([reads.read(plan(), db), reads.read(plan(), db), reads.read(plan(), db)]);
    expect(db.calls).toBe(1);
    db.pending[0]!.resolve({ id: 1, tags: ["a"], createdAt: new Date(0) });
    const [a, b, c] = (await results) as { tags: string[] }[];
    expect(b).toStrictEqual(a);
    expect(c).toStrictEqual(a);
    expect(new Set([a, b, c]).size).toBe(3);
    a!.tags.push("mutated");
    expect(b!.tags).toEqual(["a"]);
    expect(c!.tags).toEqual(["a"]);
    await reads.settled();
    expect(stats()).toMatchObject({ misses: 3, fills: 1 });
  });

  it("does not cache a load that throws, and rejects every caller that joined it", async () => {
    const { reads, plan, stats, store } = setup();
    const db = database();
    db.manual = true;
    const first = reads.read(plan(), db);
    const joined = reads.read(plan(), db);
    const failure = new Error("connection reset");
    db.pending[0]!.reject(failure);
    await expect(first).rejects.toBe(failure);
    await expect(joined).rejects.toBe(failure);
    expect(db.calls).toBe(1);
    expect(stats().fills).toBe(0);
    expect((store as MemoryStore).size).toBe(0);

    db.manual = false;
    await reads.read(plan(), db);
    expect(db.calls).toBe(2);
  });

  it("refuses the fill when one of the read's stamps is bumped during the load", async () => {
    const { reads, plan, stats, store } = setup();
    const db = database();
    db.manual = true;
    const read = reads.read(plan(), db);
    await store.bump([stampKey("pc", "r:User:id=#1")]);
    db.pending[0]!.resolve({ id: 1, email: "old@x.io" });
    expect(await read).toEqual({ id: 1, email: "old@x.io" });
    // The read returns once its load is encoded; the fill is answered after.
    await reads.settled();
    expect(stats()).toMatchObject({ fills: 0, fillsRefused: 1 });

    db.manual = false;
    expect(await reads.read(plan(), db)).toMatchObject({ email: "a@x.io" });
    expect(db.calls).toBe(2);
  });

  it("does not let a read that starts after an invalidation join the load that began before it", async () => {
    const { reads, plan, store } = setup();
    const db = database();
    db.manual = true;
    const before = reads.read(plan(), db);
    await store.bump([stampKey("pc", "u:User")]);
    const after = reads.read(plan(), db);
    expect(db.calls).toBe(2);
    db.pending[0]!.resolve({ id: 1, email: "old@x.io" });
    db.pending[1]!.resolve({ id: 1, email: "new@x.io" });
    expect(await before).toMatchObject({ email: "old@x.io" });
    expect(await after).toMatchObject({ email: "new@x.io" });
    expect(await reads.read(plan(), db)).toMatchObject({ email: "new@x.io" });
  });

  it("misses after a bump of one of the read's stamps, and keeps other reads cached", async () => {
    const { reads, plan, store } = setup();
    const db = database();
    await reads.read(plan({ where: { id: 1 } }), db);
    await reads.read(plan({ where: { id: 2 } }), db);
    await store.bump([stampKey("pc", "r:User:id=#1")]);
    await reads.read(plan({ where: { id: 1 } }), db);
    await reads.read(plan({ where: { id: 2 } }), db);
    expect(db.calls).toBe(3);
  });

  it("misses after a bump of a tag the read carries", async () => {
    const { reads, plan, store } = setup();
    const db = database();
    const tagged = { ...POLICY, tags: ["feed"] };
    await reads.read(plan({}, tagged, "Post", "findMany"), db);
    await store.bump([stampKey("pc", "t:feed")]);
    await reads.read(plan({}, tagged, "Post", "findMany"), db);
    expect(db.calls).toBe(2);
  });

  it("serves a stale entry within swr and runs exactly one background refresh for concurrent stale readers", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
    const { reads, plan, stats } = setup();
    const policy = policyOf({ ttlMs: 1000, swrMs: 10_000 });
    const db = database();
    await reads.read(plan(BY_ID, policy), db);
    await reads.settled();

    vi.setSystemTime(Date.now() + 2000);
    db.manual = true;
    const stale = await Promise.all([reads.read(plan(BY_ID, policy), db), reads.read(plan(BY_ID, policy), db), reads.read(plan(BY_ID, policy), db)]);
    for (const value of stale) expect(value).toMatchObject({ email: "a@x.io" });
    expect(db.calls).toBe(2);
    expect(stats()).toMatchObject({ hits: 3, stale: 3 });

    db.pending[0]!.resolve({ id: 1, email: "refreshed@x.io" });
    await settle();
    expect(stats().fills).toBe(2);
    expect(await reads.read(plan(BY_ID, policy), db)).toMatchObject({ email: "refreshed@x.io" });
    expect(db.calls).toBe(2);
    expect(stats()).toMatchObject({ hits: 4, stale: 3 });
  });

  it("reports a failed background refresh and keeps serving the stale entry", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
    const { reads, plan, errors } = setup();
    const policy = policyOf({ ttlMs: 1000, swrMs: 10_000 });
    const db = database();
    await reads.read(plan(BY_ID, policy), db);
    await reads.settled();
    vi.setSystemTime(Date.now() + 2000);
    db.manual = true;
    await reads.read(plan(BY_ID, policy), db);
    db.pending[0]!.reject(new Error("db down"));
    await settle();
    expect(errors.map((e) => e.context.operation)).toEqual(["refresh"]);
    expect(await reads.read(plan(BY_ID, policy), db)).toMatchObject({ email: "a@x.io" });
  });

  it("misses once the entry is older than ttl + swr", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
    const { reads, plan } = setup();
    const policy = policyOf({ ttlMs: 1000, swrMs: 1000 });
    const db = database();
    await reads.read(plan(BY_ID, policy), db);
    vi.setSystemTime(Date.now() + 2000);
    await reads.read(plan(BY_ID, policy), db);
    expect(db.calls).toBe(2);
  });

  it("bypasses the cache while degraded: no lookup, no fill", async () => {
    const { reads, plan, stats, state, store } = setup();
    const db = database();
    await reads.read(plan(), db);
    state.degraded = true;
    await reads.read(plan(), db);
    await reads.read(plan({ where: { id: 2 } }), db);
    expect(db.calls).toBe(3);
    expect(stats()).toMatchObject({ bypasses: 2, hits: 0, misses: 1 });
    expect((store as MemoryStore).size).toBe(1);
    state.degraded = false;
    await reads.read(plan(), db);
    expect(db.calls).toBe(3);
  });

  it("serves an oversize result without caching it, and counts it", async () => {
    const { reads, plan, stats, store } = setup({ maxEntryBytes: 64 });
    const db = database(() => ({ id: 1, bio: "x".repeat(100) }));
    await reads.read(plan(), db);
    expect(await reads.read(plan(), db)).toEqual({ id: 1, bio: "x".repeat(100) });
    expect(db.calls).toBe(2);
    expect(stats()).toMatchObject({ oversize: 2, fills: 0 });
    expect((store as MemoryStore).size).toBe(0);
  });

  it("measures oversize in UTF-8 bytes, not string length", async () => {
    const { reads, plan, stats } = setup({ maxEntryBytes: 40 });
    // Encoded as {"v":"€€€€€€€€€€€€"}: 19 UTF-16 units, but 43 bytes (each € takes 3).
    const db = database(() => "€".repeat(12));
    await reads.read(plan(), db);
    expect(stats().oversize).toBe(1);
    const ascii = database(() => "e".repeat(12));
    await reads.read(plan({ where: { id: 2 } }), ascii);
    await reads.settled();
    expect(stats()).toMatchObject({ oversize: 1, fills: 1 });
  });

  it("falls back to the database and reports when the store's lookup throws", async () => {
    const memory = new MemoryStore();
    const broken: CacheStore = {
      name: "broken",
      lookup: async () => {
        throw new Error("lookup exploded");
      },
      lookupNow: () => {
        throw new Error("lookup exploded");
      },
      fill: (request) => memory.fill(request),
      bump: (stamps) => memory.bump(stamps),
      close: () => memory.close(),
    };
    const { reads, plan, errors } = setup({ store: broken });
    const db = database();
    expect(await reads.read(plan(), db)).toMatchObject({ id: 1 });
    expect(db.calls).toBe(1);
    expect(errors.length).toBeGreaterThan(0);
    for (const { error, context } of errors) {
      expect((error as CacheError).code).toBe("STORE_ERROR");
      expect((error as Error).message).toBe("[prisma-cache-plugin] lookup exploded");
      expect(context).toMatchObject({ operation: "lookup", model: "User" });
    }
  });

  it("falls back to the database and reports when an asynchronous store's lookup rejects", async () => {
    const failing: CacheStore = {
      name: "failing",
      lookup: async () => {
        throw new Error("ECONNREFUSED");
      },
      fill: async () => true,
      bump: async () => {},
      close: async () => {},
    };
    const { reads, plan, errors, stats } = setup({ store: failing });
    const db = database();
    expect(await reads.read(plan(), db)).toMatchObject({ id: 1 });
    expect(db.calls).toBe(1);
    expect(errors.map((e) => e.context.operation)).toEqual(["lookup"]);
    expect(stats().errors).toBe(1);
  });

  it("serves the result and reports when the fill fails", async () => {
    const memory = new MemoryStore();
    const store: CacheStore = {
      name: "fill-fails",
      lookup: (requests) => memory.lookup(requests),
      lookupNow: (request) => memory.lookupNow(request),
      fill: async () => {
        throw new Error("OOM command not allowed");
      },
      bump: (stamps) => memory.bump(stamps),
      close: () => memory.close(),
    };
    const { reads, plan, errors } = setup({ store });
    const db = database();
    expect(await reads.read(plan(), db)).toMatchObject({ id: 1 });
    await reads.settled();
    expect(errors[0]!.context).toEqual({ operation: "fill", model: "User", key: plan().key });
  });

  it("batches the lookups of concurrent reads into one round trip for stores without lookupNow", async () => {
    const memory = new MemoryStore();
    const batches: LookupRequest[][] = [];
    const remote: CacheStore = {
      name: "remote",
      lookup: async (requests) => {
        batches.push([...requests]);
        return memory.lookup(requests);
      },
      fill: (request: FillRequest) => memory.fill(request),
      bump: (stamps) => memory.bump(stamps),
      close: () => memory.close(),
    };
    const { reads, plan, stats } = setup({ store: remote });
    const db = database();
    await Promise.all([1, 2, 3].map((id) => reads.read(plan({ where: { id } }), db)));
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(3);
    await Promise.all([1, 2, 3].map((id) => reads.read(plan({ where: { id } }), db)));
    expect(db.calls).toBe(3);
    expect(stats()).toMatchObject({ hits: 3, l1Hits: 0 });
  });

  it("looks each read up in its own round trip when the model's batching is off", async () => {
    const memory = new MemoryStore();
    const batches: number[] = [];
    const remote: CacheStore = {
      name: "remote",
      lookup: async (requests) => {
        batches.push(requests.length);
        return memory.lookup(requests);
      },
      fill: (request: FillRequest) => memory.fill(request),
      bump: (stamps) => memory.bump(stamps),
      close: () => memory.close(),
    };
    const { reads, plan } = setup({ store: remote });
    const unbatched = policyOf({ ttlMs: 60_000, batch: false });
    await Promise.all([1, 2, 3].map((id) => reads.read(plan({ where: { id } }, unbatched), database())));
    expect(batches).toEqual([1, 1, 1]);
  });

  it("treats an entry it cannot decode as a miss and reports it", async () => {
    const { reads, plan, errors, store } = setup();
    const read = plan();
    const [found] = (await store.lookup([{ key: read.key, stamps: read.stamps, stampLifeMs: 60_000 }])) as LookupResult[];
    await store.fill({ key: read.key, stamps: read.stamps, fence: found!.fence, value: "{not json", ttlMs: 60_000, swrMs: 0, loadMs: 1 });
    const db = database();
    expect(await reads.read(read, db)).toMatchObject({ id: 1 });
    expect(db.calls).toBe(1);
    expect(errors.map((e) => e.context)).toEqual([{ operation: "decode", model: "User", key: read.key }]);
    expect((errors[0]!.error as CacheError).code).toBe("DECODE_FAILED");
    expect(await reads.read(read, db)).toMatchObject({ id: 1 });
    expect(db.calls).toBe(1);
  });

  it("serves a result it cannot encode without caching it, reporting SERIALIZE_FAILED", async () => {
    const { reads, plan, errors, stats } = setup();
    const db = database(() => ({ id: 1, weird: () => 1 }));
    db.manual = true;
    const first = reads.read(plan(), db);
    const joined = reads.read(plan(), db);
    db.pending[0]!.resolve({ id: 1, weird: Symbol("x") });
    await first;
    // A joiner cannot get a copy of what could not be encoded, so it asks the database itself.
    await settle();
    db.pending[1]!.resolve({ id: 1 });
    expect(await joined).toEqual({ id: 1 });
    expect(db.calls).toBe(2);
    expect(stats().fills).toBe(0);
    expect(errors.map((e) => (e.error as { code?: string }).code)).toEqual(["SERIALIZE_FAILED"]);
  });
});

describe("ReadThrough early refresh (XFetch)", () => {
  const policy = policyOf({ ttlMs: 1000, swrMs: 0 });

  /** A read whose entry was loaded in `loadMs` and has `freshForMs` left. */
  async function cachedWith(options: SetupOptions, loadMs: number, freshForMs: number, entryPolicy = policy) {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
    const parts = setup(options);
    const read = parts.plan(BY_ID, entryPolicy);
    const [found] = (await parts.store.lookup([{ key: read.key, stamps: read.stamps, stampLifeMs: 60_000 }])) as LookupResult[];
    await parts.store.fill({
      key: read.key,
      stamps: read.stamps,
      fence: found!.fence,
      value: encode({ id: 1, v: "cached" }),
      ttlMs: entryPolicy.ttlMs,
      swrMs: entryPolicy.swrMs,
      loadMs,
    });
    vi.setSystemTime(Date.now() + entryPolicy.ttlMs - freshForMs);
    return { ...parts, read };
  }

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("refreshes a fresh entry in the background when -loadMs·β·ln(U) reaches the time left", async () => {
    // U = 1 − e^−2, so −ln(U') = 2: a 100 ms load with β = 1 refreshes once 200 ms or less are left.
    vi.spyOn(Math, "random").mockReturnValue(1 - Math.exp(-2));
    const { reads, read, stats } = await cachedWith({ earlyRefresh: 1 }, 100, 150);
    const db = database();
    expect(await reads.read(read, db)).toEqual({ id: 1, v: "cached" });
    expect(db.calls).toBe(1);
    await settle();
    expect(stats()).toMatchObject({ hits: 1, stale: 0, fills: 1 });
    expect(await reads.read(read, db)).toMatchObject({ email: "a@x.io" });
  });

  it("does not refresh while the draw leaves more time than that", async () => {
    vi.spyOn(Math, "random").mockReturnValue(1 - Math.exp(-2));
    const { reads, read } = await cachedWith({ earlyRefresh: 1 }, 100, 250);
    const db = database();
    await reads.read(read, db);
    expect(db.calls).toBe(0);
  });

  it("scales with β", async () => {
    vi.spyOn(Math, "random").mockReturnValue(1 - Math.exp(-2));
    const { reads, read } = await cachedWith({ earlyRefresh: 2 }, 100, 350);
    const db = database();
    await reads.read(read, db);
    expect(db.calls).toBe(1);
  });

  it("never refreshes early with earlyRefresh 0", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.999999);
    const { reads, read } = await cachedWith({ earlyRefresh: 0 }, 100, 1);
    const db = database();
    await reads.read(read, db);
    expect(db.calls).toBe(0);
  });

  it("leaves entries with swr to the stale-while-revalidate refresh", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.999999);
    const { reads, read } = await cachedWith({ earlyRefresh: 1 }, 100, 1, policyOf({ ttlMs: 1000, swrMs: 5000 }));
    const db = database();
    await reads.read(read, db);
    expect(db.calls).toBe(0);
  });

  it("runs one early refresh for concurrent readers", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.999999);
    const { reads, read } = await cachedWith({ earlyRefresh: 1 }, 100, 100);
    const db = database();
    db.manual = true;
    await Promise.all([reads.read(read, db), reads.read(read, db), reads.read(read, db)]);
    expect(db.calls).toBe(1);
    db.pending[0]!.resolve({ id: 1 });
    await settle();
  });
});

describe("ReadThrough refresh-ahead of hot entries", () => {
  it("reloads an entry once it has been read hotThreshold times and less than refreshAhead of its ttl is left", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
    const { reads, plan, stats } = setup();
    const hot = policyOf({ ttlMs: 1000, swrMs: 0, refreshAhead: 0.5, hotThreshold: 2 });
    const db = database();
    await reads.read(plan(BY_ID, hot), db);
    await reads.settled();
    await reads.read(plan(BY_ID, hot), db); // hit 1, 1000 ms left
    vi.setSystemTime(Date.now() + 600);
    await reads.read(plan(BY_ID, hot), db); // hit 2, 400 ms left: hot and due
    expect(db.calls).toBe(2);
    await settle();
    expect(stats().fills).toBe(2);
  });

  // options.ts: hotThreshold counts "reads of an entry (in this process, since it was stored)"; the count is kept
  // per key and fence, and a refresh stores the entry under the same fence, so the count carries over.
  it("counts reads since the entry was last stored, so a refreshed entry must turn hot again", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
    const { reads, plan } = setup();
    const hot = policyOf({ ttlMs: 1000, swrMs: 0, refreshAhead: 0.5, hotThreshold: 3 });
    const db = database();
    await reads.read(plan(BY_ID, hot), db);
    await reads.settled();
    await reads.read(plan(BY_ID, hot), db);
    await reads.read(plan(BY_ID, hot), db);
    vi.setSystemTime(Date.now() + 600);
    await reads.read(plan(BY_ID, hot), db); // third hit, 400 ms left: refreshed and stored again
    await settle();
    expect(db.calls).toBe(2);
    vi.setSystemTime(Date.now() + 600);
    await reads.read(plan(BY_ID, hot), db); // first hit since that store
    expect(db.calls).toBe(2);
  });

  it("does not reload an entry read fewer than hotThreshold times", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
    const { reads, plan } = setup();
    const hot = policyOf({ ttlMs: 1000, swrMs: 0, refreshAhead: 0.5, hotThreshold: 3 });
    const db = database();
    await reads.read(plan(BY_ID, hot), db);
    vi.setSystemTime(Date.now() + 900);
    await reads.read(plan(BY_ID, hot), db);
    await reads.read(plan(BY_ID, hot), db);
    expect(db.calls).toBe(1);
  });

  it("does not reload a hot entry while more than refreshAhead of its ttl is left", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
    const { reads, plan } = setup();
    const hot = policyOf({ ttlMs: 1000, swrMs: 0, refreshAhead: 0.2, hotThreshold: 1 });
    const db = database();
    await reads.read(plan(BY_ID, hot), db);
    vi.setSystemTime(Date.now() + 700);
    for (let i = 0; i < 5; i++) await reads.read(plan(BY_ID, hot), db);
    expect(db.calls).toBe(1);
  });
});

/**
 * A store shared with other processes, reduced to what leases need: entries and stamps live in a memory store, and
 * the key's lease is taken, under the token the lookup brings, by the first lookup that misses (or by `holdLease`,
 * standing for another process).
 */
function leasingStore() {
  const memory = new MemoryStore();
  const leases = new Map<string, string>();
  const store = {
    name: "leasing",
    requests: [] as LookupRequest[],
    taken: [] as string[],
    released: [] as [string, string][],
    fills: [] as FillRequest[],
    holdLease(key: string) {
      leases.set(key, "other-process");
    },
    /** The other process gives its lease up (it failed, or its lease expired). */
    dropLease(key: string) {
      leases.delete(key);
    },
    async lookup(requests: readonly LookupRequest[]): Promise<LookupResult[]> {
      store.requests.push(...requests);
      return requests.map((request) => {
        const found = memory.lookupNow(request);
        if (found.value !== undefined || request.lease === undefined) return found;
        if (leases.has(request.key)) return { ...found, leaseBusy: leases.get(request.key) !== request.lease.token };
        if (request.lease.ms === 0) return found; // a peek: report, never take
        leases.set(request.key, request.lease.token);
        store.taken.push(request.lease.token);
        return { ...found, leased: true };
      });
    },
    async fill(request: FillRequest): Promise<boolean> {
      store.fills.push(request);
      if (request.lease !== undefined && leases.get(request.key) === request.lease) leases.delete(request.key);
      return memory.fill(request);
    },
    async release(key: string, lease: string): Promise<void> {
      store.released.push([key, lease]);
      if (leases.get(key) === lease) leases.delete(key);
    },
    bump: (stamps: readonly string[]) => memory.bump(stamps),
    close: () => memory.close(),
    /** Fills `key` as another process would. */
    async fillAsOther(key: string, stamps: readonly string[], value: unknown) {
      const found = memory.lookupNow({ key, stamps, stampLifeMs: 60_000 });
      leases.delete(key);
      await memory.fill({ key, stamps, fence: found.fence, value: encode(value), ttlMs: 60_000, swrMs: 0, loadMs: 1 });
    },
  };
  return store;
}

describe("ReadThrough leases (stores shared between processes)", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date", "performance"] });
  });

  it("takes the lease on a miss and hands it to the fill", async () => {
    const store = leasingStore();
    const { reads, plan } = setup({ store, leaseMs: 2000 });
    const db = database();
    await reads.read(plan(), db);
    expect(store.requests[0]!.lease).toMatchObject({ ms: 2000 });
    expect(store.taken).toHaveLength(1);
    expect(store.fills).toHaveLength(1);
    expect(store.fills[0]!.lease).toBe(store.taken[0]);
    expect(store.released).toEqual([]);
  });

  it("gives every lookup its own lease token", async () => {
    const store = leasingStore();
    const { reads, plan } = setup({ store, leaseMs: 2000 });
    await Promise.all([1, 2].map((id) => reads.read(plan({ where: { id } }), database())));
    const tokens = store.requests.map((request) => request.lease!.token);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it("waits for the process holding the lease and serves what it stored, without querying", async () => {
    const store = leasingStore();
    const { reads, plan } = setup({ store, leaseMs: 2000, leaseWaitMs: 200 });
    const read = plan();
    store.holdLease(read.key);
    const db = database();
    const result = reads.read(read, db);
    await vi.advanceTimersByTimeAsync(50);
    expect(db.calls).toBe(0);
    await store.fillAsOther(read.key, read.stamps, { id: 1, email: "from-other@x.io" });
    await vi.advanceTimersByTimeAsync(10);
    expect(await result).toEqual({ id: 1, email: "from-other@x.io" });
    expect(db.calls).toBe(0);
  });

  it("queries the database itself once leaseWaitMs has passed", async () => {
    const store = leasingStore();
    const { reads, plan } = setup({ store, leaseMs: 2000, leaseWaitMs: 200 });
    const read = plan();
    store.holdLease(read.key);
    const db = database();
    const result = reads.read(read, db);
    await vi.advanceTimersByTimeAsync(190);
    expect(db.calls).toBe(0);
    await vi.advanceTimersByTimeAsync(20);
    expect(await result).toMatchObject({ email: "a@x.io" });
    expect(db.calls).toBe(1);
  });

  it("stops waiting when the other process gives its lease up without storing, and queries without a lease", async () => {
    const store = leasingStore();
    const { reads, plan } = setup({ store, leaseMs: 2000, leaseWaitMs: 1000 });
    const read = plan();
    store.holdLease(read.key);
    const db = database();
    const result = reads.read(read, db);
    await vi.advanceTimersByTimeAsync(50);
    expect(db.calls).toBe(0);
    store.dropLease(read.key); // its fill was refused by a write, say
    await vi.advanceTimersByTimeAsync(30);
    expect(await result).toMatchObject({ email: "a@x.io" });
    expect(db.calls).toBe(1);
    // Polls only peek at the lease: waiters never queue for it one by one.
    expect(store.taken).toEqual([]);
  });

  it("releases its lease when the load fails, so other processes need not wait for it to expire", async () => {
    const store = leasingStore();
    const { reads, plan } = setup({ store, leaseMs: 2000 });
    await expect(reads.read(plan(), { [LOAD]: () => Promise.reject(new Error("db down")) })).rejects.toThrow("db down");
    await vi.advanceTimersByTimeAsync(0);
    expect(store.released).toEqual([[plan().key, store.taken[0]]]);
  });

  it("releases its lease when the result is too large to store", async () => {
    const store = leasingStore();
    const { reads, plan } = setup({ store, leaseMs: 2000, maxEntryBytes: 10 });
    await reads.read(plan(), database());
    await vi.advanceTimersByTimeAsync(0);
    expect(store.fills).toEqual([]);
    expect(store.released).toEqual([[plan().key, store.taken[0]]]);
  });

  it("releases the lease a timed-out lookup may still have taken, and queries the database", async () => {
    const store = leasingStore();
    const sent: LookupRequest[] = [];
    // Answers too late; a real store (one connection, in order) runs the lookup before the release that follows it.
    const slow: CacheStore = { ...store, lookup: (requests) => (sent.push(...requests), new Promise(() => {})) };
    const { reads, plan, errors } = setup({ store: slow, leaseMs: 2000, timeoutMs: 50 });
    const db = database();
    const result = reads.read(plan(), db);
    await vi.advanceTimersByTimeAsync(50);
    expect(await result).toMatchObject({ id: 1 });
    expect(db.calls).toBe(1);
    expect((errors[0]!.error as { code?: string }).code).toBe("STORE_TIMEOUT");
    expect(store.released).toEqual([[plan().key, sent[0]!.lease!.token]]);
  });

  it("does not ask for a lease from a store that cannot release one", async () => {
    const store = leasingStore();
    const { release: _release, ...withoutRelease } = store;
    const { reads, plan } = setup({ store: withoutRelease, leaseMs: 2000 });
    await reads.read(plan(), database());
    expect(store.requests[0]!.lease).toBeUndefined();
  });

  // miss() joins a flight already running for the same key and fence, and drops the lease its own lookup took:
  // nobody fills under it or releases it, so every process (this one's waiting flight included) waits for it
  // until leaseWaitMs, and the lease lingers until it expires.
  it("uses or releases a lease taken by a read that joins a load already in flight", async () => {
    const store = leasingStore();
    const { reads, plan } = setup({ store, leaseMs: 2000, leaseWaitMs: 200 });
    const read = plan();
    store.holdLease(read.key);
    const db = database();
    const waiting = reads.read(read, db); // another process holds the lease: this flight polls
    await settle();
    expect(store.requests).toHaveLength(1);
    store.dropLease(read.key); // ...which then gives it up
    const joiner = reads.read(read, db); // takes the lease, and joins the polling flight
    await vi.advanceTimersByTimeAsync(250);
    await Promise.all([waiting, joiner]);
    // Every lease this process took was filled under or released (the flight may take one more after the
    // joiner released its own).
    expect(store.taken.length).toBeGreaterThanOrEqual(1);
    for (const token of store.taken) {
      const used = store.fills.some((fill) => fill.lease === token) || store.released.some(([, lease]) => lease === token);
      expect(used).toBe(true);
    }
  });

  it("asks for no lease with leaseMs 0", async () => {
    const store = leasingStore();
    const { reads, plan } = setup({ store, leaseMs: 0 });
    await reads.read(plan(), database());
    expect(store.requests[0]!.lease).toBeUndefined();
    expect(store.fills[0]!.lease).toBeUndefined();
  });
});
