import { describe, expect, it } from "vitest";
import { Metrics } from "../../src/metrics.ts";

describe("Metrics", () => {
  it("starts with every counter at zero", () => {
    const { byModel, circuitOpen, ...counts } = new Metrics().snapshot();
    expect(byModel).toEqual({});
    expect(circuitOpen).toBe(false);
    expect(counts).toMatchObject({ hits: 0, misses: 0, stale: 0, l1Hits: 0, fills: 0, fillsRefused: 0, oversize: 0, bypasses: 0, invalidations: 0, errors: 0 });
    expect(Object.values(counts).every((count) => count === 0)).toBe(true);
  });

  it("counts hits, stale hits, in-process hits and misses, in total and per model", () => {
    const metrics = new Metrics();
    metrics.hit("User", false, true);
    metrics.hit("User", true, false);
    metrics.miss("User");
    metrics.miss("Post");
    metrics.count("fills", 2);
    metrics.count("bypasses");
    expect(metrics.snapshot()).toMatchObject({
      hits: 2,
      stale: 1,
      l1Hits: 1,
      misses: 2,
      fills: 2,
      bypasses: 1,
      byModel: { User: { hits: 2, misses: 1 }, Post: { hits: 0, misses: 1 } },
    });
  });

  it("returns a copy that later counts do not change", () => {
    const metrics = new Metrics();
    metrics.hit("User", false, false);
    const snapshot = metrics.snapshot();
    metrics.hit("User", false, false);
    snapshot.byModel.User!.hits = 100;
    expect(snapshot.hits).toBe(1);
    expect(metrics.snapshot().byModel.User).toEqual({ hits: 2, misses: 0 });
  });

  it("resets every counter and the per-model counts", () => {
    const metrics = new Metrics();
    metrics.hit("User", true, true);
    metrics.count("errors");
    metrics.reset();
    expect(metrics.snapshot()).toMatchObject({ hits: 0, stale: 0, l1Hits: 0, errors: 0, byModel: {} });
  });
});
