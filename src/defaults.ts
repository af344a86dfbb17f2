/**
 * Every default in one place: the plugin's options, the stores' options, and the internal limits that keep memory
 * bounded. Options document their own defaults by pointing here; nothing else spells these numbers.
 */
export const DEFAULTS = {
  /** Fresh time of every model's reads, in seconds. */
  ttl: 60,
  /** Stale-while-revalidate window, in seconds. */
  swr: 0,
  /** Namespace of every store key. */
  prefix: "pc",
  /** Longest wait for the store before a read falls back to the database, in milliseconds. */
  timeoutMs: 50,
  /** Larger encodings are served but not cached, in bytes. */
  maxEntryBytes: 1024 * 1024,
  /** Reads go through the cache (`false`: every read is a pass-through). */
  enabled: true,
  /** Every model is cached unless `models` says otherwise (`"allowlist"`: only listed ones). */
  mode: "all",
  batch: true,
  refreshAhead: 0,
  hotThreshold: 10,
  writes: "invalidate",
  /** Lease a process holds on a key it loads (shared stores), in milliseconds. */
  leaseMs: 2000,
  /** Longest wait for another process's load of the same key, in milliseconds. */
  leaseWaitMs: 1000,
  /** XFetch β. */
  earlyRefresh: 1,
  circuitBreaker: {
    /** Consecutive store failures or timeouts that open the circuit. */
    threshold: 3,
    /** Time between probes (PING) while it is open, in milliseconds. */
    probeMs: 100,
  },
  /** `sizing`: keys the miss-ratio curve tracks at most (its memory: about 100 bytes plus the key each). */
  sizing: { maxSampledKeys: 4096 },
  /** `hotReads`: reads kept in the shared list, and how often a process publishes its own, in milliseconds. */
  hotReads: { k: 1000, publishEveryMs: 60_000 },
  /** `warmOnStart`: reads run at once. */
  warmOnStart: { concurrency: 4 },
  /** `adaptiveTtl`: factors applied when a refill finds the same or changed data, and keys with state per model. */
  adaptiveTtl: { grow: 1.5, shrink: 0.1, maxKeys: 10_000 },
  /** `writeBehind`: flush interval and flusher lease (ms), the flush log table, and how long its rows are kept (ms). */
  writeBehind: { flushIntervalMs: 1000, leaseMs: 10_000, table: "_prisma_cache_flush_log", logRetentionMs: 7 * 24 * 3600 * 1000 },
  memoryStore: {
    maxEntries: 10_000,
    /** 64 MiB of keys and values (string lengths). */
    maxBytes: 64 * 1024 * 1024,
  },
  tieredStore: {
    channel: "prisma-cache-plugin:invalidate",
    /** Wait for every subscribed process to confirm an invalidation, in milliseconds. */
    deliveryWaitMs: 50,
  },
  /** Internal bounds, not options: memory stays bounded whatever users pass in. */
  limits: {
    /** Most lookups (and fills) one store round trip carries. */
    maxBatch: 256,
    /** Plans, stamp lists, decoded values and hit counts kept per process, each. */
    maxMemoEntries: 10_000,
    /** Longest encoding whose decoded value is kept for copying hits, in characters. */
    maxCopiedChars: 64 * 1024,
    /** Most characters of encodings kept for copying hits, in all. */
    maxCopiedTotalChars: 8 * 1024 * 1024,
    /** First and longest pause between retries of a failed invalidation, in milliseconds. */
    retryFirstMs: 50,
    retryMaxMs: 5_000,
    /** First and longest pause between polls for an entry another process is loading, in milliseconds. */
    leasePollFirstMs: 2,
    leasePollMaxMs: 25,
    /** Prisma's default interactive-transaction `timeout`, used when the client's own is not readable, in milliseconds. */
    transactionTimeoutMs: 5_000,
    /** Added to that timeout before re-invalidating the writes of a transaction whose end was not observed (its commit or rollback itself takes time), in milliseconds. */
    transactionMarginMs: 1_000,
    /** How long the default error reporter stays quiet after a warning, in milliseconds. */
    errorBurstMs: 10_000,
  },
} as const;
