import { describe, expect, it } from "vitest";
import { seededRandom, zipf } from "../../../bench/zipf.ts";
import { MissRatioCurve } from "../../../src/insight/miss-ratio-curve.ts";
import { memoryStore } from "../../../src/stores/memory-store.ts";

describe("miss-ratio curve vs the memory store", () => {
  it("predicts the memory store's hit ratio within 5 points at three sizes on Zipf(1.0) over 10,000 keys", async () => {
    const next = zipf(10_000, 1.0, seededRandom(11));
    const keys = Array.from({ length: 40_000 }, () => `{pc}:e:Post:${next()}`);
    const curve = new MissRatioCurve({ maxSampledKeys: 1024 });
    for (const key of keys) curve.record(key);
    for (const maxEntries of [500, 2_000, 5_000]) {
      const store = memoryStore({ maxEntries });
      let hits = 0;
      for (const key of keys) {
        const request = { key, stamps: ["{pc}:s:*", `${key}:row`], stampLifeMs: 3_600_000 };
        const found = store.lookupNow(request);
        if (found.value !== undefined) hits++;
        else await store.fill({ ...request, fence: found.fence, value: "{}", ttlMs: 3_600_000, swrMs: 0, loadMs: 1 });
      }
      expect(Math.abs(curve.hitRatioAt(maxEntries) - hits / keys.length)).toBeLessThan(0.05);
    }
  }, 30_000); // 40,000 lookups at three sizes: seconds on a loaded 2-core machine
});
