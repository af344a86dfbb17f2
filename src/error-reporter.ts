import { DEFAULTS } from "./defaults.ts";
import type { CacheError, CacheErrorContext, ErrorReporter } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import { channels } from "./observe/channels.ts";

/**
 * Counts every failure the plugin absorbed and hands it to `onError`; without one, prints one console warning per
 * burst (a down Redis fails every query, and one line a burst says as much as thousands). Errors arrive already
 * typed: each is wrapped with its code where it was raised.
 */
export function createErrorReporter(metrics: Metrics, onError?: (error: CacheError, context: CacheErrorContext) => void): ErrorReporter {
  let quietUntil = 0;
  let suppressed = 0;
  return (error, context) => {
    metrics.count("errors");
    if (error.code === "DELIVERY_UNCONFIRMED") metrics.count("unconfirmedDeliveries");
    if (context.operation === "circuit") metrics.count("circuitOpenings");
    if (channels.error.hasSubscribers) channels.error.publish({ error, ...context });
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
    quietUntil = now + DEFAULTS.limits.errorBurstMs;
    suppressed = 0;
  };
}
