import { describe, expect, it } from "vitest";
import { costReport, formatCostReport } from "../../../src/insight/cost-model.ts";

describe("costReport", () => {
  const inputs = {
    windowMs: 3_600_000,
    models: {
      Post: { hits: 9_000, misses: 1_000, l1Hits: 4_500, missLatencyMs: 2, refreshes: 100 },
      User: { hits: 0, misses: 10, missLatencyMs: 1 },
    },
    storeRoundTrips: 5_000,
    storeRoundTripMs: 0.2,
    bytesHeld: 2e9,
  };

  it("counts reads and time saved per model, net of refreshes", () => {
    const report = costReport(inputs);
    expect(report.byModel.Post).toEqual({ hits: 9_000, misses: 1_000, hitRatio: 0.9, l1HitRatio: 0.5, readsSaved: 8_900, timeSavedMs: 17_800, refreshes: 100, refreshMs: 200 });
    expect(report.byModel.User!.hitRatio).toBe(0);
    expect(report.hitRatio).toBeCloseTo(9_000 / 10_010, 10);
    expect(report.storeTimeMs).toBe(1_000);
  });

  it("scales the window to a 30-day month and prices it", () => {
    const report = costReport(inputs, { cacheGbMonth: 5, dbReadsPerMillion: 1, computeHour: 0.1 });
    // 720 windows of one hour in 30 days.
    expect(report.monthly.readsSaved).toBe(8_900 * 720);
    expect(report.monthly.savings.dbReads).toBeCloseTo(6.408, 6);
    expect(report.monthly.computeHoursSaved).toBeCloseTo((17_800 * 720) / 3_600_000, 6);
    expect(report.monthly.costs.cacheMemory).toBe(10);
    expect(report.monthly.net).toBeCloseTo(report.monthly.savings.total - report.monthly.costs.total, 9);
    expect(formatCostReport(report)).toContain("Post | 9000 | 1000 | 90.0%");
  });

  it("names the input that is not a non-negative number", () => {
    expect(() => costReport({ ...inputs, models: { Post: { hits: -1, misses: 0, missLatencyMs: 1 } } })).toThrow(/models.Post.hits/);
    expect(() => costReport(inputs, { computeHour: Number.NaN })).toThrow(/prices.computeHour/);
    expect(() => costReport({ ...inputs, windowMs: 0 })).toThrow(/windowMs/);
  });
});
