/** Stable codes callers can switch on; messages may change, codes do not. */
export type CacheErrorCode =
  | "CONFIG_INVALID"
  | "STORE_ERROR"
  | "STORE_TIMEOUT"
  | "STORE_UNAVAILABLE"
  | "DELIVERY_UNCONFIRMED"
  | "SERIALIZE_FAILED"
  | "REFRESH_FAILED";

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
    /** What the plugin was doing: `lookup`, `fill`, `invalidate`, ... */
    readonly operation: string,
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

/** Where a reported error happened, for `onError`. */
export interface CacheErrorContext {
  operation: string;
  model?: string;
  key?: string;
}
