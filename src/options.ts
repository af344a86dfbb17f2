import { DEFAULTS } from "./defaults.ts";
import { CacheConfigError, type CacheError, type CacheErrorContext } from "./errors.ts";
import type { ChangeFeed } from "./change-feed/change-feed.ts";
import type { CacheSchema } from "./schema/cache-schema.ts";
import type { CacheStore } from "./stores/store.ts";
import { describe, featureOption, isPlainObject, nonNegative, oneOf, optionalFunction, positive, positiveInteger, rejectUnknownKeys, seconds, validTags } from "./validate.ts";

/**
 * A TTL computed from the result being cached, in seconds: called once per fill (never on a hit) with the result
 * and the read's args. `0` (with no `swr`) does not store this result. A throw or a value that is not a
 * non-negative finite number goes to `onError` (`TTL_INVALID`) and the model's default ttl is used. Declared as a
 * method so a model-wide function may annotate `result` with the type it expects.
 */
export type TtlFunction<Result = unknown, Args = unknown> = { bivariant(result: Result, args: Args): number }["bivariant"];

/** Adaptive TTL bounds, in seconds (docs/adaptive-ttl.md). */
export interface AdaptiveTtlPolicy {
  /** Shortest TTL, and the TTL of a key with no history. */
  min: number;
  /** Longest TTL: the longest a change that bypasses the plugin may be served. */
  max: number;
}

/** How a model's reads are cached. Every field falls back to the plugin-wide option of the same name. */
export interface ModelPolicy {
  /**
   * How long a result is served as fresh, in seconds, or a function of the result (`TtlFunction`). `0`: not cached
   * unless a call passes `cacheStrategy`.
   */
  ttl?: number | TtlFunction;
  /** How long after `ttl` a stale result may be served while one background refresh runs, in seconds. `0`: never. */
  swr?: number;
  /** Tags added to every cached read of this model, for `$cache.invalidate({ tags })`. @default [] */
  tags?: string[];
  /**
   * Batch this model's cache lookups of one tick into one store round trip, and send unique-shaped `findFirst`
   * misses as `findUnique`, which Prisma merges into one statement. @default true
   */
  batch?: boolean;
  /**
   * Refresh hot entries ahead of expiry: an entry read at least `hotThreshold` times whose remaining fresh time
   * falls below this fraction of its ttl is reloaded once in the background. `0`: off. @default 0
   */
  refreshAhead?: number;
  /** Reads of an entry (in this process, since it was stored) that make it hot for `refreshAhead`. @default 10 */
  hotThreshold?: number;
  /**
   * `"invalidate"` evicts what a write changed. `"write-through"` also stores the record a create, update or upsert
   * returns under the model's unique lookups (`findUnique({ where: { <unique>: value } })`), so the next lookup hits.
   * @default "invalidate"
   */
  writes?: "invalidate" | "write-through";
  /**
   * Opt-in: each entry's TTL follows what its refills find, within `[min, max]` seconds: ×1.5 when an expired entry
   * is reloaded unchanged, ×0.1 when it changed (docs/adaptive-ttl.md). Not with a `ttl` function. @default off
   */
  adaptiveTtl?: AdaptiveTtlPolicy;
}

/** Per-call override on any read, in Prisma Accelerate's shape. `false` bypasses the cache: no lookup, no fill. */
export interface CacheStrategy<Result = unknown, Args = unknown> {
  /**
   * Seconds the result is fresh, or a function of the result (typed as this read's result). `0` (with no `swr`)
   * does not cache this call. @default the model's ttl
   */
  ttl?: number | TtlFunction<Result, Args>;
  /** Seconds after `ttl` the stale result may be served while it refreshes. @default the model's swr */
  swr?: number;
  /** Tags for `$cache.invalidate({ tags })`, added to the model's tags. */
  tags?: string[];
  /** Skip the lookup: read the database and store the fresh result (replacing what was cached). @default false */
  refresh?: boolean;
}

/** What `onInvalidate` is told: the models and tags whose cached reads were invalidated; `all` for every entry. */
export interface InvalidatedGroups {
  models: readonly string[];
  tags: readonly string[];
  all: boolean;
}

/** What `namespace()` may return: entries of different namespaces are never shared; `undefined` is the shared one. */
export type CacheNamespace = string | number | undefined;

/**
 * The plugin's options. `M` is the schema's model names: with the generator's `cacheSchema` as `schema`, `models`
 * accepts only those names.
 */
