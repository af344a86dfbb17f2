import { describe, expect, it } from "vitest";
import { CacheInsight } from "../../../src/insight/insight.ts";

describe("CacheInsight", () => {
  it("turns hits, misses and refreshes into the cost report and the sizing curve", () => {
    let now = 0;
    const insight = new CacheInsight({}, () => now);
    for (let round = 0; round < 10; round++) {
      for (let k = 0; k < 100; k++) {
        const plan = { model: "Post", key: `post:${k}` };
        if (round === 0) {
          insight.miss(plan);
          insight.loaded(plan, 4);
        } else insight.hit(plan, undefined, 50, k % 2 === 0);
      }
    }
    insight.refresh({ model: "Post" });
    insight.loaded({ model: "Post" }, 6);
    now = 60_000;
    const report = insight.report({ prices: { dbReadsPerMillion: 1 }, targetHitRatio: 0.9 }, { storeRoundTrips: 10, bytesHeld: 5_000 });
    expect(report.byModel.Post).toMatchObject({ hits: 900, misses: 100, hitRatio: 0.9, l1HitRatio: 0.5, readsSaved: 899, refreshes: 1 });
    // Mean of 100 loads of 4 ms and one of 6 ms.
    expect(report.byModel.Post!.timeSavedMs).toBeCloseTo(900 * (406 / 101) - 406 / 101, 6);
    expect(report.windowMs).toBe(60_000);
    expect(report.sizing!.recommendation!.entries).toBeGreaterThanOrEqual(99);
    expect(report.sizing!.recommendation!.entries).toBeLessThanOrEqual(101);
  });

  it("starts a new counting window on reset", () => {
    const insight = new CacheInsight(undefined);
    insight.hit({ model: "User", key: "u:1" }, undefined, 10, false);
    insight.reset();
    const report = insight.report({}, { storeRoundTrips: 0, bytesHeld: 0 });
    expect(report.byModel).toEqual({});
    expect(report.sizing).toBeUndefined();
  });
});
