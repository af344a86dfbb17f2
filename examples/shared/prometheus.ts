/**
 * `$cache.stats()` in the Prometheus text exposition format, for a `/metrics` route with no dependency: the process's
 * counters since start. `cacheMetrics()` (examples/metrics-route.ts) adds latency histograms per model, operation
 * and layer.
 */
import type { CacheStats } from "../../src/index.ts";

const COUNTERS: Array<[keyof CacheStats, string]> = [
  ["hits", "Reads answered from the cache (fresh or stale)"],
  ["misses", "Cacheable reads that went to the database"],
  ["stale", "Hits served stale within swr while a refresh ran"],
  ["l1Hits", "Hits answered in process without a store round trip"],
  ["fills", "Entries stored"],
  ["fillsRefused", "Fills refused because a write moved a stamp during the database read"],
  ["oversize", "Results served but not stored for exceeding maxEntryBytes"],
  ["bypasses", "Reads that skipped the cache"],
  ["invalidations", "Writes and explicit invalidations applied to the store"],
  ["errors", "Store failures and timeouts"],
  ["unconfirmedDeliveries", "Invalidations some subscriber did not confirm in time"],
];

/** Renders the counters, and hits and misses per model under a `model` label. */
export function prometheusText(stats: CacheStats): string {
  const lines: string[] = [];
  for (const [field, help] of COUNTERS) {
    const name = `prisma_cache_${snakeCase(field)}_total`;
    lines.push(`# HELP ${name} ${help}.`, `# TYPE ${name} counter`, `${name} ${stats[field] ?? 0}`);
  }
  for (const kind of ["hits", "misses"] as const) {
    const name = `prisma_cache_model_${kind}_total`;
    lines.push(`# HELP ${name} Cache ${kind} per model.`, `# TYPE ${name} counter`);
    for (const [model, counts] of Object.entries(stats.byModel)) lines.push(`${name}{model="${escapeLabel(model)}"} ${counts[kind]}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The content type Prometheus scrapes text metrics with. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