export interface CachePluginOptions<M extends string = string> extends Omit<ModelPolicy, "ttl" | "swr" | "tags" | "adaptiveTtl"> {
  /**
   * Schema metadata from the package's generator (`generated/cache`). Without it invalidation is coarse (a write
   * evicts every related model) and the plugin warns once per `cachePlugin()`; `false` chooses coarse invalidation
   * without the warning.
   */
  schema?: CacheSchema<M> | false;
  /** Where entries live. @default memoryStore() (in-process, not shared between processes) */
  store?: CacheStore;
  /** Default fresh time of every model's reads, in seconds. `0`: nothing is cached unless asked. @default 60 */
  ttl?: number;
  /** Default stale-while-revalidate window, in seconds. `0`: never serve stale. @default 0 */
  swr?: number;
  /** Per-model policy; `false` means the model is never cached, whatever a call asks. @default {} */
  models?: { [Model in NoInfer<M>]?: ModelPolicy | false };
  /**
   * `false`: every read goes to the database and writes do no invalidation work; the client keeps its types
   * (tests, local runs). Don't disable one process of several sharing a store: its writes would not invalidate
   * the others' entries (use `ttl: 0` there instead). @default true
   */
  enabled?: boolean;
  /**
   * `"all"`: every model is cached unless `models` says otherwise. `"allowlist"`: only the models listed in `models`
   * are cached; another model's read is cached only when the call passes `cacheStrategy` (with the plugin-wide
   * `ttl` and `swr` unless it names its own), as Prisma Accelerate does. Writes invalidate every model either way.
   * @default "all"
   */
  mode?: "all" | "allowlist";
  /**
   * Called on every cached read (and `$queryRaw` through `$cache`, write-through, one-read `invalidate`): reads under
   * different namespaces never share entries, e.g. `() => tenant.getStore()?.id` with AsyncLocalStorage, for
   * row-level security or per-tenant data. `undefined` is the shared namespace. A write in any namespace invalidates
   * what it could change in every namespace. @default none (one shared namespace)
   */
  namespace?: () => CacheNamespace;
  /** Namespace of every store key, for apps sharing one Redis. @default "pc" */
  prefix?: string;
  /** Longest wait for the store before a read falls back to the database, in milliseconds. @default 50 */
  timeoutMs?: number;
  /** Results whose encoding is larger than this are served but not cached, in bytes. @default 1048576 */
  maxEntryBytes?: number;
  /**
   * With a store shared between processes (Redis): how long the process that missed a key holds its lease while it
   * loads it, in milliseconds; other processes wait for its result instead of querying too. `0`: no leases. @default 2000
   */
  leaseMs?: number;
  /**
   * Longest wait for another process's load of the same key before querying the database too, in milliseconds.
   * Waiting ends sooner when that load stores its result, or gives up its lease without one. @default 1000
   */
  leaseWaitMs?: number;
  /**
   * Probabilistic early refresh (XFetch) of entries without `swr`: β, where higher refreshes earlier and `0` never.
   * A fresh hit triggers one background refresh with probability e^(−timeLeft / (β · loadTime)). @default 1
   */
  earlyRefresh?: number;
  /**
   * The store's circuit breaker (stores that can fail, i.e. Redis): after `threshold` consecutive failures or
   * timeouts, reads and writes skip the store at once (writes record their invalidations as pending) while it is
   * probed every `probeMs` milliseconds; the first answer closes it and applies what is pending. `false`: no
   * breaker (every call waits for `timeoutMs`). State in `$cache.stats()` (`circuitOpen`, `circuitOpenings`).
   * @default { threshold: 3, probeMs: 100 }
   */
  circuitBreaker?: { threshold?: number; probeMs?: number } | false;
  /** Receives store failures, which never fail a query. @default one console warning per burst */
  onError?: (error: CacheError, context: CacheErrorContext) => void;
  /**
   * Told the models and tags of every invalidation this client makes (writes, `$cache.invalidate`, transactions at
   * commit), once the store was asked: e.g. to purge a CDN by surrogate key (the tags). Not awaited; a throw or
   * rejection goes to `onError` (`HOOK_FAILED`). @default none
   */
  onInvalidate?: (event: InvalidatedGroups) => unknown;
  /**
   * Invalidation from the database itself, for writes that bypass this client: `postgresChangeFeed({ connectionString })`.
   * Closed by `$disconnect()`. @default none (such writes are bounded by the TTL only)
   */
  changeFeed?: ChangeFeed;
  /**
   * Record a sample of the key stream (SHARDS) so `$cache.report().sizing` can predict the L1 hit ratio at every
   * size. Costs one hash per read. @default false (`report()` still has the counters and costs)
   */
  sizing?: boolean | { maxSampledKeys?: number };
  /**
   * Count this process's reads in a bounded sketch and publish its top `k` to `{prefix}:hot-reads` in Redis every
   * `publishEveryMs` (and on `$disconnect`), for other processes' `warmOnStart`. Needs a Redis or tiered store.
   * @default off; `true`: { k: 1000, publishEveryMs: 60000 }
   */
  hotReads?: boolean | { k?: number; publishEveryMs?: number };
  /**
   * On start, run the shared hot-read list through the cache in the background (`concurrency` at a time), so L1
   * (or Redis after a flush) is filled before traffic asks; `$cache.warmedOnStart()` resolves with the outcome.
   * Needs a Redis or tiered store. @default off; `true`: { concurrency: 4 }
   */
  warmOnStart?: boolean | { concurrency?: number };
  /**
   * `$cache.increment(...)`: counters recorded in Redis and flushed to the database every `flushIntervalMs` by one
   * process (docs/write-behind.md). Reads lag increments by up to the flush interval. Needs a Redis or tiered store
   * on a Redis with `appendonly yes`. `flush: false`: this process records but never flushes.
   * @default off; `true`: { flushIntervalMs: 1000, leaseMs: 10000, table: "_prisma_cache_flush_log" }
   */
  writeBehind?: boolean | { flushIntervalMs?: number; leaseMs?: number; table?: string; logRetentionMs?: number; flush?: boolean };
}

