/**
 * Stable codes callers can switch on; messages may change, codes do not. Each failure has one code, given where it
 * is raised and never relabelled on the way to `onError`.
 */
export type CacheErrorCode =
  /** Invalid options or `cacheStrategy` (thrown to the caller). */
  | "CONFIG_INVALID"
  /** The store failed (a Redis error, a script error). */
  | "STORE_ERROR"
  /** The store did not answer within `timeoutMs`. */
  | "STORE_TIMEOUT"
  /** The store's client is not connected. */
  | "STORE_UNAVAILABLE"
  /** A cached entry could not be decoded: the read used the database. */
  | "DECODE_FAILED"
  /** A result could not be encoded for caching (served, not cached). */
  /** A tiered store's invalidation was not acknowledged by every subscriber in time (the write succeeded). */
  | "DELIVERY_UNCONFIRMED"
  | "SERIALIZE_FAILED"
  /** A background refresh (swr, early refresh) failed; the stale or current entry stays. */
  | "REFRESH_FAILED"
  /** The change feed could not start (no wal_level=logical, no REPLICATION privilege, a pooler): TTL bounds only. */
  | "CHANGE_FEED_UNAVAILABLE"
  /** The change feed lost its connection; it reconnects and advances every model before streaming again. */
  | "CHANGE_FEED_INTERRUPTED"
  /**
   * A write ran in an interactive transaction this plugin did not open (its `$transaction` was bypassed), so its
   * commit cannot be observed: invalidated now and again once the transaction must have ended; reads of this process
   * bypass the cache until then.
   */
  | "TRANSACTION_UNOBSERVED"
  /** A `ttl` function threw or returned something other than a non-negative number: the model's default ttl was used. */
  | "TTL_INVALID"
  /** A write-behind flush failed; its batch stays in Redis and is retried. */
  | "FLUSH_FAILED"
  /** Warming on start, or publishing the hot-read list, failed; reads go on as usual. */
  | "WARM_FAILED"
  /** The `onInvalidate` hook threw or rejected; the write and its invalidation are unaffected. */
  | "HOOK_FAILED"
  /** A bug in the plugin, caught so it cannot fail a query; the plugin fell back to the safe path. */
  | "INTERNAL";

/** What the plugin was doing when an error was reported (`bump` and `writeThrough` are a store's own steps of `invalidate`). */
export type CacheOperation =
  | "lookup"
  | "fill"
  | "release"
  | "invalidate"
  | "bump"
  | "writeThrough"
  | "decode"
  | "encode"
  | "refresh"
  /** The circuit breaker opened (the store failed several times in a row). */
  | "circuit"
  /** The breaker's probe, and a tiered store's heartbeat and own messages. */
  | "ping"
  | "heartbeat"
  | "publish"
  /** The change feed (its session, lease or stream) and its leader lease. */
  | "changeFeed"
  | "lease"
  /** A write in an interactive transaction whose end the plugin cannot observe. */
  | "transaction"
  /** Closing the store on `$disconnect()`. */
  | "close"
  /** A dynamic `ttl` function; a write-behind flush; warming and the hot-read list. */
  | "ttl"
  | "flush"
  | "warm";

/** Base class of every error the plugin raises or reports. */
export class CacheError extends Error {
  constructor(
    readonly code: CacheErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`[prisma-cache-plugin] ${message}`, options);
    this.name = new.target.name;
  }
}

/** Invalid options or `cacheStrategy`: thrown to the caller, naming the field and what it accepts. */
export class CacheConfigError extends CacheError {
  constructor(
    /** The option path at fault, e.g. `models.User.ttl` or `cacheStrategy.tags[1]`. */
    readonly field: string,
    message: string,
  ) {
    super("CONFIG_INVALID", `${field} ${message}`);
  }
}

/**
 * A store (memory, Redis) failed or answered too late. Never thrown at a query: the query falls back to the
 * database and the error goes to `onError`.
 */
export class CacheStoreError extends CacheError {
  constructor(
    code: "STORE_ERROR" | "STORE_TIMEOUT" | "STORE_UNAVAILABLE",
    /** What the plugin asked of the store. */
    readonly operation: CacheOperation,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/**
 * A tiered store's invalidation was delivered to subscribers that did not confirm applying it within
 * `deliveryWaitMs`: those processes may serve the invalidated entries from their L1 until their heartbeat deadline
 * passes. Reported to `onError` (the write itself succeeded) and counted in `stats().unconfirmedDeliveries`.
 */
export class CacheDeliveryError extends CacheError {
  constructor(
    /** The invalidation channel. */
    readonly channel: string,
    /** Subscribers Redis delivered the message to, this process included. */
    readonly expected: number,
    /** Of those, how many did not acknowledge in time. */
    readonly missing: number,
  ) {
    super("DELIVERY_UNCONFIRMED", `${missing} of ${expected} subscribers of ${channel} did not confirm an invalidation in time`);
  }
}

/**
 * The change feed could not start (`CHANGE_FEED_UNAVAILABLE`: no `wal_level=logical`, no REPLICATION privilege, a
 * pooler, a table it cannot publish) or lost its stream (`CHANGE_FEED_INTERRUPTED`: it reconnects). Never thrown at
 * a query: reads stay bounded by their TTL until the feed streams again, and the error goes to `onError`.
 */
export class ChangeFeedError extends CacheError {
  constructor(code: "CHANGE_FEED_UNAVAILABLE" | "CHANGE_FEED_INTERRUPTED", message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A write ran in an interactive transaction whose end this plugin cannot observe (it was not opened through the
 * plugin's `$transaction`, e.g. an extension added after it calls Prisma's own). Never thrown: the write's stamps
 * are advanced now and again after `afterMs` (the transaction's longest life), and until then this process's reads
 * bypass the cache.
 */
export class CacheTransactionError extends CacheError {
  constructor(
    /** Prisma's id of the transaction, where known. */
    readonly transactionId: string | number | undefined,
    /** When the write's stamps are advanced again, in milliseconds from now. */
    readonly afterMs: number,
  ) {
    super(
      "TRANSACTION_UNOBSERVED",
      `a write ran in interactive transaction ${String(transactionId)}, which was not opened through the cached client's $transaction, so its commit is not observable; it is invalidated now and again in ${afterMs} ms, and reads bypass the cache until then`,
    );
  }
}

/** Where a reported error happened, for `onError`. */
export interface CacheErrorContext {
  operation: CacheOperation;
  model?: string;
  key?: string;
}

/** Receives every failure the plugin absorbed (counts it, hands it to `onError`). */
export type ErrorReporter = (error: CacheError, context: CacheErrorContext) => void;

/** The message of anything thrown, for wrapping it. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
