/** Stable codes callers can switch on; messages may change, codes do not. */
export type CacheErrorCode =
  | "CONFIG_INVALID"
  | "STORE_ERROR"
  | "STORE_TIMEOUT"
  | "STORE_UNAVAILABLE"
  | "SERIALIZE_FAILED"
  | "REFRESH_FAILED"
  | "CHANGE_FEED_UNAVAILABLE"
  | "CHANGE_FEED_INTERRUPTED";

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
 * The change feed could not start (`CHANGE_FEED_UNAVAILABLE`: no `wal_level=logical`, no REPLICATION privilege, a
 * pooler, a table it cannot publish) or lost its stream (`CHANGE_FEED_INTERRUPTED`: it reconnects). Never thrown at
 * a query: reads stay bounded by their TTL until the feed streams again, and the error goes to `onError`.
 */
export class ChangeFeedError extends CacheError {
  constructor(code: "CHANGE_FEED_UNAVAILABLE" | "CHANGE_FEED_INTERRUPTED", message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** Where a reported error happened, for `onError`. */
export interface CacheErrorContext {
  operation: string;
  model?: string;
  key?: string;
}