export { DEFAULTS };

/** The Redis commands hot reads and write-behind use, taken from the store's own client. */
export interface SharedRedis {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  zrevrange(key: string, start: number, stop: number): Promise<string[]>;
  hincrby(key: string, field: string, increment: number): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
}

/** A model's policy with every default applied, in milliseconds. */
export interface ResolvedPolicy {
  ttlMs: number;
  swrMs: number;
  tags: readonly string[];
  batch: boolean;
  refreshAhead: number;
  hotThreshold: number;
  writes: "invalidate" | "write-through";
  /** A ttl function (`ttlMs` is then the fallback: the model's or plugin's numeric ttl). */
  ttlOf?: TtlFunction;
  /** Adaptive TTL bounds, in milliseconds. */
  adaptive?: { minMs: number; maxMs: number };
}

/** Options after validation and defaults; the rest of the plugin reads only this. */
export interface ResolvedOptions {
  /** `false`: coarse invalidation, chosen on purpose (no warning); undefined: coarse, not chosen (warn). */
  schema: CacheSchema | false | undefined;
  store: CacheStore | undefined;
  prefix: string;
  timeoutMs: number;
  maxEntryBytes: number;
  leaseMs: number;
  leaseWaitMs: number;
  earlyRefresh: number;
  circuitBreaker: { threshold: number; probeMs: number } | false;
  onError: ((error: CacheError, context: CacheErrorContext) => void) | undefined;
  onInvalidate: ((event: InvalidatedGroups) => unknown) | undefined;
  changeFeed: ChangeFeed | undefined;
  defaultPolicy: ResolvedPolicy;
  /** `false`: reads pass through, writes do no invalidation work. */
  enabled: boolean;
  /** Only models listed in `models` are cached without a call's `cacheStrategy`. */
  allowlist: boolean;
  namespace: (() => CacheNamespace) | undefined;
  /** Per-model policies as given; `false` = never cached. Names are checked against the client later. */
  models: Record<string, ResolvedPolicy | false>;
  sizing: { maxSampledKeys: number } | undefined;
  hotReads: { k: number; publishEveryMs: number } | undefined;
  warmOnStart: { concurrency: number } | undefined;
  writeBehind: { flushIntervalMs: number; leaseMs: number; table: string; logRetentionMs: number; flush: boolean } | undefined;
  /** The store's Redis client, when hot reads, warming or write-behind need it. */
  redis: SharedRedis | undefined;
}

const OPTION_KEYS = [
  "batch",
  "refreshAhead",
  "hotThreshold",
  "writes",
  "schema",
  "store",
  "ttl",
  "swr",
  "models",
  "prefix",
  "timeoutMs",
  "maxEntryBytes",
  "leaseMs",
  "leaseWaitMs",
  "earlyRefresh",
  "circuitBreaker",
  "onError",
  "onInvalidate",
  "changeFeed",
  "enabled",
  "mode",
  "namespace",
  "sizing",
  "hotReads",
  "warmOnStart",
  "writeBehind",
];
const POLICY_KEYS = ["ttl", "swr", "tags", "batch", "refreshAhead", "hotThreshold", "writes", "adaptiveTtl"];

