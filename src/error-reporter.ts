import { CacheError, CacheStoreError, type CacheErrorContext } from "./errors.ts";
import type { Metrics } from "./metrics.ts";

export type ErrorReporter = (error: unknown, context: CacheErrorContext) => void;

/** How long the default reporter stays quiet after a warning, in milliseconds. */
const BURST_MS = 10_000;

/**
 * Counts every store failure and hands it to `onError`; without one, prints one console warning per burst
 * (a down Redis fails every query, and one line a burst says as much as thousands).
 */
export function createErrorReporter(metrics: Metrics, onError?: (error: CacheError, context: CacheErrorContext) => void): ErrorReporter {
  let quietUntil = 0;
  let suppressed = 0;
  return (raw, context) => {
    metrics.count("errors");
    if (raw instanceof CacheError && raw.code === "DELIVERY_UNCONFIRMED") metrics.count("unconfirmedDeliveries");
    const error = raw instanceof CacheError ? raw : new CacheStoreError("STORE_ERROR", context.operation, describe(raw), { cause: raw });
    if (onError) {
      try {
        onError(error, context);
      } catch {
        // A failing hook must not turn a cache problem into a query failure.
      }
      return;
    }
    const now = Date.now();
    if (now < quietUntil) {
      suppressed++;
      return;
    }
    const more = suppressed > 0 ? ` (${suppressed} similar errors in the last burst were not shown)` : "";
    console.warn(`${error.message} during ${context.operation}${context.model ? ` on ${context.model}` : ""}; the query used the database${more}`);
    quietUntil = now + BURST_MS;
    suppressed = 0;
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
