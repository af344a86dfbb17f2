import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createErrorReporter } from "../../src/error-reporter.ts";
import { CacheError, CacheStoreError, type CacheErrorContext } from "../../src/errors.ts";
import { Metrics } from "../../src/metrics.ts";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("createErrorReporter", () => {
  it("hands onError the error with its context, and counts it", () => {
    const metrics = new Metrics();
    const seen: [CacheError, CacheErrorContext][] = [];
    const report = createErrorReporter(metrics, (error, context) => seen.push([error, context]));
    const error = new CacheStoreError("STORE_ERROR", "lookup", "ECONNREFUSED");
    report(error, { operation: "lookup", model: "User", key: "k" });
    expect(seen).toEqual([[error, { operation: "lookup", model: "User", key: "k" }]]);
    expect(metrics.snapshot().errors).toBe(1);
  });

  it("passes a CacheError through as it is", () => {
    const seen: CacheError[] = [];
    const report = createErrorReporter(new Metrics(), (error) => seen.push(error));
    const timeout = new CacheStoreError("STORE_TIMEOUT", "fill", "late");
    report(timeout, { operation: "fill" });
    expect(seen[0]).toBe(timeout);
  });

  it("swallows an onError hook that throws", () => {
    const report = createErrorReporter(new Metrics(), () => {
      throw new Error("bad hook");
    });
    expect(() => report(new CacheError("INTERNAL", "x"), { operation: "lookup" })).not.toThrow();
  });

  it("without onError, prints one warning per 10-second burst and then says how many it held back", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const metrics = new Metrics();
    const report = createErrorReporter(metrics);
    report(new CacheStoreError("STORE_ERROR", "lookup", "down"), { operation: "lookup", model: "User" });
    report(new CacheStoreError("STORE_ERROR", "lookup", "down"), { operation: "lookup" });
    report(new CacheStoreError("STORE_ERROR", "lookup", "down"), { operation: "fill" });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toBe("[prisma-cache-plugin] down during lookup on User; the query used the database");

    vi.advanceTimersByTime(9_999);
    report(new CacheStoreError("STORE_ERROR", "lookup", "down"), { operation: "lookup" });
    expect(warn).toHaveBeenCalledTimes(1);

    vi.advanceTimersByTime(1);
    report(new CacheStoreError("STORE_ERROR", "invalidate", "still down"), { operation: "invalidate" });
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[1]![0]).toBe("[prisma-cache-plugin] still down during invalidate; the query used the database (3 similar errors in the last burst were not shown)");
    expect(metrics.snapshot().errors).toBe(5);
  });
});