/** Validates options once, when the extension is created, and applies the defaults. */
export function resolveOptions<M extends string>(options: CachePluginOptions<M> = {}): ResolvedOptions {
  if (!isPlainObject(options as unknown)) throw new CacheConfigError("options", `must be an object, received: ${describe(options)}`);
  rejectUnknownKeys(options, OPTION_KEYS, "options");
  const ttl = seconds(options.ttl, "ttl", DEFAULTS.ttl);
  const swr = seconds(options.swr, "swr", DEFAULTS.swr);
  const defaultPolicy: ResolvedPolicy = {
    ttlMs: ttl * 1000,
    swrMs: swr * 1000,
    tags: [],
    ...behaviour(options, "", { batch: DEFAULTS.batch, refreshAhead: DEFAULTS.refreshAhead, hotThreshold: DEFAULTS.hotThreshold, writes: DEFAULTS.writes }),
  };

  const models: Record<string, ResolvedPolicy | false> = {};
  if (options.models !== undefined) {
    if (!isPlainObject(options.models)) {
      throw new CacheConfigError("models", `must be an object of model names to policies, received: ${describe(options.models)}`);
    }
    for (const [model, policy] of Object.entries(options.models as Record<string, unknown>)) {
      models[model] = policy === false ? false : resolvePolicy(policy, `models.${model}`, defaultPolicy);
    }
  }

  const prefix = options.prefix ?? DEFAULTS.prefix;
  if (typeof prefix !== "string" || !/^[\w.:-]+$/.test(prefix)) {
    throw new CacheConfigError("prefix", `must be a non-empty string of letters, digits, '_', '.', ':' or '-', received: ${describe(prefix)}`);
  }
  optionalFunction(options.onError, "onError");
  optionalFunction(options.onInvalidate, "onInvalidate");
  if (options.store !== undefined && !isStore(options.store)) {
    throw new CacheConfigError("store", `must be a store such as memoryStore() or redisStore({ client }), received: ${describe(options.store)}`);
  }
  if (options.changeFeed !== undefined && typeof (options.changeFeed as Partial<ChangeFeed> | null)?.start !== "function") {
    throw new CacheConfigError("changeFeed", `must be a change feed such as postgresChangeFeed({ connectionString }), received: ${describe(options.changeFeed)}`);
  }
  if (options.schema !== undefined && options.schema !== false && (!isPlainObject(options.schema) || options.schema.version !== 1 || !isPlainObject(options.schema.models))) {
    throw new CacheConfigError("schema", "must be the cacheSchema exported by the prisma-cache-plugin generator's output (version 1), or false for coarse invalidation");
  }

  const systems = resolveSystems(options);

  return {
    ...systems,
    schema: options.schema,
    store: options.store,
    prefix,
    timeoutMs: positive(options.timeoutMs, "timeoutMs", DEFAULTS.timeoutMs),
    maxEntryBytes: positive(options.maxEntryBytes, "maxEntryBytes", DEFAULTS.maxEntryBytes),
    leaseMs: nonNegative(options.leaseMs, "leaseMs", DEFAULTS.leaseMs),
    leaseWaitMs: nonNegative(options.leaseWaitMs, "leaseWaitMs", DEFAULTS.leaseWaitMs),
    earlyRefresh: nonNegative(options.earlyRefresh, "earlyRefresh", DEFAULTS.earlyRefresh),
    circuitBreaker: resolveBreaker(options.circuitBreaker),
    onError: options.onError,
    onInvalidate: options.onInvalidate,
    changeFeed: options.changeFeed,
    defaultPolicy,
    enabled: oneOf(options.enabled, "enabled", [true, false], DEFAULTS.enabled),
    allowlist: oneOf(options.mode, "mode", ["all", "allowlist"], DEFAULTS.mode) === "allowlist",
    namespace: optionalFunction(options.namespace, "namespace"),
    models,
  };
}

