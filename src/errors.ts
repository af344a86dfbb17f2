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
  | "SERIALIZE_FAILED"
  /** A background refresh (swr, early refresh) failed; the stale or current entry stays. */
  | "REFRESH_FAILED"
  /** A bug in the plugin, caught so it cannot fail a query; the plugin fell back to the safe path. */
  | "INTERNAL";

/** What the plugin was doing when an error was reported (`bump` and `writeThrough` are a store's own steps of `invalidate`). */
export type CacheOperation = "lookup" | "fill" | "release" | "invalidate" | "bump" | "writeThrough" | "decode" | "encode" | "refresh";

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
