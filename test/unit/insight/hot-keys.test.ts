import { describe, expect, it } from "vitest";
import { HotKeySketch } from "../../../src/insight/hot-keys.ts";

describe("HotKeySketch", () => {
  it("counts exactly while fewer keys than counters were seen", () => {
    const sketch = new HotKeySketch(8);
    for (const key of ["a", "b", "a", "c", "a", "b"]) sketch.record(key);
    expect(sketch.top(3)).toEqual([
      { key: "a", count: 3, error: 0, guaranteed: true },
      { key: "b", count: 2, error: 0, guaranteed: true },
      { key: "c", count: 1, error: 0, guaranteed: true },
    ]);
  });

  it("keeps the heavy hitters of a long tail with counts that bound the truth", () => {
    const sketch = new HotKeySketch(50);
    const truth = new Map<string, number>();
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 50_000; i++) {
      // Ten hot keys take half the reads; the rest spread over 10,000 keys.
      const key = random() < 0.5 ? `hot${Math.floor(random() * 10)}` : `cold${Math.floor(random() * 10_000)}`;
      truth.set(key, (truth.get(key) ?? 0) + 1);
      sketch.record(key);
    }
    const top = sketch.top(10);
    expect(top.map((hot) => hot.key).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `hot${i}`).sort());
    for (const hot of top) {
      const exact = truth.get(hot.key)!;
      expect(hot.count).toBeGreaterThanOrEqual(exact);
      expect(hot.count - hot.error).toBeLessThanOrEqual(exact);
      expect(hot.guaranteed).toBe(true);
    }
    // Space-Saving's bound: any error is at most total / capacity.
    expect(Math.max(...sketch.top().map((hot) => hot.error))).toBeLessThanOrEqual(50_000 / 50);
  });

  it("never holds more counters than its capacity", () => {
    const sketch = new HotKeySketch(16);
    for (let i = 0; i < 10_000; i++) sketch.record(`k${i}`);
    expect(sketch.top()).toHaveLength(16);
    expect(sketch.total).toBe(10_000);
  });

  it("decays so a shifted workload takes over", () => {
    const sketch = new HotKeySketch(4);
    for (let i = 0; i < 100; i++) sketch.record("old");
    for (let round = 0; round < 5; round++) sketch.decay();
    for (let i = 0; i < 10; i++) sketch.record("new");
    expect(sketch.top(1)[0]!.key).toBe("new");
  });
});