function resolveBreaker(breaker: CachePluginOptions["circuitBreaker"]): ResolvedOptions["circuitBreaker"] {
  if (breaker === false) return false;
  if (breaker === undefined) return { ...DEFAULTS.circuitBreaker };
  if (!isPlainObject(breaker)) throw new CacheConfigError("circuitBreaker", `must be an object ({ threshold, probeMs }) or false, received: ${describe(breaker)}`);
  rejectUnknownKeys(breaker, ["threshold", "probeMs"], "circuitBreaker");
  const threshold = breaker.threshold ?? DEFAULTS.circuitBreaker.threshold;
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new CacheConfigError("circuitBreaker.threshold", `must be a positive integer number of consecutive failures, received: ${describe(breaker.threshold)}`);
  }
  return { threshold, probeMs: positive(breaker.probeMs, "circuitBreaker.probeMs", DEFAULTS.circuitBreaker.probeMs) };
}

function resolvePolicy(policy: unknown, field: string, defaults: ResolvedPolicy): ResolvedPolicy {
  if (!isPlainObject(policy)) {
    throw new CacheConfigError(field, `must be a policy object { ttl?, swr?, tags? } or false, received: ${describe(policy)}`);
  }
  rejectUnknownKeys(policy, POLICY_KEYS, field);
  const ttlOf = typeof policy.ttl === "function" ? (policy.ttl as TtlFunction) : undefined;
  const adaptive = adaptiveBounds(policy.adaptiveTtl, `${field}.adaptiveTtl`);
  if (ttlOf && adaptive) throw new CacheConfigError(`${field}.adaptiveTtl`, "cannot be combined with a ttl function: pick one way to choose the TTL");
  // A ttl function falls back to the plugin's ttl (or the built-in one where that is 0) when it fails.
  const ttlMs = ttlOf ? defaults.ttlMs || DEFAULTS.ttl * 1000 : adaptive ? adaptive.minMs : seconds(policy.ttl, `${field}.ttl`, defaults.ttlMs / 1000) * 1000;
  return {
    ttlMs,
    swrMs: seconds(policy.swr, `${field}.swr`, defaults.swrMs / 1000) * 1000,
    tags: policy.tags === undefined ? [] : [...new Set(validTags(policy.tags, `${field}.tags`))],
    ...behaviour(policy, `${field}.`, defaults),
    ...(ttlOf && { ttlOf }),
    ...(adaptive && { adaptive }),
  };
}

function adaptiveBounds(value: unknown, field: string): ResolvedPolicy["adaptive"] {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw new CacheConfigError(field, `must be { min, max } in seconds, received: ${describe(value)}`);
  rejectUnknownKeys(value, ["min", "max"], field);
  const min = positive(value.min, `${field}.min`, Number.NaN);
  const max = positive(value.max, `${field}.max`, Number.NaN);
  if (Number.isNaN(min)) throw new CacheConfigError(`${field}.min`, "is required: the shortest TTL, in seconds");
  if (Number.isNaN(max)) throw new CacheConfigError(`${field}.max`, "is required: the longest TTL, in seconds");
  if (max < min) throw new CacheConfigError(`${field}.max`, `must be at least min (${min}), received: ${max}`);
  return { minMs: min * 1000, maxMs: max * 1000 };
}

type Systems = Pick<ResolvedOptions, "sizing" | "hotReads" | "warmOnStart" | "writeBehind" | "redis">;

/** The opt-in systems: sizing, hot reads, warming on start and write-behind (and the Redis the last three need). */
function resolveSystems(options: CachePluginOptions): Systems {
  const sizing = featureOption(options.sizing, "sizing", ["maxSampledKeys"]);
  const hot = featureOption(options.hotReads, "hotReads", ["k", "publishEveryMs"]);
  const warmOn = featureOption(options.warmOnStart, "warmOnStart", ["concurrency"]);
  const wb = featureOption(options.writeBehind, "writeBehind", ["flushIntervalMs", "leaseMs", "table", "logRetentionMs", "flush"]);
  const systems: Systems = {
    sizing: sizing && { maxSampledKeys: positiveInteger(sizing.maxSampledKeys, "sizing.maxSampledKeys", DEFAULTS.sizing.maxSampledKeys) },
    hotReads: hot && {
      k: positiveInteger(hot.k, "hotReads.k", DEFAULTS.hotReads.k),
      publishEveryMs: positive(hot.publishEveryMs, "hotReads.publishEveryMs", DEFAULTS.hotReads.publishEveryMs),
    },
    warmOnStart: warmOn && { concurrency: positiveInteger(warmOn.concurrency, "warmOnStart.concurrency", DEFAULTS.warmOnStart.concurrency) },
    writeBehind: undefined,
    redis: undefined,
  };
  if (systems.sizing && systems.sizing.maxSampledKeys < 16) throw new CacheConfigError("sizing.maxSampledKeys", `must be at least 16, received: ${systems.sizing.maxSampledKeys}`);
  if (wb) {
    const d = DEFAULTS.writeBehind;
    const flushIntervalMs = positive(wb.flushIntervalMs, "writeBehind.flushIntervalMs", d.flushIntervalMs);
    const leaseMs = positive(wb.leaseMs, "writeBehind.leaseMs", Math.max(d.leaseMs, flushIntervalMs * 2));
    if (leaseMs <= flushIntervalMs) throw new CacheConfigError("writeBehind.leaseMs", `must be longer than flushIntervalMs (${flushIntervalMs}), received: ${leaseMs}`);
    const table = wb.table ?? d.table;
    if (typeof table !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) {
      throw new CacheConfigError("writeBehind.table", `must be a table name of letters, digits and '_', received: ${describe(table)}`);
    }
    if (wb.flush !== undefined && typeof wb.flush !== "boolean") throw new CacheConfigError("writeBehind.flush", `must be true or false, received: ${describe(wb.flush)}`);
    systems.writeBehind = {
      flushIntervalMs,
      leaseMs,
      table,
      logRetentionMs: positive(wb.logRetentionMs, "writeBehind.logRetentionMs", d.logRetentionMs),
      flush: wb.flush !== false,
    };
  }
  const needs = (["writeBehind", "hotReads", "warmOnStart"] as const).filter((name) => systems[name] !== undefined);
  if (needs.length > 0) {
    systems.redis = redisOf(options.store);
    if (systems.redis === undefined) {
      throw new CacheConfigError(needs[0]!, "needs a store shared through Redis: store: redisStore({ client }) or tieredStore({ l2: redisStore({ client }) })");
    }
  }
  return systems;
}

/** The ioredis client behind a Redis store or a tiered store's L2, by shape (stores are not imported here). */
function redisOf(store: unknown): SharedRedis | undefined {
  const shaped = store as { client?: unknown; l2?: { client?: unknown } } | undefined;
  const client = (shaped?.client ?? shaped?.l2?.client) as Partial<SharedRedis> | undefined;
  const complete = client && (["eval", "zrevrange", "hincrby", "hgetall"] as const).every((command) => typeof client[command] === "function");
  return complete ? (client as SharedRedis) : undefined;
}

type Behaviour = Pick<ResolvedPolicy, "batch" | "refreshAhead" | "hotThreshold" | "writes">;

/** The batching, refresh-ahead and write policy of a model (or the plugin-wide defaults, with `field` ""). */
function behaviour(policy: Record<string, unknown> | CachePluginOptions<string>, field: string, defaults: Behaviour): Behaviour {
  const { batch, refreshAhead, hotThreshold, writes } = policy as Partial<Record<keyof Behaviour, unknown>>;
  if (batch !== undefined && typeof batch !== "boolean") throw new CacheConfigError(`${field}batch`, `must be true or false, received: ${describe(batch)}`);
  if (refreshAhead !== undefined && (typeof refreshAhead !== "number" || !(refreshAhead >= 0 && refreshAhead < 1))) {
    throw new CacheConfigError(`${field}refreshAhead`, `must be a fraction of the ttl from 0 (off) to below 1, received: ${describe(refreshAhead)}`);
  }
  if (hotThreshold !== undefined && (typeof hotThreshold !== "number" || !Number.isInteger(hotThreshold) || hotThreshold < 1)) {
    throw new CacheConfigError(`${field}hotThreshold`, `must be a positive integer number of reads, received: ${describe(hotThreshold)}`);
  }
  if (writes !== undefined && writes !== "invalidate" && writes !== "write-through") {
    throw new CacheConfigError(`${field}writes`, `must be "invalidate" or "write-through", received: ${describe(writes)}`);
  }
  return {
    batch: (batch as boolean | undefined) ?? defaults.batch,
    refreshAhead: (refreshAhead as number | undefined) ?? defaults.refreshAhead,
    hotThreshold: (hotThreshold as number | undefined) ?? defaults.hotThreshold,
    writes: (writes as Behaviour["writes"] | undefined) ?? defaults.writes,
  };
}

function isStore(value: unknown): value is CacheStore {
  const store = value as Partial<CacheStore> | null;
  return typeof store === "object" && store !== null && typeof store.lookup === "function" && typeof store.fill === "function" && typeof store.bump === "function";
}
